// Arrow and line bindings: where a bound end goes when the shape it is attached to moves.
//
// Owns the rule "a bound end keeps its place relative to the shape's box" (so it follows
// moves, resizes and rotations). Pure functions over plain values; the model calls them
// inside the same transaction as the move.

import { centre, geomFromEnds, lineEnds, rotatePoint, toLocal, type Point } from './geometry';
import type { BoardElement, Binding, Geom } from './types';

/** Where the point `p`, attached to a shape whose box was `before`, is once the box is `after`. */
export function carryPoint(p: Point, before: Geom, after: Geom): Point {
  const local = toLocal(before, p);
  const bw = Math.abs(before.w);
  const bh = Math.abs(before.h);
  const aw = Math.abs(after.w);
  const ah = Math.abs(after.h);
  const bc = centre(before);
  const ac = centre(after);
  const x = bw > 1e-9 ? after.x + ((local.x - before.x) / bw) * aw : ac.x + (local.x - bc.x);
  const y = bh > 1e-9 ? after.y + ((local.y - before.y) / bh) * ah : ac.y + (local.y - bc.y);
  return rotatePoint({ x, y }, ac, after.rot);
}

/**
 * The new geoms of lines and arrows whose bound ends must follow the shapes in `moved`
 * (id → new geom; `elements` still holds the old ones). Arrows that are themselves in
 * `moved` keep their own new geom; dangling bindings are ignored.
 */
export function followBindings(
  elements: ReadonlyMap<string, BoardElement>,
  bindings: Iterable<Binding>,
  moved: ReadonlyMap<string, Geom>,
): Map<string, Geom> {
  const ends = new Map<string, [Point, Point]>();
  for (const b of bindings) {
    const after = moved.get(b.to);
    if (!after || moved.has(b.from)) continue;
    const arrow = elements.get(b.from);
    const target = elements.get(b.to);
    if (!arrow || !target || (arrow.type !== 'arrow' && arrow.type !== 'line')) continue;
    const pair = ends.get(b.from) ?? lineEnds(arrow.geom);
    const i = b.anchor === 'start' ? 0 : 1;
    pair[i] = carryPoint(pair[i], target.geom, after);
    ends.set(b.from, pair);
  }
  const out = new Map<string, Geom>();
  for (const [id, [a, b]] of ends) out.set(id, geomFromEnds(a, b));
  return out;
}

/** The bindings that must go when the elements in `deleted` go (either side of them). */
export function bindingsTouching(
  bindings: Iterable<[string, Binding]>,
  deleted: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  for (const [id, b] of bindings) if (deleted.has(b.from) || deleted.has(b.to)) out.push(id);
  return out;
}
