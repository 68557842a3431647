import { describe, expect, it } from 'vitest';
import { bindingsTouching, carryPoint, followBindings } from '../../src/board/bindings';
import { lineEnds } from '../../src/board/geometry';
import { element } from './helpers';

describe('bindings', () => {
  it('carries a point with its shape through a move, a resize and a rotation', () => {
    const before = { x: 0, y: 0, w: 100, h: 100, rot: 0 };
    expect(carryPoint({ x: 100, y: 50 }, before, { ...before, x: 10 })).toEqual({ x: 110, y: 50 });
    expect(carryPoint({ x: 100, y: 50 }, before, { ...before, w: 200 })).toEqual({ x: 200, y: 50 });
    const turned = carryPoint({ x: 100, y: 50 }, before, { ...before, rot: 90 });
    expect(turned.x).toBeCloseTo(50);
    expect(turned.y).toBeCloseTo(100);
  });

  it('moves both ends of an arrow bound at both ends, and leaves arrows that move themselves', () => {
    const a = element('a', 'rect', { x: 0, y: 0, w: 10, h: 10 });
    const b = element('b', 'rect', { x: 100, y: 0, w: 10, h: 10 });
    const arrow = element('arr', 'arrow', { x: 10, y: 5, w: 90, h: 0 });
    const els = new Map([a, b, arrow].map((e) => [e.id, e]));
    const binds = [
      { from: 'arr', to: 'a', anchor: 'start' as const },
      { from: 'arr', to: 'b', anchor: 'end' as const },
    ];
    const moved = new Map([
      ['a', { ...a.geom, y: 20 }],
      ['b', { ...b.geom, y: 40 }],
    ]);
    const out = followBindings(els, binds, moved);
    expect(lineEnds(out.get('arr')!)).toEqual([
      { x: 10, y: 25 },
      { x: 100, y: 45 },
    ]);
    moved.set('arr', arrow.geom);
    expect(followBindings(els, binds, moved).size).toBe(0);
  });

  it('finds the bindings to drop with a deleted element', () => {
    const binds: [string, { from: string; to: string; anchor: 'start' | 'end' }][] = [
      ['x:start', { from: 'x', to: 'a', anchor: 'start' }],
      ['y:end', { from: 'y', to: 'b', anchor: 'end' }],
    ];
    expect(bindingsTouching(binds, new Set(['a']))).toEqual(['x:start']);
    expect(bindingsTouching(binds, new Set(['y']))).toEqual(['y:end']);
  });
});
