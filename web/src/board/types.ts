// The board's element model as plain, immutable TypeScript values.
//
// Owns the types every other module speaks (elements, geometry, style, bindings,
// assets) and their defaults. Holds no document and touches neither Yjs nor the DOM.

/** The element kinds the schema allows (server/src/document/mod.rs, `ELEMENT_TYPES`). */
export const ELEMENT_TYPES = [
  'rect',
  'ellipse',
  'line',
  'arrow',
  'pen',
  'text',
  'sticky',
  'image',
] as const;
/** One element kind. */
export type ElementType = (typeof ELEMENT_TYPES)[number];
/** A stroke's dash pattern. */
export type Dash = 'solid' | 'dashed' | 'dotted';

/**
 * An element's box: `(x, y)` is the top-left corner, `|w|` by `|h|` its size and `rot` a
 * clockwise rotation in degrees around its centre. Lines and arrows may have a negative
 * `w`/`h`: they run from the corner opposite the sign to `start + (w, h)`.
 */
export interface Geom {
  x: number;
  y: number;
  w: number;
  h: number;
  rot: number;
}

/** The style keys, each stored as its own key of the element's map. */
export interface Style {
  stroke: string;
  fill: string;
  width: number;
  dash: Dash;
  opacity: number;
  fontSize: number;
}

/** One element as read from the document; a new object whenever the element changes. */
export interface BoardElement extends Style {
  id: string;
  type: ElementType;
  index: string;
  geom: Geom;
  /** Pens: flat `[x0, y0, x1, y1, ...]` relative to `(geom.x, geom.y)`. */
  points?: number[];
  /** Pens: one pressure in 0..=1 per point. */
  pressure?: number[];
  /** Text and sticky notes. */
  text?: string;
  createdBy?: string;
  locked: boolean;
  /** Images: the id of their entry in `assets`. */
  assetId?: string;
}

/** Which end of a line or arrow a binding attaches. */
export type Anchor = 'start' | 'end';

/** The end `anchor` of the arrow or line `from` is attached to the element `to`. */
export interface Binding {
  from: string;
  to: string;
  anchor: Anchor;
}

/** An uploaded image: the bytes live on the server, keyed by `hash`. */
export interface Asset {
  mime: string;
  w: number;
  h: number;
  hash: string;
}

/** The colours of the style panel, in the spirit of Excalidraw's palette. */
export const PALETTE = {
  stroke: ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5', '#868e96'],
  fill: ['none', '#ffc9c9', '#b2f2bb', '#a5d8ff', '#ffec99', '#eebefa', '#e9ecef'],
  sticky: ['#fff59d', '#ffd8a8', '#c3fae8', '#d0ebff', '#fcc2d7', '#e5dbff'],
} as const;

/** The style new elements get until the user picks another. */
export const DEFAULT_STYLE: Style = {
  stroke: '#1e1e1e',
  fill: 'none',
  width: 2,
  dash: 'solid',
  opacity: 1,
  fontSize: 20,
};

/** The fill a sticky note gets when the current fill is `none`. */
export const STICKY_FILL = '#fff59d';
/** Space between a sticky note's edge and its text, in board units (as the server's SVG). */
export const STICKY_PADDING = 8;
/** Text line height as a multiple of the font size (as the server's SVG). */
export const LINE_HEIGHT = 1.25;
/** The font text is drawn in. */
export const FONT_FAMILY = '"Inter", "Segoe UI", system-ui, sans-serif';

/** Whether an element of this type holds a `Y.Text` and a font size. */
export function isTextLike(type: ElementType): boolean {
  return type === 'text' || type === 'sticky';
}

/** Whether an element of this type is a line or an arrow (its box may be negative). */
export function isLinear(type: ElementType): boolean {
  return type === 'line' || type === 'arrow';
}
