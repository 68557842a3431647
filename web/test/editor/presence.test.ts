import { describe, expect, it } from 'vitest';
import { readPeer } from '../../src/editor/presence';

describe('reading peers from awareness', () => {
  it('reads a well-formed state', () => {
    const peer = readPeer(7, {
      user: { id: 'u1', name: 'Ada', colour: '#1971c2' },
      cursor: { x: 1, y: 2 },
      selection: ['a', 'b'],
      gesture: {
        elements: [{ id: 'x', type: 'rect', geom: { x: 0, y: 0, w: 5, h: 5, rot: 0 } }],
        replaces: ['a'],
      },
      laser: [[1, 2, 3]],
      viewport: { x: 0, y: 0, zoom: 1, w: 800, h: 600 },
    })!;
    expect(peer.user.name).toBe('Ada');
    expect(peer.cursor).toEqual({ x: 1, y: 2 });
    expect(peer.gesture?.elements?.[0]?.type).toBe('rect');
    expect(peer.gesture?.replaces).toEqual(['a']);
    expect(peer.viewport?.w).toBe(800);
  });

  it('drops what a hostile or broken peer sends', () => {
    expect(readPeer(1, { cursor: { x: 1, y: 1 } })).toBeNull();
    const peer = readPeer(2, {
      user: { name: 'Eve', colour: 'url(javascript:x)' },
      cursor: { x: 'NaN', y: 1 },
      selection: 'all',
      gesture: { elements: [{ id: 'x', type: 'script', geom: {} }, 'junk'] },
      laser: [[1, 2], 'x'],
      viewport: { x: 0, y: 0, zoom: 0, w: 1, h: 1 },
    })!;
    expect(peer.user.colour).toBe('#868e96');
    expect(peer.cursor).toBeNull();
    expect(peer.selection).toEqual([]);
    expect(peer.gesture?.elements).toEqual([]);
    expect(peer.laser).toEqual([]);
    expect(peer.viewport).toBeNull();
  });
});
