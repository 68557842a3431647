// The list of people on the board (`data-testid="presence"`), from awareness: a coloured
// avatar and name each (avatars only once others are present), the local user first;
// clicking someone follows their viewport (clicking again stops). Owns this list only; cursors and selections are the editor's.
import type { Awareness } from 'y-protocols/awareness';
import type { Editor } from '../editor';
import { resolveColours, textOn, type PresenceUser } from '../sync/identity';
import { h } from './dom';

/** One person present: their awareness client id and identity. */
export interface Peer {
  clientId: number;
  user: PresenceUser;
  self: boolean;
}

/**
 * The people in an awareness state map, self first, then by name; one entry per person
 * (several tabs of one person show once: this tab if it is one of them, else their
 * lowest client id), each in their resolved colour (distinct per person present).
 */
export function peersOf(states: Map<number, Record<string, unknown>>, selfId: number): Peer[] {
  const colours = resolveColours(states);
  const byUser = new Map<string, Peer>();
  for (const clientId of [...states.keys()].sort((a, b) => a - b)) {
    const u = states.get(clientId)?.user as Partial<PresenceUser> | undefined;
    if (!u || typeof u.name !== 'string' || typeof u.id !== 'string') continue;
    const self = clientId === selfId;
    if (byUser.has(u.id) && !self) continue;
    byUser.set(u.id, {
      clientId,
      user: { id: u.id, name: u.name, colour: colours.get(clientId) ?? '#868e96' },
      self,
    });
  }
  return [...byUser.values()].sort(
    (a, b) => Number(b.self) - Number(a.self) || a.user.name.localeCompare(b.user.name),
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return (
    (parts[0]?.[0] ?? '?') + (parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : '')
  ).toUpperCase();
}

/** The presence list element and its refresh function. */
export interface PresenceList {
  el: HTMLElement;
  update(): void;
}

/** Builds the presence list over a provider's awareness. */
export function createPresenceList(awareness: Awareness, editor: Editor): PresenceList {
  const list = h('ul', { class: 'presence-list' });
  const el = h(
    'div',
    { class: 'presence', 'data-testid': 'presence', 'aria-label': 'People on this board' },
    list,
  );
  let shown = '';
  const update = () => {
    const peers = peersOf(
      awareness.getStates() as Map<number, Record<string, unknown>>,
      awareness.clientID,
    );
    // Awareness changes with every cursor move: rebuild only when the list itself changed,
    // so focus on a person's button survives.
    const key = JSON.stringify([editor.following, peers.map((p) => [p.clientId, p.user])]);
    if (key === shown) return;
    shown = key;
    // With others present only avatars show (names stay for screen readers and tooltips),
    // so the list never runs under the tool bar.
    list.classList.toggle('compact', peers.length > 1);
    list.replaceChildren(
      ...peers.map((p) => {
        const following = editor.following === p.clientId;
        const label = p.self ? `${p.user.name} (you)` : p.user.name;
        const avatar = h(
          'span',
          {
            class: 'avatar',
            style: `--c:${p.user.colour};--on-c:${textOn(p.user.colour)}`,
            'aria-hidden': 'true',
          },
          initials(p.user.name),
        );
        const name = h('span', { class: 'peer-name' }, label);
        if (p.self) {
          return h('li', { class: 'peer self', title: label }, avatar, name);
        }
        const b = h(
          'button',
          {
            type: 'button',
            class: `peer${following ? ' following' : ''}`,
            title: following ? `Stop following ${p.user.name}` : `Follow ${p.user.name}`,
            'aria-pressed': String(following),
          },
          avatar,
          name,
        );
        b.addEventListener('click', () => editor.follow(following ? null : p.clientId));
        return h('li', {}, b);
      }),
    );
  };
  update();
  return { el, update };
}
