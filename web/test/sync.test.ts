// Unit tests of the sync layer's pure parts: the socket URL, the connection state, user
// colours, and the presence list's reading of awareness states.
import { describe, expect, it } from 'vitest';
import { boardsSocketUrl, connectionState } from '../src/sync/connection';
import { colourFor, PALETTE, presenceFor, resolveColours, textOn } from '../src/sync/identity';
import { peersOf } from '../src/ui/presence';

describe('boardsSocketUrl', () => {
  it('maps http to ws and https to wss, same host', () => {
    expect(boardsSocketUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/ws/boards');
    expect(boardsSocketUrl('https://easel.example')).toBe('wss://easel.example/ws/boards');
  });
});

describe('connectionState', () => {
  it('is offline whenever the browser is', () => {
    expect(connectionState(false, true)).toBe('offline');
    expect(connectionState(false, false)).toBe('offline');
  });
  it('is connected or reconnecting when online', () => {
    expect(connectionState(true, true)).toBe('connected');
    expect(connectionState(true, false)).toBe('reconnecting');
  });
});

describe('identity', () => {
  it('gives each user a stable palette colour', () => {
    expect(colourFor('u1')).toBe(colourFor('u1'));
    expect(PALETTE).toContain(colourFor('someone'));
    const spread = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(colourFor));
    expect(spread.size).toBeGreaterThan(2);
  });
  it('falls back from name to email', () => {
    expect(presenceFor({ id: 'x', name: null, email: 'a@b.c', admin: false }).name).toBe('a@b.c');
    expect(presenceFor({ id: 'x', name: 'Ann', email: 'a@b.c', admin: false }).name).toBe('Ann');
  });
});

/** Awareness states for the given user ids, client ids 1, 2, 3... in that order. */
function statesOf(...ids: string[]): Map<number, Record<string, unknown>> {
  return new Map(ids.map((id, i) => [i + 1, { user: { id, name: id, colour: '#000' } }]));
}

/** Two distinct user ids whose own colours are the same. */
function collidingIds(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const id = `user-${i}`;
    const other = seen.get(colourFor(id));
    if (other !== undefined) return [other, id];
    seen.set(colourFor(id), id);
  }
}

describe('textOn', () => {
  it('puts dark text on light colours and white text on dark ones', () => {
    expect(textOn('#d6a300')).toBe('#1a1a1a');
    expect(textOn('#ffffff')).toBe('#1a1a1a');
    expect(textOn('#3e63dd')).toBe('#fff');
    expect(textOn('#e5484d')).toBe('#fff');
    expect(textOn('var(--accent)')).toBe('#fff');
  });
});

describe('resolveColours', () => {
  it('keeps the colour of the user id when nobody else has it', () => {
    const [a] = collidingIds();
    expect(resolveColours(statesOf(a)).get(1)).toBe(colourFor(a));
  });
  it('gives the later of two colliding people the next free palette colour', () => {
    const [a, b] = collidingIds();
    const colours = resolveColours(statesOf(a, b));
    expect(colours.get(1)).toBe(colourFor(a));
    const next = PALETTE[(PALETTE.indexOf(colourFor(b) as never) + 1) % PALETTE.length];
    expect(colours.get(2)).toBe(next);
  });
  it('moves a person whose colour is close in hue to one taken (green beside teal)', () => {
    const idWith = (colour: string) => {
      for (let i = 0; ; i++) if (colourFor(`id-${i}`) === colour) return `id-${i}`;
    };
    const colours = resolveColours(statesOf(idWith('#30a46c'), idWith('#12a594')));
    expect(colours.get(1)).toBe('#30a46c');
    expect(colours.get(2)).not.toBe('#12a594');
    expect(colours.get(2)).not.toBe('#30a46c');
  });
  it('is the same whatever order the states arrive in', () => {
    const [a, b] = collidingIds();
    const forward = resolveColours(statesOf(a, b, 'c'));
    const reversed = resolveColours(new Map([...statesOf(a, b, 'c')].reverse()));
    expect([...reversed].sort()).toEqual([...forward].sort());
  });
  it('gives every person present a distinct colour, up to the palette size', () => {
    const ids = Array.from({ length: PALETTE.length }, (_, i) => `person-${i}`);
    const colours = resolveColours(statesOf(...ids));
    expect(new Set(colours.values()).size).toBe(PALETTE.length);
  });
  it('gives two tabs of one person the same colour and skips clients without a user', () => {
    const states = statesOf('ann', 'bob', 'ann');
    states.set(9, { cursor: null });
    const colours = resolveColours(states);
    expect(colours.get(3)).toBe(colours.get(1));
    expect(colours.get(2)).not.toBe(colours.get(1));
    expect(colours.has(9)).toBe(false);
  });
});

describe('peersOf', () => {
  it('lists a person with several tabs once, as this tab when it is one of them', () => {
    const states = statesOf('ann', 'bob', 'ann', 'bob');
    expect(peersOf(states, 3).map((p) => [p.clientId, p.self])).toEqual([
      [3, true],
      [2, false],
    ]);
  });
  it('shows each person in their resolved colour, not the one they advertise', () => {
    const [a, b] = collidingIds();
    const peers = peersOf(statesOf(a, b), 1);
    expect(peers[0]?.user.colour).toBe(colourFor(a));
    expect(peers[1]?.user.colour).not.toBe(colourFor(a));
  });
  it('lists people with a user field, self first, then by name', () => {
    const states = new Map<number, Record<string, unknown>>([
      [3, { user: { id: 'c', name: 'Zoe', colour: '#000' } }],
      [1, { user: { id: 'a', name: 'Bob', colour: '#111' } }],
      [2, { user: { id: 'b', name: 'Amy', colour: '#222' } }],
      [4, { cursor: { x: 1, y: 2 } }],
    ]);
    const peers = peersOf(states, 1);
    expect(peers.map((p) => p.user.name)).toEqual(['Bob', 'Amy', 'Zoe']);
    expect(peers[0]?.self).toBe(true);
  });
});
