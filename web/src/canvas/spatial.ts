// The spatial index of the board's elements (an R-tree, the `rbush` package).
//
// Owns answering "which elements may touch this box or point" for culling and hit-testing,
// kept in step with the model by id. Holds boxes only, never draws, never writes the document.

import RBush from 'rbush';
import { elementBounds, type Box } from '../board/geometry';
import type { BoardElement } from '../board/types';

interface Entry extends Box {
  id: string;
}

/** Element id → bounding box, searchable by box. */
export class SpatialIndex {
  private readonly tree = new RBush<Entry>();
  private readonly entries = new Map<string, Entry>();

  /** Rebuilds the index from scratch (bulk-loaded, much faster than one insert each). */
  load(elements: Iterable<BoardElement>): void {
    this.tree.clear();
    this.entries.clear();
    const all: Entry[] = [];
    for (const el of elements) {
      const e = { ...elementBounds(el), id: el.id };
      this.entries.set(el.id, e);
      all.push(e);
    }
    this.tree.load(all);
  }

  /** Puts the element's current bounds in the index (or removes it when `el` is undefined); answers the old box. */
  update(id: string, el: BoardElement | undefined): Box | undefined {
    const old = this.entries.get(id);
    if (old) {
      this.tree.remove(old);
      this.entries.delete(id);
    }
    if (el) {
      const e = { ...elementBounds(el), id };
      this.entries.set(id, e);
      this.tree.insert(e);
    }
    return old;
  }

  /** The indexed bounds of one element. */
  bounds(id: string): Box | undefined {
    return this.entries.get(id);
  }

  /** Ids of the elements whose bounds meet `box`. */
  search(box: Box): string[] {
    return this.tree.search(box).map((e) => e.id);
  }

  /** How many elements are indexed. */
  get size(): number {
    return this.entries.size;
  }

  /** The box around every element, or null on an empty board. */
  extent(): Box | null {
    if (this.entries.size === 0) return null;
    const d = this.tree.toJSON() as Box;
    return { minX: d.minX, minY: d.minY, maxX: d.maxX, maxY: d.maxY };
  }
}
