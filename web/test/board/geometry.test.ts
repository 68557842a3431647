import { describe, expect, it } from 'vitest';
import {
  edgePoint,
  elementBounds,
  geomFromEnds,
  hitTest,
  insideBox,
  lineEnds,
  rotatePoint,
  segmentHits,
} from '../../src/board/geometry';
import { element } from './helpers';

describe('geometry', () => {
  it('rotates clockwise in screen axes', () => {
    const p = rotatePoint({ x: 10, y: 0 }, { x: 0, y: 0 }, 90);
    expect(p.x).toBeCloseTo(0);
    expect(p.y).toBeCloseTo(10);
  });

  it('reads line ends the way the server draws them, negative sizes included', () => {
    expect(lineEnds({ x: 0, y: 0, w: 10, h: 20, rot: 0 })).toEqual([
      { x: 0, y: 0 },
      { x: 10, y: 20 },
    ]);
    expect(lineEnds({ x: 0, y: 0, w: -10, h: 20, rot: 0 })).toEqual([
      { x: 10, y: 0 },
      { x: 0, y: 20 },
    ]);
    const g = geomFromEnds({ x: 30, y: 5 }, { x: 10, y: 25 });
    expect(g).toEqual({ x: 10, y: 5, w: -20, h: 20, rot: 0 });
    expect(lineEnds(g)).toEqual([
      { x: 30, y: 5 },
      { x: 10, y: 25 },
    ]);
  });

  it('bounds a rotated rectangle by its turned corners', () => {
    const b = elementBounds({ ...element('r', 'rect', { w: 100, h: 100, rot: 45 }), width: 0 });
    expect(b.minX).toBeCloseTo(50 - 50 * Math.SQRT2);
    expect(b.maxY).toBeCloseTo(50 + 50 * Math.SQRT2);
  });

  it('hits an unfilled rectangle only near its outline', () => {
    const r = element('r', 'rect');
    expect(hitTest(r, { x: 1, y: 25 }, 2)).toBe(true);
    expect(hitTest(r, { x: 50, y: 25 }, 2)).toBe(false);
    expect(hitTest({ ...r, fill: '#ffc9c9' }, { x: 50, y: 25 }, 2)).toBe(true);
    expect(hitTest(r, { x: 150, y: 25 }, 2)).toBe(false);
  });

  it('hits ellipses, lines, pens and stickies where they are drawn', () => {
    const e = element('e', 'ellipse');
    expect(hitTest(e, { x: 100, y: 25 }, 2)).toBe(true);
    expect(hitTest(e, { x: 2, y: 2 }, 2)).toBe(false);
    const l = element('l', 'line');
    expect(hitTest(l, { x: 50, y: 25 }, 2)).toBe(true);
    expect(hitTest(l, { x: 50, y: 0 }, 2)).toBe(false);
    const p = element('p', 'pen');
    expect(hitTest(p, { x: 75, y: 37 }, 2)).toBe(true);
    expect(hitTest(p, { x: 90, y: 5 }, 2)).toBe(false);
    expect(hitTest(element('s', 'sticky'), { x: 50, y: 25 }, 0)).toBe(true);
  });

  it('hits a rotated rectangle in its own frame', () => {
    const r = { ...element('r', 'rect', { w: 100, h: 10, rot: 90 }), fill: '#000' };
    expect(hitTest(r, { x: 50, y: 40 }, 0)).toBe(true);
    expect(hitTest(r, { x: 5, y: 5 }, 0)).toBe(false);
  });

  it('selects by marquee only what lies wholly inside', () => {
    const r = element('r', 'rect', { x: 10, y: 10, w: 20, h: 20 });
    expect(insideBox(r, { minX: 0, minY: 0, maxX: 50, maxY: 50 })).toBe(true);
    expect(insideBox(r, { minX: 0, minY: 0, maxX: 25, maxY: 50 })).toBe(false);
  });

  it('finds an eraser path crossing a shape between two samples', () => {
    const l = element('l', 'line', { x: 50, y: 0, w: 0, h: 100 });
    expect(segmentHits(l, { x: 0, y: 50 }, { x: 100, y: 50 }, 2)).toBe(true);
    expect(segmentHits(l, { x: 0, y: 150 }, { x: 100, y: 150 }, 2)).toBe(false);
  });

  it('lands a bound arrow on the edge of a box or an ellipse', () => {
    const g = { x: 0, y: 0, w: 100, h: 100, rot: 0 };
    const onBox = edgePoint(g, { x: 300, y: 50 }, false, 0);
    expect(onBox.x).toBeCloseTo(100);
    expect(onBox.y).toBeCloseTo(50);
    const onEllipse = edgePoint(g, { x: 50, y: -300 }, true, 4);
    expect(onEllipse.x).toBeCloseTo(50);
    expect(onEllipse.y).toBeCloseTo(-4);
  });
});
