import { describe, expect, it } from 'vitest';
import { corners } from '../../src/board/geometry';
import {
  handlePoint,
  resizeElements,
  resizeFrame,
  rotateElements,
  selectionFrame,
  translateElements,
} from '../../src/tools/transform';
import { element } from '../board/helpers';

describe('selection transforms', () => {
  it('frames one element by its own box and several by the box around them', () => {
    const a = element('a', 'rect', { x: 0, y: 0, w: 10, h: 10, rot: 30 });
    expect(selectionFrame([a])).toEqual({ x: 0, y: 0, w: 10, h: 10, rot: 30 });
    const b = { ...element('b', 'rect', { x: 100, y: 50, w: 20, h: 20 }), width: 0 };
    const c = { ...element('c', 'rect', { x: -10, y: 0, w: 5, h: 5 }), width: 0 };
    expect(selectionFrame([b, c])).toEqual({ x: -10, y: 0, w: 130, h: 70, rot: 0 });
  });

  it('keeps the opposite corner fixed when resizing, rotated or not', () => {
    const f = { x: 0, y: 0, w: 100, h: 50, rot: 0 };
    expect(resizeFrame(f, 'se', { x: 200, y: 150 }, false)).toEqual({
      x: 0,
      y: 0,
      w: 200,
      h: 150,
      rot: 0,
    });
    expect(resizeFrame(f, 'e', { x: 40, y: 999 }, false)).toEqual({
      x: 0,
      y: 0,
      w: 40,
      h: 50,
      rot: 0,
    });
    const r = { x: 0, y: 0, w: 100, h: 50, rot: 90 };
    const fixed = handlePoint(r, 'nw');
    const next = resizeFrame(
      r,
      'se',
      handlePoint({ ...r, w: 200, h: 100, x: r.x, y: r.y }, 'se'),
      false,
    );
    const nw = handlePoint(next, 'nw');
    expect(nw.x).toBeCloseTo(fixed.x);
    expect(nw.y).toBeCloseTo(fixed.y);
  });

  it('keeps proportions with shift', () => {
    const f = { x: 0, y: 0, w: 100, h: 50, rot: 0 };
    const r = resizeFrame(f, 'se', { x: 300, y: 60 }, true);
    expect(r.w / r.h).toBeCloseTo(2);
    expect(r.w).toBeCloseTo(300);
  });

  it('scales elements, pen points and text size with the frame', () => {
    const pen = element('p', 'pen', { x: 0, y: 0, w: 100, h: 50 });
    const text = { ...element('t', 'text', { x: 0, y: 0, w: 100, h: 50 }), fontSize: 20 };
    const from = { x: 0, y: 0, w: 100, h: 50, rot: 0 };
    const to = { x: 0, y: 0, w: 200, h: 100, rot: 0 };
    const out = resizeElements([pen, text], from, to);
    expect(out.geoms.get('p')).toEqual({ x: 0, y: 0, w: 200, h: 100, rot: 0 });
    expect(out.points.get('p')).toEqual([0, 0, 100, 50, 200, 100]);
    expect(out.fontSizes.get('t')).toBe(40);
  });

  it('moves and rotates around the selection centre', () => {
    const a = element('a', 'rect', { x: 0, y: 0, w: 10, h: 10 });
    expect(translateElements([a], 5, -5).get('a')).toEqual({ x: 5, y: -5, w: 10, h: 10, rot: 0 });
    const g = rotateElements([a], { x: 20, y: 5 }, 180).get('a')!;
    expect(g.x).toBeCloseTo(30);
    expect(g.y).toBeCloseTo(0);
    expect(g.rot).toBe(180);
    expect(corners(g)[0]!.x).toBeCloseTo(40);
  });
});
