// The camera: which part of the infinite board the screen shows, and at what zoom.
//
// Owns the screen ↔ board mapping, zooming around a point within the 10 %–800 % range,
// zoom to fit a box and the zoom steps. Pure values and functions; never draws and never
// touches the document.

import type { Box, Point } from '../board/geometry';

/** The board point at the screen's top-left corner, and the zoom (screen px per board unit). */
export interface Camera {
  x: number;
  y: number;
  zoom: number;
}

/** The smallest zoom (10 %). */
export const MIN_ZOOM = 0.1;
/** The largest zoom (800 %). */
export const MAX_ZOOM = 8;
/** The zoom levels zoom in/out step through. */
export const ZOOM_STEPS = [0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6, 8];

/** `z` held to the allowed range. */
export function clampZoom(z: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
}

/** The board point under the screen point `p` (CSS px relative to the canvas). */
export function screenToBoard(c: Camera, p: Point): Point {
  return { x: c.x + p.x / c.zoom, y: c.y + p.y / c.zoom };
}

/** The screen point (CSS px relative to the canvas) showing the board point `p`. */
export function boardToScreen(c: Camera, p: Point): Point {
  return { x: (p.x - c.x) * c.zoom, y: (p.y - c.y) * c.zoom };
}

/** The board box visible on a `w` × `h` screen. */
export function visibleBox(c: Camera, w: number, h: number): Box {
  return { minX: c.x, minY: c.y, maxX: c.x + w / c.zoom, maxY: c.y + h / c.zoom };
}

/** The camera moved by a screen distance (dragging the board by `dx`, `dy` px). */
export function panBy(c: Camera, dx: number, dy: number): Camera {
  return { x: c.x - dx / c.zoom, y: c.y - dy / c.zoom, zoom: c.zoom };
}

/** The camera at zoom `z` (clamped) keeping the board point under the screen point `p` in place. */
export function zoomAt(c: Camera, z: number, p: Point): Camera {
  const zoom = clampZoom(z);
  const b = screenToBoard(c, p);
  return { x: b.x - p.x / zoom, y: b.y - p.y / zoom, zoom };
}

/** The next zoom step above (`dir = 1`) or below (`dir = -1`) `z`. */
export function stepZoom(z: number, dir: 1 | -1): number {
  if (dir === 1) return ZOOM_STEPS.find((s) => s > z + 1e-6) ?? MAX_ZOOM;
  return [...ZOOM_STEPS].reverse().find((s) => s < z - 1e-6) ?? MIN_ZOOM;
}

/**
 * The camera showing `box` whole and centred on a `w` × `h` screen with `padding` px
 * around it, at most at `maxZoom` (so a tiny selection is not blown up past 100 % by default).
 */
export function fitBox(box: Box, w: number, h: number, padding = 48, maxZoom = 1): Camera {
  const bw = Math.max(box.maxX - box.minX, 1);
  const bh = Math.max(box.maxY - box.minY, 1);
  const zoom = clampZoom(Math.min((w - 2 * padding) / bw, (h - 2 * padding) / bh, maxZoom));
  const cx = (box.minX + box.maxX) / 2;
  const cy = (box.minY + box.maxY) / 2;
  return { x: cx - w / 2 / zoom, y: cy - h / 2 / zoom, zoom };
}
