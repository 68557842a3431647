// Presence through awareness: what this person publishes and what the others show.
//
// Owns the awareness fields the editor uses (`user`, `cursor`, `selection`, `gesture`,
// `laser`, `viewport`): publishing them throttled (~30 Hz), reading peers' states with
// validation (a peer may send anything), laser trails with their fade, and the remote
// cursors as DOM elements (`data-testid="remote-cursor"`, the name in the person's
// colour). Never touches the document.

import type { Awareness } from 'y-protocols/awareness';
import type { Box, Point } from '../board/geometry';
import { readPlainElement } from '../board/schema';
import type { BoardElement } from '../board/types';
import { boardToScreen, type Camera } from '../canvas/camera';
import { textOn } from '../sync/identity';
import type { Preview } from '../tools/types';

/** Who a person is, as awareness carries it. */
export interface PeerUser {
  id: string;
  name: string;
  colour: string;
}

/** One other person on the board, read from their awareness state. */
export interface Peer {
  clientId: number;
  user: PeerUser;
  cursor: Point | null;
  selection: string[];
  gesture: Preview | null;
  laser: [number, number, number][];
  viewport: { x: number; y: number; zoom: number; w: number; h: number } | null;
}

/** How long a laser point stays visible, in ms. */
export const LASER_MS = 1000;
const PUBLISH_MS = 33;
const MAX_PREVIEW_ELEMENTS = 200;

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function readPoint(v: unknown): Point | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  return isNum(o.x) && isNum(o.y) ? { x: o.x, y: o.y } : null;
}

function readBox(v: unknown): Box | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  return isNum(o.minX) && isNum(o.minY) && isNum(o.maxX) && isNum(o.maxY)
    ? { minX: o.minX, minY: o.minY, maxX: o.maxX, maxY: o.maxY }
    : null;
}

function readStrings(v: unknown, max: number): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string').slice(0, max) : [];
}

function readGesture(v: unknown): Preview | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const out: Preview = {};
  if (Array.isArray(o.elements)) {
    out.elements = o.elements
      .slice(0, MAX_PREVIEW_ELEMENTS)
      .map(readPlainElement)
      .filter((e): e is BoardElement => e !== null);
  }
  const marquee = readBox(o.marquee);
  if (marquee) out.marquee = marquee;
  if (o.replaces !== undefined) out.replaces = readStrings(o.replaces, MAX_PREVIEW_ELEMENTS);
  return out;
}

/** A peer's awareness state, validated; null for states without a user. */
export function readPeer(clientId: number, state: Record<string, unknown>): Peer | null {
  const u = state.user as Record<string, unknown> | undefined;
  if (typeof u !== 'object' || u === null || typeof u.name !== 'string') return null;
  const user: PeerUser = {
    id: typeof u.id === 'string' ? u.id : String(clientId),
    name: u.name.slice(0, 80),
    colour:
      typeof u.colour === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(u.colour) ? u.colour : '#868e96',
  };
  const laser = Array.isArray(state.laser)
    ? (state.laser as unknown[])
        .filter(
          (p): p is [number, number, number] =>
            Array.isArray(p) && p.length === 3 && p.every(isNum),
        )
        .slice(-200)
    : [];
  const vp = state.viewport as Record<string, unknown> | undefined;
  const viewport =
    typeof vp === 'object' &&
    vp !== null &&
    isNum(vp.x) &&
    isNum(vp.y) &&
    isNum(vp.zoom) &&
    isNum(vp.w) &&
    isNum(vp.h) &&
    vp.zoom > 0
      ? { x: vp.x, y: vp.y, zoom: vp.zoom, w: vp.w, h: vp.h }
      : null;
  return {
    clientId,
    user,
    cursor: readPoint(state.cursor),
    selection: readStrings(state.selection, 10_000),
    gesture: readGesture(state.gesture),
    laser,
    viewport,
  };
}

/** Publishes this person's fields, merging what changes within one ~30 Hz tick into one update. */
export class Publisher {
  private pending: Record<string, unknown> = {};
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = 0;

  constructor(private readonly awareness: Awareness) {}

  /** Sets a field; it goes out at the next tick. */
  set(field: string, value: unknown): void {
    this.pending[field] = value;
    const wait = PUBLISH_MS - (performance.now() - this.lastFlush);
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Sends what is pending now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lastFlush = performance.now();
    const fields = this.pending;
    this.pending = {};
    const current = this.awareness.getLocalState();
    if (current === null) return;
    this.awareness.setLocalState({ ...current, ...fields });
  }

  /** Stops the timer (pending fields are dropped). */
  destroy(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Remote cursors as DOM elements over the canvas, one per peer with a cursor. */
export class CursorLayer {
  private readonly els = new Map<number, HTMLElement>();

  constructor(private readonly host: HTMLElement) {}

  /** Places (or creates, or removes) each peer's cursor for the camera. */
  update(peers: readonly Peer[], camera: Camera): void {
    const seen = new Set<number>();
    for (const peer of peers) {
      if (!peer.cursor) continue;
      seen.add(peer.clientId);
      let el = this.els.get(peer.clientId);
      if (!el) {
        el = document.createElement('div');
        el.dataset.testid = 'remote-cursor';
        el.className = 'easel-remote-cursor';
        el.setAttribute('aria-hidden', 'true');
        el.style.cssText =
          'position:absolute;left:0;top:0;pointer-events:none;z-index:3;will-change:transform;transition:transform 60ms linear;';
        const arrow = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
        arrow.setAttribute('width', '18');
        arrow.setAttribute('height', '18');
        arrow.setAttribute('viewBox', '0 0 18 18');
        arrow.innerHTML =
          '<path d="M2 1.5 L15.5 8.6 L9.3 10.2 L6.4 16.2 Z" stroke="#fff" stroke-width="1.5" stroke-linejoin="round"/>';
        const label = document.createElement('span');
        label.style.cssText =
          'position:absolute;left:14px;top:16px;padding:2px 7px;border-radius:6px;font:500 12px/1.4 system-ui,sans-serif;white-space:nowrap;box-shadow:0 1px 3px rgba(0,0,0,.2);';
        el.append(arrow, label);
        this.host.append(el);
        this.els.set(peer.clientId, el);
      }
      const path = el.querySelector('path');
      path?.setAttribute('fill', peer.user.colour);
      const label = el.querySelector('span');
      if (label) {
        if (label.textContent !== peer.user.name) label.textContent = peer.user.name;
        label.style.background = peer.user.colour;
        label.style.color = textOn(peer.user.colour);
      }
      const s = boardToScreen(camera, peer.cursor);
      el.style.transform = `translate(${Math.round(s.x)}px, ${Math.round(s.y)}px)`;
    }
    for (const [id, el] of this.els) {
      if (!seen.has(id)) {
        el.remove();
        this.els.delete(id);
      }
    }
  }

  /** Removes every cursor. */
  destroy(): void {
    for (const el of this.els.values()) el.remove();
    this.els.clear();
  }
}
