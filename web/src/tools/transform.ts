// Moving, resizing and rotating a selection: pure geometry the select tool applies.
//
// Owns the selection frame (one element's own rotated box, or the box around several),
// its eight resize handles and rotate handle, and the new geoms (and pen points) a drag
// of any of them produces. No document, no DOM.

import {
  boundsOfPoints,
  centre,
  corners,
  elementBounds,
  rotatePoint,
  toLocal,
  unionBox,
  type Box,
  type Point,
} from '../board/geometry';
import { isTextLike, type BoardElement, type Geom } from '../board/types';

/** A resize handle, by compass point. */
export type Handle = 'nw' | 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w';
/** Every resize handle, clockwise from the top-left. */
export const HANDLES: readonly Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

/** The frame a selection is resized and rotated by: an unrotated box plus a rotation. */
export type Frame = Geom;

/** The selection's frame: a single element's own box (rotation kept), else the box around all. */
export function selectionFrame(elements: readonly BoardElement[]): Frame | null {
  const [only] = elements;
  if (!only) return null;
  if (elements.length === 1 && only.type !== 'line' && only.type !== 'arrow') {
    const g = only.geom;
    return { x: g.x, y: g.y, w: Math.abs(g.w), h: Math.abs(g.h), rot: g.rot };
  }
  let box: Box | null = null;
  for (const el of elements) {
    const b =
      el.type === 'line' || el.type === 'arrow'
        ? boundsOfPoints(corners(el.geom))
        : elementBounds(el);
    box = box ? unionBox(box, b) : b;
  }
  if (!box) return null;
  return { x: box.minX, y: box.minY, w: box.maxX - box.minX, h: box.maxY - box.minY, rot: 0 };
}

/** Where a handle sits in the frame's own unrotated coordinates. */
function handleLocal(f: Frame, h: Handle): Point {
  const x = h.includes('w') ? f.x : h.includes('e') ? f.x + f.w : f.x + f.w / 2;
  const y = h.includes('n') ? f.y : h.includes('s') ? f.y + f.h : f.y + f.h / 2;
  return { x, y };
}

/** A handle's position on the board (rotation applied). */
export function handlePoint(f: Frame, h: Handle): Point {
  return rotatePoint(handleLocal(f, h), centre(f), f.rot);
}

/** The rotate handle's position: above the top edge's middle, `offset` board units out. */
export function rotateHandlePoint(f: Frame, offset: number): Point {
  return rotatePoint({ x: f.x + f.w / 2, y: f.y - offset }, centre(f), f.rot);
}

const OPPOSITE: Record<Handle, Handle> = {
  nw: 'se',
  n: 's',
  ne: 'sw',
  e: 'w',
  se: 'nw',
  s: 'n',
  sw: 'ne',
  w: 'e',
};

/**
 * The frame after dragging `handle` to the board point `p`: the opposite handle stays put;
 * `keepAspect` (shift) keeps the proportions. Sizes may flip through zero.
 */
export function resizeFrame(f: Frame, handle: Handle, p: Point, keepAspect: boolean): Frame {
  const c = centre(f);
  const anchor = handleLocal(f, OPPOSITE[handle]);
  const q = rotatePoint(p, c, -f.rot);
  let x0 = anchor.x;
  let y0 = anchor.y;
  let x1 = q.x;
  let y1 = q.y;
  if (handle === 'n' || handle === 's') {
    x0 = f.x;
    x1 = f.x + f.w;
  }
  if (handle === 'e' || handle === 'w') {
    y0 = f.y;
    y1 = f.y + f.h;
  }
  if (keepAspect && f.w > 0 && f.h > 0) {
    const sx = Math.abs(x1 - x0) / f.w;
    const sy = Math.abs(y1 - y0) / f.h;
    const s =
      handle === 'n' || handle === 's'
        ? sy
        : handle === 'e' || handle === 'w'
          ? sx
          : Math.max(sx, sy);
    const w = f.w * s;
    const h = f.h * s;
    if (handle === 'n' || handle === 's') {
      x0 = c.x - w / 2;
      x1 = c.x + w / 2;
    } else x1 = x0 + Math.sign(x1 - x0 || 1) * w;
    if (handle === 'e' || handle === 'w') {
      y0 = c.y - h / 2;
      y1 = c.y + h / 2;
    } else y1 = y0 + Math.sign(y1 - y0 || 1) * h;
  }
  const local = {
    x: Math.min(x0, x1),
    y: Math.min(y0, y1),
    w: Math.abs(x1 - x0),
    h: Math.abs(y1 - y0),
  };
  const newCentre = rotatePoint({ x: local.x + local.w / 2, y: local.y + local.h / 2 }, c, f.rot);
  return {
    x: newCentre.x - local.w / 2,
    y: newCentre.y - local.h / 2,
    w: local.w,
    h: local.h,
    rot: f.rot,
  };
}

/** What a transform writes: new geoms, rewritten pen points and scaled font sizes. */
export interface Transformed {
  geoms: Map<string, Geom>;
  points: Map<string, number[]>;
  fontSizes: Map<string, number>;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The elements mapped from frame `from` to frame `to` (same rotation): each element's
 * position and size scale with the frame, lines keep their direction, pens' points and
 * text's font size scale too.
 */
export function resizeElements(
  elements: readonly BoardElement[],
  from: Frame,
  to: Frame,
): Transformed {
  const out: Transformed = { geoms: new Map(), points: new Map(), fontSizes: new Map() };
  const sx = from.w > 1e-9 ? to.w / from.w : 1;
  const sy = from.h > 1e-9 ? to.h / from.h : 1;
  const tc = centre(to);
  for (const el of elements) {
    const g = el.geom;
    const ec = toLocal(from, centre(g));
    const nc = rotatePoint(
      { x: to.x + (ec.x - from.x) * sx, y: to.y + (ec.y - from.y) * sy },
      tc,
      to.rot,
    );
    let w = g.w * sx;
    let h = g.h * sy;
    if (el.type === 'text') {
      const s = Math.min(Math.abs(sx), Math.abs(sy));
      out.fontSizes.set(el.id, Math.max(4, round(el.fontSize * s)));
      w = Math.abs(g.w) * s;
      h = Math.abs(g.h) * s;
    }
    if (isTextLike(el.type) || el.type === 'image' || el.type === 'rect' || el.type === 'ellipse') {
      w = Math.abs(w);
      h = Math.abs(h);
    }
    out.geoms.set(el.id, {
      x: round(nc.x - Math.abs(w) / 2),
      y: round(nc.y - Math.abs(h) / 2),
      w: round(w),
      h: round(h),
      rot: g.rot,
    });
    if (el.type === 'pen' && el.points) {
      const ax = Math.abs(g.w) > 1e-9 ? Math.abs(w) / Math.abs(g.w) : 1;
      const ay = Math.abs(g.h) > 1e-9 ? Math.abs(h) / Math.abs(g.h) : 1;
      out.points.set(
        el.id,
        el.points.map((v, i) => round(i % 2 === 0 ? v * ax : v * ay)),
      );
    }
  }
  return out;
}

/** The elements moved by `(dx, dy)` board units. */
export function translateElements(
  elements: readonly BoardElement[],
  dx: number,
  dy: number,
): Map<string, Geom> {
  const out = new Map<string, Geom>();
  for (const el of elements) {
    const g = el.geom;
    out.set(el.id, { ...g, x: round(g.x + dx), y: round(g.y + dy) });
  }
  return out;
}

/** The elements turned by `deg` degrees around `pivot` (each also turns on itself). */
export function rotateElements(
  elements: readonly BoardElement[],
  pivot: Point,
  deg: number,
): Map<string, Geom> {
  const out = new Map<string, Geom>();
  for (const el of elements) {
    const g = el.geom;
    const c = rotatePoint(centre(g), pivot, deg);
    const rot = (((g.rot + deg) % 360) + 360) % 360;
    out.set(el.id, {
      x: round(c.x - Math.abs(g.w) / 2),
      y: round(c.y - Math.abs(g.h) / 2),
      w: g.w,
      h: g.h,
      rot: round(rot),
    });
  }
  return out;
}

/** An element with a new geom (and points or font size when given), as a preview draws it. */
export function withGeom(el: BoardElement, t: Transformed | Map<string, Geom>): BoardElement {
  const geoms = t instanceof Map ? t : t.geoms;
  const g = geoms.get(el.id);
  if (!g) return el;
  const next: BoardElement = { ...el, geom: g };
  if (!(t instanceof Map)) {
    const pts = t.points.get(el.id);
    if (pts) next.points = pts;
    const fs = t.fontSizes.get(el.id);
    if (fs !== undefined) next.fontSize = fs;
  }
  return next;
}
