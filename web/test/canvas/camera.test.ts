import { describe, expect, it } from 'vitest';
import {
  MAX_ZOOM,
  MIN_ZOOM,
  boardToScreen,
  fitBox,
  panBy,
  screenToBoard,
  stepZoom,
  visibleBox,
  zoomAt,
} from '../../src/canvas/camera';

describe('camera', () => {
  it('maps page points 1:1 to board points at first open', () => {
    const c = { x: 0, y: 0, zoom: 1 };
    expect(screenToBoard(c, { x: 120, y: 45 })).toEqual({ x: 120, y: 45 });
  });

  it('round-trips screen and board points at any zoom', () => {
    const c = { x: -40, y: 300, zoom: 2.5 };
    const p = { x: 17, y: -3 };
    const back = screenToBoard(c, boardToScreen(c, p));
    expect(back.x).toBeCloseTo(p.x);
    expect(back.y).toBeCloseTo(p.y);
  });

  it('zooms around a point, which stays under the pointer, within 10 %–800 %', () => {
    const c = { x: 10, y: 20, zoom: 1 };
    const at = { x: 300, y: 200 };
    const before = screenToBoard(c, at);
    const z = zoomAt(c, 3, at);
    const after = screenToBoard(z, at);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
    expect(zoomAt(c, 100, at).zoom).toBe(MAX_ZOOM);
    expect(zoomAt(c, 0.001, at).zoom).toBe(MIN_ZOOM);
  });

  it('pans by screen pixels whatever the zoom', () => {
    const c = panBy({ x: 0, y: 0, zoom: 2 }, 100, -50);
    expect(c).toEqual({ x: -50, y: 25, zoom: 2 });
  });

  it('steps through the zoom levels', () => {
    expect(stepZoom(1, 1)).toBe(1.25);
    expect(stepZoom(1, -1)).toBe(0.75);
    expect(stepZoom(8, 1)).toBe(8);
    expect(stepZoom(0.1, -1)).toBe(0.1);
  });

  it('fits a box in the view, centred, never past the zoom cap', () => {
    const c = fitBox({ minX: 0, minY: 0, maxX: 2000, maxY: 1000 }, 1000, 600, 0);
    expect(c.zoom).toBeCloseTo(0.5);
    const v = visibleBox(c, 1000, 600);
    expect((v.minX + v.maxX) / 2).toBeCloseTo(1000);
    expect((v.minY + v.maxY) / 2).toBeCloseTo(500);
    expect(fitBox({ minX: 0, minY: 0, maxX: 10, maxY: 10 }, 1000, 600).zoom).toBe(1);
  });
});
