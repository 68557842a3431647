// Mapping between the board document (Yjs) and the plain element model.
//
// Owns the exact shape of the document per server/src/document/mod.rs: root maps `meta`,
// `elements` (id → Y.Map), `bindings` and `assets` (id → atomic objects); per element an
// atomic `geom`, one key per style property, pen `points`/`pressure` arrays, `text` as a
// Y.Text. Reads tolerate anything a peer may have written; writes only what the schema
// allows for the element's type. Knows nothing of rendering, tools or the DOM.

import * as Y from 'yjs';
import {
  DEFAULT_STYLE,
  ELEMENT_TYPES,
  isTextLike,
  type Asset,
  type BoardElement,
  type Binding,
  type Dash,
  type ElementType,
  type Geom,
} from './types';

/** The origin of every transaction this client makes; the undo manager tracks only it. */
export const LOCAL_ORIGIN: { readonly name: string } = Object.freeze({ name: 'easel-local' });

/** The document's root maps. */
export interface Roots {
  meta: Y.Map<unknown>;
  elements: Y.Map<Y.Map<unknown>>;
  bindings: Y.Map<Binding>;
  assets: Y.Map<Asset>;
}

/** The root maps of a board document (created empty if missing). */
export function roots(doc: Y.Doc): Roots {
  return {
    meta: doc.getMap('meta'),
    elements: doc.getMap('elements'),
    bindings: doc.getMap('bindings'),
    assets: doc.getMap('assets'),
  };
}

const DASHES: readonly Dash[] = ['solid', 'dashed', 'dotted'];

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}

function numberArray(v: unknown): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.every((n) => typeof n === 'number' && Number.isFinite(n)) ? (v as number[]) : undefined;
}

/** Reads a geom value, or null when it is not one. */
export function readGeom(v: unknown): Geom | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.x !== 'number' || typeof o.y !== 'number') return null;
  return { x: o.x, y: o.y, w: num(o.w, 0), h: num(o.h, 0), rot: num(o.rot, 0) };
}

/**
 * The element stored under `id`, or null when it cannot be drawn (unknown type, no
 * geom). Missing style keys read as the defaults.
 */
export function readElement(id: string, map: Y.Map<unknown>): BoardElement | null {
  return readFields(id, (key) => map.get(key));
}

/**
 * An element from a plain object (a peer's gesture preview in awareness), validated the
 * same way; null when it is not a drawable element.
 */
export function readPlainElement(value: unknown): BoardElement | null {
  if (typeof value !== 'object' || value === null) return null;
  const o = value as Record<string, unknown>;
  if (typeof o.id !== 'string') return null;
  return readFields(o.id, (key) => o[key]);
}

function readFields(id: string, get: (key: string) => unknown): BoardElement | null {
  const type = get('type');
  if (typeof type !== 'string' || !(ELEMENT_TYPES as readonly string[]).includes(type)) return null;
  const geom = readGeom(get('geom'));
  if (!geom) return null;
  const kind = type as ElementType;
  const dash = get('dash');
  const el: BoardElement = {
    id,
    type: kind,
    index: str(get('index'), 'a0'),
    geom,
    stroke: str(get('stroke'), DEFAULT_STYLE.stroke),
    fill: str(get('fill'), 'none'),
    width: num(get('width'), DEFAULT_STYLE.width),
    dash: DASHES.includes(dash as Dash) ? (dash as Dash) : 'solid',
    opacity: Math.min(1, Math.max(0, num(get('opacity'), 1))),
    fontSize: isTextLike(kind) ? num(get('fontSize'), 16) : DEFAULT_STYLE.fontSize,
    locked: get('locked') === true,
  };
  const createdBy = get('createdBy');
  if (typeof createdBy === 'string') el.createdBy = createdBy;
  if (kind === 'pen') {
    const points = numberArray(get('points'));
    if (!points || points.length < 2) return null;
    el.points = points;
    const pressure = numberArray(get('pressure'));
    if (pressure) el.pressure = pressure;
  }
  if (isTextLike(kind)) {
    const text = get('text');
    el.text = text instanceof Y.Text ? text.toString() : typeof text === 'string' ? text : '';
  }
  if (kind === 'image') {
    const assetId = get('assetId');
    if (typeof assetId === 'string') el.assetId = assetId;
  }
  return el;
}

/** A new element as a Y.Map holding only the keys the schema allows for its type. */
export function elementToYMap(el: BoardElement): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(elementFields(el))) map.set(k, v);
  if (isTextLike(el.type)) map.set('text', new Y.Text(el.text ?? ''));
  return map;
}

/** The element's plain keys (everything but `text`), as stored. */
export function elementFields(el: BoardElement): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: el.type,
    index: el.index,
    geom: { x: el.geom.x, y: el.geom.y, w: el.geom.w, h: el.geom.h, rot: el.geom.rot },
    stroke: el.stroke,
    fill: el.fill,
    width: el.width,
    dash: el.dash,
    opacity: el.opacity,
    locked: el.locked,
  };
  if (el.createdBy !== undefined) out.createdBy = el.createdBy;
  if (isTextLike(el.type)) out.fontSize = el.fontSize;
  if (el.type === 'pen') {
    out.points = el.points ?? [];
    if (el.pressure) out.pressure = el.pressure;
  }
  if (el.type === 'image' && el.assetId !== undefined) out.assetId = el.assetId;
  return out;
}

/** Reads a binding value, or null when it is not one. */
export function readBinding(v: unknown): Binding | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.from !== 'string' || typeof o.to !== 'string') return null;
  if (o.anchor !== 'start' && o.anchor !== 'end') return null;
  return { from: o.from, to: o.to, anchor: o.anchor };
}

/** The id a binding of `arrow`'s `anchor` end is stored under: one per end, so concurrent binds converge. */
export function bindingId(arrow: string, anchor: 'start' | 'end'): string {
  return `${arrow}:${anchor}`;
}

/** Reads an asset value, or null when it is not one. */
export function readAsset(v: unknown): Asset | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.mime !== 'string' || typeof o.hash !== 'string') return null;
  return { mime: o.mime, hash: o.hash, w: num(o.w, 0), h: num(o.h, 0) };
}

/** A fresh, unguessable element id. */
export function newId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
