// Z-order of elements: fractional-index keys (the `fractional-indexing` package), ties by id.
//
// Owns comparing elements by paint order and choosing new `index` keys for inserts and
// reorders. Pure functions: it never writes the document itself.

import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

/** Anything with an `id` and an `index`, such as a board element. */
export interface Ordered {
  id: string;
  index: string;
}

/** Paint order: by `index` (plain code-unit order, as the keys are built), then by `id`. */
export function compareOrder(a: Ordered, b: Ordered): number {
  if (a.index !== b.index) return a.index < b.index ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** Sorts a copy of `items` in paint order, bottom first. */
export function sortByOrder<T extends Ordered>(items: Iterable<T>): T[] {
  return [...items].sort(compareOrder);
}

/**
 * A key between `below` and `above` (either may be null for the ends). Tolerates keys
 * that are equal or out of order (two users inserted concurrently): then it answers a key
 * just above `below`, and the id breaks the tie.
 */
export function keyBetween(below: string | null, above: string | null): string {
  if (below !== null && above !== null && below >= above) return generateKeyBetween(below, null);
  return generateKeyBetween(below, above);
}

/** `n` ascending keys between `below` and `above`, with the same tolerance as [keyBetween]. */
export function keysBetween(below: string | null, above: string | null, n: number): string[] {
  if (below !== null && above !== null && below >= above)
    return generateNKeysBetween(below, null, n);
  return generateNKeysBetween(below, above, n);
}

/** The top-most index among `items`, or null when there are none. */
export function topIndex(items: Iterable<Ordered>): string | null {
  let top: Ordered | null = null;
  for (const it of items) if (top === null || compareOrder(it, top) > 0) top = it;
  return top?.index ?? null;
}

/** The bottom-most index among `items`, or null when there are none. */
export function bottomIndex(items: Iterable<Ordered>): string | null {
  let bottom: Ordered | null = null;
  for (const it of items) if (bottom === null || compareOrder(it, bottom) < 0) bottom = it;
  return bottom?.index ?? null;
}

/**
 * New indices moving the `selected` ids one step up (`dir = 1`) or down (`dir = -1`) past
 * the next element that is not selected, keeping their relative order. Answers id → index
 * for the elements to rewrite (empty when nothing can move).
 */
export function stepKeys(
  all: readonly Ordered[],
  selected: ReadonlySet<string>,
  dir: 1 | -1,
): Map<string, string> {
  const sorted = sortByOrder(all);
  const out = new Map<string, string>();
  const chosen = sorted.filter((e) => selected.has(e.id));
  if (chosen.length === 0) return out;
  if (dir === 1) {
    const lastPos = sorted.findIndex((e) => e.id === chosen[chosen.length - 1]?.id);
    const next = sorted.slice(lastPos + 1).find((e) => !selected.has(e.id));
    if (!next) return out;
    const nextPos = sorted.indexOf(next);
    const after = sorted.slice(nextPos + 1).find((e) => !selected.has(e.id)) ?? null;
    const keys = keysBetween(next.index, after?.index ?? null, chosen.length);
    chosen.forEach((e, i) => out.set(e.id, keys[i] ?? e.index));
  } else {
    const firstPos = sorted.findIndex((e) => e.id === chosen[0]?.id);
    const prev = sorted
      .slice(0, firstPos)
      .reverse()
      .find((e) => !selected.has(e.id));
    if (!prev) return out;
    const prevPos = sorted.indexOf(prev);
    const before =
      sorted
        .slice(0, prevPos)
        .reverse()
        .find((e) => !selected.has(e.id)) ?? null;
    const keys = keysBetween(before?.index ?? null, prev.index, chosen.length);
    chosen.forEach((e, i) => out.set(e.id, keys[i] ?? e.index));
  }
  return out;
}

/** New indices putting the `selected` ids above (`front`) or below everything else. */
export function edgeKeys(
  all: readonly Ordered[],
  selected: ReadonlySet<string>,
  front: boolean,
): Map<string, string> {
  const chosen = sortByOrder(all.filter((e) => selected.has(e.id)));
  const rest = all.filter((e) => !selected.has(e.id));
  const out = new Map<string, string>();
  if (chosen.length === 0) return out;
  const keys = front
    ? keysBetween(topIndex(rest), null, chosen.length)
    : keysBetween(null, bottomIndex(rest), chosen.length);
  chosen.forEach((e, i) => out.set(e.id, keys[i] ?? e.index));
  return out;
}
