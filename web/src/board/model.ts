// The board model: a live, typed view of one board document and every change this client makes.
//
// Owns reading the document into plain elements (re-read only for the ids that changed,
// observed with observeDeep), and writing: each public mutation is ONE transaction with
// LOCAL_ORIGIN, so a gesture is one undo step; bound arrows follow in the same transaction.
// Owns the undo manager (local origin only: undo never touches another person's work).
// Must not touch the DOM, the canvas or awareness.

import * as Y from 'yjs';
import { bindingsTouching, followBindings } from './bindings';
import { edgeKeys, keyBetween, sortByOrder, stepKeys, topIndex } from './order';
import {
  LOCAL_ORIGIN,
  bindingId,
  elementToYMap,
  readAsset,
  readBinding,
  readElement,
  roots,
  type Roots,
} from './schema';
import {
  isTextLike,
  type Anchor,
  type Asset,
  type BoardElement,
  type Binding,
  type Geom,
  type Style,
} from './types';

/** What changed in one batch of document updates. */
export interface ModelChange {
  /** Element ids added, changed or removed. */
  elements: ReadonlySet<string>;
  /** Whether bindings or assets changed. */
  bindings: boolean;
  assets: boolean;
  /** Whether this client made the change. */
  local: boolean;
}

/** A live view of a board document; see the module comment. */
export class BoardModel {
  readonly doc: Y.Doc;
  readonly roots: Roots;
  readonly undoManager: Y.UndoManager;
  private readonly cache = new Map<string, BoardElement>();
  private readonly bindingCache = new Map<string, Binding>();
  private readonly assetCache = new Map<string, Asset>();
  private sorted: BoardElement[] | null = null;
  private sortedPos = new Map<string, number>();
  private readonly listeners = new Set<(c: ModelChange) => void>();
  private readonly onElements: (
    events: Y.YEvent<Y.AbstractType<unknown>>[],
    txn: Y.Transaction,
  ) => void;
  private readonly onBindings: (e: Y.YMapEvent<Binding>, txn: Y.Transaction) => void;
  private readonly onAssets: (e: Y.YMapEvent<Asset>, txn: Y.Transaction) => void;

  constructor(doc: Y.Doc) {
    this.doc = doc;
    this.roots = roots(doc);
    this.roots.elements.forEach((map, id) => this.reread(id, map));
    this.roots.bindings.forEach((v, id) => this.rereadBinding(id, v));
    this.roots.assets.forEach((v, id) => this.rereadAsset(id, v));
    this.undoManager = new Y.UndoManager(
      [this.roots.elements, this.roots.bindings, this.roots.assets],
      {
        trackedOrigins: new Set([LOCAL_ORIGIN]),
        captureTimeout: 400,
      },
    );
    this.onElements = (events, txn) => {
      const dirty = new Set<string>();
      for (const ev of events) {
        if (ev.target === this.roots.elements) {
          for (const key of (ev as Y.YMapEvent<unknown>).keysChanged) dirty.add(key);
        } else {
          const id = ev.path[0];
          if (typeof id === 'string') dirty.add(id);
        }
      }
      for (const id of dirty) this.reread(id, this.roots.elements.get(id));
      this.emit({
        elements: dirty,
        bindings: false,
        assets: false,
        local: txn.origin === LOCAL_ORIGIN,
      });
    };
    this.onBindings = (ev, txn) => {
      for (const key of ev.keysChanged) this.rereadBinding(key, this.roots.bindings.get(key));
      this.emit({
        elements: new Set(),
        bindings: true,
        assets: false,
        local: txn.origin === LOCAL_ORIGIN,
      });
    };
    this.onAssets = (ev, txn) => {
      for (const key of ev.keysChanged) this.rereadAsset(key, this.roots.assets.get(key));
      this.emit({
        elements: new Set(),
        bindings: false,
        assets: true,
        local: txn.origin === LOCAL_ORIGIN,
      });
    };
    this.roots.elements.observeDeep(this.onElements);
    this.roots.bindings.observe(this.onBindings);
    this.roots.assets.observe(this.onAssets);
  }

  /** Stops observing the document. */
  destroy(): void {
    this.roots.elements.unobserveDeep(this.onElements);
    this.roots.bindings.unobserve(this.onBindings);
    this.roots.assets.unobserve(this.onAssets);
    this.undoManager.destroy();
    this.listeners.clear();
  }

  /** Calls `cb` after every batch of changes; answers the unsubscribe function. */
  onChange(cb: (c: ModelChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** The element with this id, if it exists and can be drawn. */
  get(id: string): BoardElement | undefined {
    return this.cache.get(id);
  }

  /** Every drawable element, keyed by id. */
  get elements(): ReadonlyMap<string, BoardElement> {
    return this.cache;
  }

  /** Every drawable element in paint order (bottom first); cached until the order changes. */
  ordered(): readonly BoardElement[] {
    if (!this.sorted) {
      const sorted = sortByOrder(this.cache.values());
      this.sortedPos = new Map(sorted.map((e, i) => [e.id, i]));
      this.sorted = sorted;
    }
    return this.sorted;
  }

  /** Every binding whose both ends exist. */
  bindings(): Binding[] {
    return [...this.bindingCache.values()].filter(
      (b) => this.cache.has(b.from) && this.cache.has(b.to),
    );
  }

  /** The asset with this id, if the document lists it. */
  asset(id: string): Asset | undefined {
    return this.assetCache.get(id);
  }

  /** Runs `fn` as one local transaction (one undo step unless merged by the capture timeout). */
  transact(fn: () => void): void {
    this.doc.transact(fn, LOCAL_ORIGIN);
  }

  /** Ends the current undo step: the next change starts a new one. */
  stopCapturing(): void {
    this.undoManager.stopCapturing();
  }

  /** Adds elements on top of everything (their `index` is chosen here), in one transaction. */
  add(elements: readonly BoardElement[]): void {
    if (elements.length === 0) return;
    this.transact(() => {
      let below = topIndex(this.cache.values());
      for (const el of elements) {
        const index = keyBetween(below, null);
        below = index;
        this.roots.elements.set(el.id, elementToYMap({ ...el, index }));
      }
    });
  }

  /** The index a new element put on top now would get. */
  nextIndex(): string {
    return keyBetween(topIndex(this.cache.values()), null);
  }

  /**
   * Moves/resizes elements to new geoms (locked ones are skipped), pens' points rewritten
   * when given, and bound arrows follow, all in one transaction.
   */
  setGeoms(geoms: ReadonlyMap<string, Geom>, points?: ReadonlyMap<string, number[]>): void {
    const moved = new Map<string, Geom>();
    for (const [id, g] of geoms) {
      const el = this.cache.get(id);
      if (el && !el.locked) moved.set(id, g);
    }
    if (moved.size === 0) return;
    const follow = followBindings(this.cache, this.bindingCache.values(), moved);
    this.transact(() => {
      for (const [id, g] of [...moved, ...follow]) {
        const map = this.roots.elements.get(id);
        if (!map) continue;
        map.set('geom', { x: g.x, y: g.y, w: g.w, h: g.h, rot: g.rot });
        const pts = points?.get(id);
        if (pts && map.get('type') === 'pen') map.set('points', pts);
      }
    });
  }

  /** Sets style keys on elements (each key its own entry; `fontSize` only where the schema allows it). */
  setStyle(ids: Iterable<string>, patch: Partial<Style>): void {
    this.transact(() => {
      for (const id of ids) {
        const map = this.roots.elements.get(id);
        const el = this.cache.get(id);
        if (!map || !el) continue;
        for (const [k, v] of Object.entries(patch)) {
          if (k === 'fontSize' && !isTextLike(el.type)) continue;
          if (map.get(k) !== v) map.set(k, v);
        }
      }
    });
  }

  /** Deletes elements and every binding touching them (locked elements stay), in one transaction. */
  delete(ids: Iterable<string>): void {
    const gone = new Set([...ids].filter((id) => this.cache.get(id)?.locked !== true));
    if (gone.size === 0) return;
    this.transact(() => {
      for (const id of gone) this.roots.elements.delete(id);
      for (const b of bindingsTouching(this.bindingCache.entries(), gone))
        this.roots.bindings.delete(b);
    });
  }

  /** Sets or clears `locked` on elements. */
  setLocked(ids: Iterable<string>, locked: boolean): void {
    this.transact(() => {
      for (const id of ids) this.roots.elements.get(id)?.set('locked', locked);
    });
  }

  /** Moves the elements one step up or down the z-order. */
  step(ids: Iterable<string>, dir: 1 | -1): void {
    this.writeIndices(stepKeys(this.ordered(), new Set(ids), dir));
  }

  /** Moves the elements to the top or the bottom of the z-order. */
  toEdge(ids: Iterable<string>, front: boolean): void {
    this.writeIndices(edgeKeys(this.ordered(), new Set(ids), front));
  }

  private writeIndices(keys: Map<string, string>): void {
    if (keys.size === 0) return;
    this.transact(() => {
      for (const [id, index] of keys) this.roots.elements.get(id)?.set('index', index);
    });
  }

  /**
   * Replaces an element's text with `next` by editing only the differing middle, so a
   * concurrent edit elsewhere in the same text survives.
   */
  setText(id: string, next: string): void {
    const text = this.roots.elements.get(id)?.get('text');
    if (!(text instanceof Y.Text)) return;
    const prev = text.toString();
    if (prev === next) return;
    let start = 0;
    while (start < prev.length && start < next.length && prev[start] === next[start]) start++;
    let endPrev = prev.length;
    let endNext = next.length;
    while (endPrev > start && endNext > start && prev[endPrev - 1] === next[endNext - 1]) {
      endPrev--;
      endNext--;
    }
    this.transact(() => {
      if (endPrev > start) text.delete(start, endPrev - start);
      if (endNext > start) text.insert(start, next.slice(start, endNext));
    });
  }

  /** Attaches the `anchor` end of the arrow or line `from` to `to` (or detaches it when `to` is null). */
  bind(from: string, anchor: Anchor, to: string | null): void {
    this.transact(() => {
      const id = bindingId(from, anchor);
      if (to === null) this.roots.bindings.delete(id);
      else this.roots.bindings.set(id, { from, to, anchor });
    });
  }

  /** Lists an uploaded image in the document's `assets` (atomic `{mime, w, h, hash}`). */
  addAsset(id: string, asset: Asset): void {
    if (this.assetCache.has(id)) return;
    this.transact(() =>
      this.roots.assets.set(id, { mime: asset.mime, w: asset.w, h: asset.h, hash: asset.hash }),
    );
  }

  private reread(id: string, map: Y.Map<unknown> | undefined): void {
    const before = this.cache.get(id);
    const el = map instanceof Y.Map ? readElement(id, map) : null;
    if (el) this.cache.set(id, el);
    else this.cache.delete(id);
    if (!before || !el || before.index !== el.index) this.sorted = null;
    else if (this.sorted) {
      const i = this.sortedPos.get(id);
      if (i !== undefined && this.sorted[i]?.id === id) this.sorted[i] = el;
      else this.sorted = null;
    }
  }

  private rereadBinding(id: string, v: unknown): void {
    const b = v === undefined ? null : readBinding(v);
    if (b) this.bindingCache.set(id, b);
    else this.bindingCache.delete(id);
  }

  private rereadAsset(id: string, v: unknown): void {
    const a = v === undefined ? null : readAsset(v);
    if (a) this.assetCache.set(id, a);
    else this.assetCache.delete(id);
  }

  private emit(c: ModelChange): void {
    for (const cb of this.listeners) cb(c);
  }
}
