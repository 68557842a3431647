// Plane geometry for board elements: boxes, rotation, bounds, line ends and hit-testing.
//
// Owns the maths of where an element is and whether a point or a box touches it. Pure
// functions over plain values: no document, no DOM, no canvas.

import { isLinear, isTextLike, type BoardElement, type Geom } from './types';

/** A point in board coordinates. */
export interface Point {
  x: number;
  y: number;
}

/** An axis-aligned box (`minX <= maxX`, `minY <= maxY`). */
export interface Box {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The box through two corners given in any order. */
export function boxFromPoints(a: Point, b: Point): Box {
  return {
    minX: Math.min(a.x, b.x),
    minY: Math.min(a.y, b.y),
    maxX: Math.max(a.x, b.x),
    maxY: Math.max(a.y, b.y),
  };
}

/** The smallest box holding both. */
export function unionBox(a: Box, b: Box): Box {
  return {
    minX: Math.min(a.minX, b.minX),
    minY: Math.min(a.minY, b.minY),
    maxX: Math.max(a.maxX, b.maxX),
    maxY: Math.max(a.maxY, b.maxY),
  };
}

/** The overlap of two boxes, or null when they do not meet. */
export function intersectBox(a: Box, b: Box): Box | null {
  const out = {
    minX: Math.max(a.minX, b.minX),
    minY: Math.max(a.minY, b.minY),
    maxX: Math.min(a.maxX, b.maxX),
    maxY: Math.min(a.maxY, b.maxY),
  };
  return out.minX <= out.maxX && out.minY <= out.maxY ? out : null;
}

/** `a` grown by `d` on every side. */
export function growBox(a: Box, d: number): Box {
  return { minX: a.minX - d, minY: a.minY - d, maxX: a.maxX + d, maxY: a.maxY + d };
}

/** Whether two boxes overlap (touching counts). */
export function boxesIntersect(a: Box, b: Box): boolean {
  return a.minX <= b.maxX && a.maxX >= b.minX && a.minY <= b.maxY && a.maxY >= b.minY;
}

/** Whether `inner` lies wholly inside `outer`. */
export function boxContains(outer: Box, inner: Box): boolean {
  return (
    inner.minX >= outer.minX &&
    inner.maxX <= outer.maxX &&
    inner.minY >= outer.minY &&
    inner.maxY <= outer.maxY
  );
}

/** The centre of a geom box, which rotation turns around. */
export function centre(g: Geom): Point {
  return { x: g.x + Math.abs(g.w) / 2, y: g.y + Math.abs(g.h) / 2 };
}

/** `p` turned by `deg` degrees clockwise (screen axes) around `c`. */
export function rotatePoint(p: Point, c: Point, deg: number): Point {
  if (deg === 0) return p;
  const r = (deg * Math.PI) / 180;
  const cos = Math.cos(r);
  const sin = Math.sin(r);
  const dx = p.x - c.x;
  const dy = p.y - c.y;
  return { x: c.x + dx * cos - dy * sin, y: c.y + dx * sin + dy * cos };
}

/** The start and end of a line or arrow, in board coordinates, rotation applied. */
export function lineEnds(g: Geom): [Point, Point] {
  const start = { x: g.x - Math.min(g.w, 0), y: g.y - Math.min(g.h, 0) };
  const end = { x: start.x + g.w, y: start.y + g.h };
  const c = centre(g);
  return [rotatePoint(start, c, g.rot), rotatePoint(end, c, g.rot)];
}

/** The geom of an unrotated line or arrow running from `a` to `b` (to 1/100 of a unit). */
export function geomFromEnds(a: Point, b: Point): Geom {
  const r = (n: number) => Math.round(n * 100) / 100;
  const ax = r(a.x);
  const ay = r(a.y);
  const bx = r(b.x);
  const by = r(b.y);
  return { x: Math.min(ax, bx), y: Math.min(ay, by), w: r(bx - ax), h: r(by - ay), rot: 0 };
}

/** The four corners of a geom box, rotation applied, clockwise from the top-left. */
export function corners(g: Geom): Point[] {
  const w = Math.abs(g.w);
  const h = Math.abs(g.h);
  const c = centre(g);
  return [
    { x: g.x, y: g.y },
    { x: g.x + w, y: g.y },
    { x: g.x + w, y: g.y + h },
    { x: g.x, y: g.y + h },
  ].map((p) => rotatePoint(p, c, g.rot));
}

/** A pen's points in board coordinates (its rotation not applied). */
export function penPoints(el: BoardElement): Point[] {
  const flat = el.points ?? [];
  const out: Point[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ x: el.geom.x + (flat[i] ?? 0), y: el.geom.y + (flat[i + 1] ?? 0) });
  }
  return out;
}

/** The axis-aligned box around a set of points. */
export function boundsOfPoints(points: readonly Point[]): Box {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of points) {
    if (p.x < minX) minX = p.x;
    if (p.y < minY) minY = p.y;
    if (p.x > maxX) maxX = p.x;
    if (p.y > maxY) maxY = p.y;
  }
  return { minX, minY, maxX, maxY };
}

/** The axis-aligned box around everything an element draws (stroke and arrowhead included). */
export function elementBounds(el: BoardElement): Box {
  const g = el.geom;
  let box: Box;
  if (isLinear(el.type)) {
    box = boundsOfPoints(lineEnds(g));
    return growBox(box, el.width / 2 + (el.type === 'arrow' ? arrowHeadSize(el.width) : 0));
  }
  if (el.type === 'pen' && el.points && el.points.length >= 2) {
    const c = centre(g);
    box = growBox(
      boundsOfPoints(penPoints(el).map((p) => rotatePoint(p, c, g.rot))),
      el.width * 1.5 + 1,
    );
    return box;
  }
  box = boundsOfPoints(corners(g));
  const stroke = isTextLike(el.type) || el.type === 'image' ? 0 : el.width / 2;
  return growBox(box, stroke + (el.type === 'sticky' ? 6 : 0));
}

/** The length of an arrowhead's sides for a stroke width. */
export function arrowHeadSize(width: number): number {
  return Math.max(10, width * 4);
}

/** Distance from `p` to the segment `a`–`b`. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Whether the segments `a`–`b` and `c`–`d` cross. */
export function segmentsIntersect(a: Point, b: Point, c: Point, d: Point): boolean {
  const cross = (o: Point, p: Point, q: Point) =>
    (p.x - o.x) * (q.y - o.y) - (p.y - o.y) * (q.x - o.x);
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/** `p` in the element's own unrotated frame (undoes the rotation around its centre). */
export function toLocal(g: Geom, p: Point): Point {
  return rotatePoint(p, centre(g), -g.rot);
}

/**
 * Whether the point `p` touches the element, with `tolerance` board units of slack (a
 * few screen pixels divided by the zoom). Filled shapes, text, stickies and images are hit
 * inside; outlines without fill only near their stroke.
 */
export function hitTest(el: BoardElement, p: Point, tolerance: number): boolean {
  const g = el.geom;
  const slack = tolerance + el.width / 2;
  if (isLinear(el.type)) {
    const [a, b] = lineEnds(g);
    return distanceToSegment(p, a, b) <= slack;
  }
  const q = toLocal(g, p);
  const w = Math.abs(g.w);
  const h = Math.abs(g.h);
  if (el.type === 'pen') {
    const pts = penPoints(el);
    const reach = slack + el.width / 2;
    const [first] = pts;
    if (pts.length === 1 && first)
      return Math.hypot(q.x - first.x, q.y - first.y) <= reach + el.width / 2;
    for (let i = 0; i + 1 < pts.length; i++) {
      const a = pts[i];
      const b = pts[i + 1];
      if (a && b && distanceToSegment(q, a, b) <= reach) return true;
    }
    return false;
  }
  const filled = el.fill !== 'none' && el.fill !== 'transparent';
  if (el.type === 'ellipse') {
    const rx = w / 2;
    const ry = h / 2;
    const c = centre(g);
    const nx = (q.x - c.x) / Math.max(rx, 1e-9);
    const ny = (q.y - c.y) / Math.max(ry, 1e-9);
    const r = Math.hypot(nx, ny);
    if (filled && r <= 1) return true;
    const pixel = slack / Math.max(Math.min(rx, ry), 1e-9);
    return Math.abs(r - 1) <= pixel;
  }
  const inside =
    q.x >= g.x - slack && q.x <= g.x + w + slack && q.y >= g.y - slack && q.y <= g.y + h + slack;
  if (!inside) return false;
  if (el.type !== 'rect' || filled) return true;
  const nearEdge =
    Math.abs(q.x - g.x) <= slack ||
    Math.abs(q.x - g.x - w) <= slack ||
    Math.abs(q.y - g.y) <= slack ||
    Math.abs(q.y - g.y - h) <= slack;
  return nearEdge;
}

/** Whether `p` lies inside the element's area (its box, or its ellipse), `tolerance` included. */
export function insideShape(el: BoardElement, p: Point, tolerance: number): boolean {
  const g = el.geom;
  const q = toLocal(g, p);
  const w = Math.abs(g.w);
  const h = Math.abs(g.h);
  if (el.type === 'ellipse') {
    const c = centre(g);
    const nx = (q.x - c.x) / Math.max(w / 2 + tolerance, 1e-9);
    const ny = (q.y - c.y) / Math.max(h / 2 + tolerance, 1e-9);
    return nx * nx + ny * ny <= 1;
  }
  return (
    q.x >= g.x - tolerance &&
    q.x <= g.x + w + tolerance &&
    q.y >= g.y - tolerance &&
    q.y <= g.y + h + tolerance
  );
}

/** Whether the element lies wholly inside the box (marquee selection). */
export function insideBox(el: BoardElement, box: Box): boolean {
  return boxContains(box, elementBounds(el));
}

/** Whether the segment `a`–`b` (an eraser's move) touches the element. */
export function segmentHits(el: BoardElement, a: Point, b: Point, tolerance: number): boolean {
  if (hitTest(el, b, tolerance)) return true;
  const steps = Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / Math.max(tolerance, 1));
  for (let i = 0; i < steps; i++) {
    const t = i / steps;
    if (hitTest(el, { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t }, tolerance)) return true;
  }
  return false;
}

/**
 * Where the ray from `from` towards the centre of `g` first meets the edge of its box (or
 * its ellipse when `ellipse`), pushed out by `gap`; used to land a bound arrow on a shape.
 */
export function edgePoint(g: Geom, from: Point, ellipse: boolean, gap: number): Point {
  const c = centre(g);
  const lf = toLocal(g, from);
  const dx = lf.x - c.x;
  const dy = lf.y - c.y;
  const len = Math.hypot(dx, dy);
  if (len < 1e-9) return c;
  const ux = dx / len;
  const uy = dy / len;
  const rx = Math.abs(g.w) / 2;
  const ry = Math.abs(g.h) / 2;
  let t: number;
  if (ellipse) {
    t = 1 / Math.sqrt((ux * ux) / Math.max(rx * rx, 1e-9) + (uy * uy) / Math.max(ry * ry, 1e-9));
  } else {
    const tx = Math.abs(ux) < 1e-9 ? Infinity : rx / Math.abs(ux);
    const ty = Math.abs(uy) < 1e-9 ? Infinity : ry / Math.abs(uy);
    t = Math.min(tx, ty);
  }
  const local = { x: c.x + ux * (t + gap), y: c.y + uy * (t + gap) };
  return rotatePoint(local, c, g.rot);
}
