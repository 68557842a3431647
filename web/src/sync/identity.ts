// Who this browser is on a board, as others see it through awareness: id, display name and
// a colour stable per user. Also remembers the last signed-in user and each board's role in
// localStorage, so a board opened once reopens offline. Owns these records only.
import type { Role, UserView } from '../api/types';

/** The identity carried in the awareness `user` field. */
export interface PresenceUser {
  id: string;
  name: string;
  colour: string;
}

/**
 * Cursor and selection colours: twelve well-separated hues, each readable on the light and
 * the dark canvas. Neighbours in this order contrast strongly, since a person whose colour
 * is taken gets the next one.
 */
export const PALETTE = [
  '#e5484d',
  '#0090ff',
  '#d6a300',
  '#8e4ec6',
  '#30a46c',
  '#d6409f',
  '#12a594',
  '#f76b15',
  '#3e63dd',
  '#7ba31a',
  '#a18072',
  '#6b7a90',
] as const;

function paletteIndex(id: string): number {
  let hash = 2166136261;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0) % PALETTE.length;
}

/** A colour chosen from the user id, the same on every device (before collisions are resolved). */
export function colourFor(id: string): string {
  return PALETTE[paletteIndex(id)] as string;
}

/** The hue of a `#rrggbb` colour, in degrees. */
function hueOf(colour: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16) / 255) as [
    number,
    number,
    number,
  ];
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return 0;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

const HUES = PALETTE.map(hueOf);
/** Palette entries closer in hue than this read as "the same colour" side by side. */
const MIN_HUE_GAP = 30;

function hueGap(i: number, j: number): number {
  const d = Math.abs((HUES[i] ?? 0) - (HUES[j] ?? 0));
  return Math.min(d, 360 - d);
}

/**
 * The colour each awareness client shows, distinct per person present: people (by user id)
 * are taken in order of their lowest awareness client id, and each gets the colour of their
 * id unless it is taken or close in hue to one taken, else the next palette colour that is
 * neither (or, once none is left, the next free one). Every browser sees the same states,
 * so every browser resolves the same colours. Two tabs of one person share a colour; past
 * twelve people colours repeat. Clients without a user are left out.
 */
export function resolveColours(states: Map<number, Record<string, unknown>>): Map<number, string> {
  const clientsOf = new Map<string, number[]>();
  for (const clientId of [...states.keys()].sort((a, b) => a - b)) {
    const user = states.get(clientId)?.user as { id?: unknown } | undefined;
    if (typeof user !== 'object' || user === null || typeof user.id !== 'string') continue;
    const clients = clientsOf.get(user.id);
    if (clients) clients.push(clientId);
    else clientsOf.set(user.id, [clientId]);
  }
  const used: number[] = [];
  const out = new Map<number, string>();
  for (const [userId, clients] of clientsOf) {
    const wanted = paletteIndex(userId);
    const order = PALETTE.map((_, step) => (wanted + step) % PALETTE.length);
    const free = order.filter((i) => !used.includes(i));
    const pick =
      free.find((i) => used.every((u) => hueGap(i, u) >= MIN_HUE_GAP)) ?? free[0] ?? wanted;
    used.push(pick);
    for (const c of clients) out.set(c, PALETTE[pick] as string);
  }
  return out;
}

/**
 * The text colour that reads on a `#rrggbb` background: near-black on light colours (amber,
 * lime, orange), white on the rest; white for anything it cannot read.
 */
export function textOn(colour: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!m) return '#fff';
  const lin = (hex: string | undefined) => {
    const c = parseInt(hex ?? '0', 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * lin(m[1]) + 0.7152 * lin(m[2]) + 0.0722 * lin(m[3]);
  // White stays (one look for most people) unless it would contrast below 3:1.
  return luminance > 0.3 ? '#1a1a1a' : '#fff';
}

/** The presence identity of a signed-in user. */
export function presenceFor(user: UserView): PresenceUser {
  return {
    id: user.id,
    name: user.name || user.email || 'Anonymous',
    colour: colourFor(user.id),
  };
}

const USER_KEY = 'easel.lastUser';
const roleKey = (boardId: string) => `easel.role.${boardId}`;

/** Remembers the signed-in user for offline reopening. */
export function rememberUser(user: UserView): void {
  localStorage.setItem(USER_KEY, JSON.stringify(user));
}

/** The last signed-in user on this device, if any. */
export function lastUser(): UserView | null {
  try {
    const raw = localStorage.getItem(USER_KEY);
    return raw ? (JSON.parse(raw) as UserView) : null;
  } catch {
    return null;
  }
}

/** Forgets the last user (signing out). */
export function forgetUser(): void {
  localStorage.removeItem(USER_KEY);
}

/** Remembers the caller's role on a board. */
export function rememberRole(boardId: string, role: Role): void {
  localStorage.setItem(roleKey(boardId), role);
}

/** The caller's last known role on a board, if any. */
export function lastRole(boardId: string): Role | null {
  const r = localStorage.getItem(roleKey(boardId));
  return r === 'owner' || r === 'editor' || r === 'viewer' ? r : null;
}

/** Forgets a board's role (access revoked, board deleted). */
export function forgetRole(boardId: string): void {
  localStorage.removeItem(roleKey(boardId));
}
