// Unit tests of the sync layer's pure parts: the socket URL, the connection state, user
// colours, and the presence list's reading of awareness states.
import { describe, expect, it } from 'vitest';
import { boardsSocketUrl, connectionState } from '../src/sync/connection';
import { colourFor, PALETTE, presenceFor } from '../src/sync/identity';
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

describe('peersOf', () => {
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
