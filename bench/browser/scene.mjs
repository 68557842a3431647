// The benchmark's scenes: N mixed shapes from a seed, written both as an Easel board and as
// the same drawing in Excalidraw's own scene format.
//
// Owns the shape mix, the layout and the two encodings. The Easel board follows the schema
// in server/src/document/mod.rs (an `elements` map of Y.Maps with an atomic `geom`, one key
// per style property, a fractional `index`, flat pen `points` relative to the box, `Y.Text`
// for text); it must not invent keys the schema lacks. Runs in Node; touches no browser.

import { generateNKeysBetween } from 'fractional-indexing';
import * as Y from 'yjs';

/** Board units between the centres of neighbouring shapes. */
const CELL = 160;
/** Points in one pen stroke. */
const PEN_POINTS = 50;
/** The shape mix: type and weight (out of 100). */
const MIX = [
  ['rect', 20],
  ['ellipse', 15],
  ['line', 10],
  ['arrow', 10],
  ['pen', 25],
  ['text', 10],
  ['sticky', 10],
];
const STROKES = ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5', '#868e96'];
const FILLS = ['none', 'none', 'none', '#ffc9c9', '#b2f2bb', '#a5d8ff', '#ffec99', '#eebefa'];
const STICKIES = ['#fff59d', '#ffd8a8', '#c3fae8', '#d0ebff', '#fcc2d7', '#e5dbff'];
const DASHES = ['solid', 'solid', 'solid', 'dashed', 'dotted'];
const WORDS = [
  'plan',
  'launch',
  'review',
  'ideas',
  'sprint',
  'design',
  'users',
  'metrics',
  'risk',
  'budget',
  'next steps',
  'feedback',
];
const FONT_SIZES = [16, 20, 28];
/** Text line height as a multiple of the font size (the schema's SVG uses the same). */
const LINE_HEIGHT = 1.25;
/** Space between a sticky note's edge and its text. */
const STICKY_PADDING = 8;

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same scene. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Generates `n` shapes as plain records, the one description both encodings are made from:
 * `{ id, type, index, x, y, w, h, stroke, fill, width, dash, opacity, fontSize?, text?, points? }`
 * with pen `points` flat and relative to `(x, y)`. Shapes sit on a square grid of `CELL`
 * cells (so 10,000 shapes cover 16,000 × 16,000 board units), jittered inside their cell.
 */
export function generateShapes(n, seed = 1) {
  const random = rng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const total = MIX.reduce((sum, [, weight]) => sum + weight, 0);
  const pickType = () => {
    let r = random() * total;
    for (const [type, weight] of MIX) {
      r -= weight;
      if (r < 0) return type;
    }
    return MIX[MIX.length - 1][0];
  };
  const side = Math.ceil(Math.sqrt(n));
  const indexes = generateNKeysBetween(null, null, n);
  const shapes = [];
  for (let i = 0; i < n; i++) {
    const type = pickType();
    const cx = (i % side) * CELL + 20 + random() * 30;
    const cy = Math.floor(i / side) * CELL + 20 + random() * 30;
    const shape = {
      id: `s${i.toString(36).padStart(5, '0')}`,
      type,
      index: indexes[i],
      x: Math.round(cx),
      y: Math.round(cy),
      w: Math.round(50 + random() * 70),
      h: Math.round(40 + random() * 60),
      stroke: pick(STROKES),
      fill: type === 'rect' || type === 'ellipse' ? pick(FILLS) : 'none',
      width: pick([1, 2, 2, 4]),
      dash: type === 'pen' ? 'solid' : pick(DASHES),
      opacity: random() < 0.1 ? 0.6 : 1,
    };
    if (type === 'line' || type === 'arrow') {
      shape.w = Math.round((random() - 0.3) * 120);
      shape.h = Math.round((random() - 0.3) * 100);
    } else if (type === 'pen') {
      shape.points = penPoints(random, shape.w, shape.h);
    } else if (type === 'text' || type === 'sticky') {
      const words = 1 + Math.floor(random() * 3);
      shape.text = Array.from({ length: words }, () => pick(WORDS)).join(' ');
      if (type === 'sticky') {
        shape.fill = pick(STICKIES);
        shape.stroke = '#1e1e1e';
        shape.fontSize = 20;
        shape.w = 110;
        shape.h = 110;
      } else {
        shape.fontSize = pick(FONT_SIZES);
        shape.w = Math.round(shape.text.length * shape.fontSize * 0.55);
        shape.h = Math.round(shape.fontSize * LINE_HEIGHT);
      }
    }
    shapes.push(shape);
  }
  return shapes;
}

/** A wandering, smoothed stroke of `PEN_POINTS` points inside a `w` × `h` box, flat. */
function penPoints(random, w, h) {
  const points = [];
  let x = random() * w * 0.3;
  let y = random() * h;
  let dx = w / PEN_POINTS;
  let dy = 0;
  for (let i = 0; i < PEN_POINTS; i++) {
    dx = 0.8 * dx + (0.2 * (random() * 2 * w)) / PEN_POINTS;
    dy = 0.8 * dy + 0.2 * (random() - 0.5) * (h / 4);
    x = Math.min(w, Math.max(0, x + dx));
    y = Math.min(h, Math.max(0, y + dy));
    points.push(Math.round(x * 10) / 10, Math.round(y * 10) / 10);
  }
  return points;
}

/**
 * The shapes as an Easel board: a Y.Doc with `meta` and `elements` as the client writes
 * them (web/src/board/schema.ts, `elementToYMap`: the same keys in the same order), encoded as one update (what a joining browser receives as sync step 2).
 */
export function easelBoard(shapes) {
  const doc = new Y.Doc();
  const meta = doc.getMap('meta');
  const elements = doc.getMap('elements');
  doc.getMap('bindings');
  doc.getMap('assets');
  doc.transact(() => {
    meta.set('schema', 1);
    meta.set('title', `Benchmark: ${shapes.length} shapes`);
    meta.set('background', '#ffffff');
    meta.set('grid', 0);
    for (const shape of shapes) {
      const element = new Y.Map();
      element.set('type', shape.type);
      element.set('index', shape.index);
      element.set('geom', { x: shape.x, y: shape.y, w: shape.w, h: shape.h, rot: 0 });
      element.set('stroke', shape.stroke);
      element.set('fill', shape.fill);
      element.set('width', shape.width);
      element.set('dash', shape.dash);
      element.set('opacity', shape.opacity);
      element.set('locked', false);
      element.set('createdBy', 'bench');
      if (shape.text !== undefined) element.set('fontSize', shape.fontSize);
      if (shape.points) element.set('points', shape.points);
      if (shape.text !== undefined) element.set('text', new Y.Text(shape.text));
      elements.set(shape.id, element);
    }
  });
  return Y.encodeStateAsUpdate(doc);
}

/**
 * The shapes as an Excalidraw scene (`{type: "excalidraw", version: 2, elements, appState}`):
 * rectangle, ellipse, line, arrow, freedraw and text elements, a sticky note as a filled
 * rectangle with its text bound inside. Roughness 0 ("architect") and solid fills, Excalidraw's
 * closest match to Easel's clean strokes; text in Helvetica (a system font, as Easel's).
 */
export function excalidrawScene(shapes) {
  const random = rng(7);
  const seed = () => Math.floor(random() * 2 ** 31);
  const elements = [];
  const base = (shape, type) => ({
    id: shape.id,
    type,
    x: shape.x,
    y: shape.y,
    width: Math.abs(shape.w),
    height: Math.abs(shape.h),
    angle: 0,
    strokeColor: shape.stroke,
    backgroundColor: shape.fill === 'none' ? 'transparent' : shape.fill,
    fillStyle: 'solid',
    strokeWidth: shape.width,
    strokeStyle: shape.dash,
    roughness: 0,
    opacity: Math.round(shape.opacity * 100),
    groupIds: [],
    frameId: null,
    index: shape.index,
    roundness: null,
    seed: seed(),
    version: 1,
    versionNonce: seed(),
    isDeleted: false,
    boundElements: null,
    updated: 1,
    link: null,
    locked: false,
  });
  const text = (shape, id, x, y, containerId) => {
    const lines = shape.text.split('\n');
    const longest = Math.max(...lines.map((line) => line.length));
    return {
      ...base(shape, 'text'),
      id,
      x,
      y,
      width: Math.round(longest * shape.fontSize * 0.55),
      height: Math.round(lines.length * shape.fontSize * LINE_HEIGHT),
      strokeStyle: 'solid',
      backgroundColor: 'transparent',
      text: shape.text,
      originalText: shape.text,
      fontSize: shape.fontSize,
      fontFamily: 2,
      textAlign: containerId ? 'center' : 'left',
      verticalAlign: containerId ? 'middle' : 'top',
      containerId,
      autoResize: true,
      lineHeight: LINE_HEIGHT,
    };
  };
  for (const shape of shapes) {
    switch (shape.type) {
      case 'rect':
        elements.push(base(shape, 'rectangle'));
        break;
      case 'ellipse':
        elements.push(base(shape, 'ellipse'));
        break;
      case 'line':
      case 'arrow':
        elements.push({
          ...base(shape, shape.type),
          points: [
            [0, 0],
            [shape.w, shape.h],
          ],
          lastCommittedPoint: null,
          startBinding: null,
          endBinding: null,
          startArrowhead: null,
          endArrowhead: shape.type === 'arrow' ? 'arrow' : null,
          elbowed: false,
        });
        break;
      case 'pen': {
        const points = [];
        for (let i = 0; i < shape.points.length; i += 2) {
          points.push([shape.points[i], shape.points[i + 1]]);
        }
        elements.push({
          ...base(shape, 'freedraw'),
          points,
          pressures: [],
          simulatePressure: true,
          lastCommittedPoint: null,
        });
        break;
      }
      case 'text':
        elements.push(text(shape, shape.id, shape.x, shape.y, null));
        break;
      case 'sticky': {
        const textId = `${shape.id}t`;
        elements.push({
          ...base(shape, 'rectangle'),
          boundElements: [{ type: 'text', id: textId }],
        });
        const label = text(shape, textId, shape.x, shape.y, shape.id);
        label.x = shape.x + (shape.w - label.width) / 2;
        label.y = shape.y + STICKY_PADDING + (shape.h - 2 * STICKY_PADDING - label.height) / 2;
        label.index = `${shape.index}V`;
        elements.push(label);
        break;
      }
      default:
        throw new Error(`no Excalidraw equivalent for a ${shape.type}`);
    }
  }
  return {
    type: 'excalidraw',
    version: 2,
    source: 'easel-bench',
    elements,
    appState: { viewBackgroundColor: '#ffffff', gridSize: null },
    files: {},
  };
}
