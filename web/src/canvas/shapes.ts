// Drawing one board element on a Canvas 2D context, in board coordinates.
//
// Owns how each element type looks (rounded rectangles, ellipses, lines and arrowheads,
// perfect-freehand pen strokes, wrapped text, sticky notes with a soft shadow, images with
// a placeholder while loading), the per-element caches that make redraws cheap (pen
// outlines as Path2D per points array, text layout per element version) and the level of
// detail used when shapes are tiny on screen. Reads elements; never writes the document.

import { getStroke } from 'perfect-freehand';
import { arrowHeadSize, centre, lineEnds, type Point } from '../board/geometry';
import {
  FONT_FAMILY,
  LINE_HEIGHT,
  STICKY_FILL,
  STICKY_PADDING,
  type BoardElement,
} from '../board/types';
import { lightInk, type Ink } from './ink';

/** Loads images by asset id; `get` answers null until the image has loaded. */
export interface ImageSource {
  get(assetId: string): CanvasImageSource | null;
}

/**
 * What drawing needs beyond the element: the zoom (for level of detail), the images, and
 * the ink mapping document colours to screen colours (dark mode; absent: colours as they
 * are, as exports draw them). Images are never passed through the ink.
 */
export interface DrawEnv {
  zoom: number;
  images: ImageSource;
  ink?: Ink;
}

const penPaths = new WeakMap<number[], { size: number; path: Path2D }>();
const textLayouts = new WeakMap<BoardElement, string[]>();

function isNone(colour: string): boolean {
  return colour === 'none' || colour === 'transparent' || colour === '';
}

/** The diameter perfect-freehand draws a pen stroke of stroke width `width` with. */
export function penSize(width: number): number {
  return Math.max(1.5, width * 2.2);
}

/** Options for perfect-freehand: real pressure when the stroke carries it, simulated otherwise. */
function strokeOptions(size: number, hasPressure: boolean, last: boolean) {
  return {
    size,
    thinning: hasPressure ? 0.6 : 0.5,
    smoothing: 0.6,
    streamline: 0.5,
    simulatePressure: !hasPressure,
    last,
  };
}

/** The outline of a pen stroke (points relative to its origin) as a Path2D. */
export function penOutline(
  points: readonly number[],
  pressure: readonly number[] | undefined,
  size: number,
  last = true,
): Path2D {
  const input: number[][] = [];
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i] ?? 0;
    const y = points[i + 1] ?? 0;
    const p = pressure?.[i / 2];
    input.push(p === undefined ? [x, y] : [x, y, p]);
  }
  const outline = getStroke(input, strokeOptions(size, pressure !== undefined, last));
  const path = new Path2D();
  const first = outline[0];
  if (!first) return path;
  path.moveTo(first[0], first[1]);
  for (let i = 1; i < outline.length; i++) {
    const [x0, y0] = outline[i] ?? first;
    const [x1, y1] = outline[(i + 1) % outline.length] ?? first;
    path.quadraticCurveTo(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2);
  }
  path.closePath();
  return path;
}

function cachedPenPath(el: BoardElement): Path2D {
  const points = el.points ?? [];
  const size = penSize(el.width);
  const hit = penPaths.get(points);
  if (hit && hit.size === size) return hit.path;
  const path = penOutline(points, el.pressure, size);
  penPaths.set(points, { size, path });
  return path;
}

/** The CSS font of a text element. */
export function fontOf(fontSize: number): string {
  return `${fontSize}px ${FONT_FAMILY}`;
}

/**
 * The lines a text or sticky note shows: split on newlines and, for stickies, wrapped to
 * the note's inner width (measured with `ctx`, cached per element version).
 */
export function textLines(ctx: CanvasRenderingContext2D, el: BoardElement): string[] {
  const hit = textLayouts.get(el);
  if (hit) return hit;
  const raw = (el.text ?? '').split('\n').map((l) => l.replace(/\r$/, ''));
  let lines = raw;
  if (el.type === 'sticky') {
    ctx.font = fontOf(el.fontSize);
    const max = Math.abs(el.geom.w) - 2 * STICKY_PADDING;
    lines = raw.flatMap((line) => wrap(ctx, line, max));
  }
  textLayouts.set(el, lines);
  return lines;
}

function wrap(ctx: CanvasRenderingContext2D, line: string, max: number): string[] {
  if (max <= 0 || ctx.measureText(line).width <= max) return [line];
  const out: string[] = [];
  let current = '';
  for (const word of line.split(/(\s+)/)) {
    const next = current + word;
    if (current !== '' && ctx.measureText(next).width > max) {
      out.push(current.trimEnd());
      current = word.trimStart();
    } else current = next;
    while (ctx.measureText(current).width > max && current.length > 1) {
      let cut = current.length - 1;
      while (cut > 1 && ctx.measureText(current.slice(0, cut)).width > max) cut--;
      out.push(current.slice(0, cut));
      current = current.slice(cut);
    }
  }
  out.push(current);
  return out;
}

function applyStroke(ctx: CanvasRenderingContext2D, el: BoardElement, ink: Ink): void {
  ctx.strokeStyle = ink(el.stroke);
  ctx.lineWidth = el.width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  const unit = Math.max(el.width, 1);
  if (el.dash === 'dashed') ctx.setLineDash([unit * 4, unit * 4]);
  else if (el.dash === 'dotted') ctx.setLineDash([0.01, unit * 2.5]);
  else ctx.setLineDash([]);
}

/** Fills (unless the fill is none) and strokes (unless the width is 0) the current path. */
function fillAndStroke(ctx: CanvasRenderingContext2D, el: BoardElement, ink: Ink): void {
  if (!isNone(el.fill)) {
    ctx.fillStyle = ink(el.fill);
    ctx.fill();
  }
  if (el.width > 0) {
    applyStroke(ctx, el, ink);
    ctx.stroke();
  }
}

function rectPath(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  w: number,
  h: number,
  r: number,
): void {
  ctx.beginPath();
  if (r > 0) ctx.roundRect(x, y, w, h, r);
  else ctx.rect(x, y, w, h);
}

function drawArrowHead(ctx: CanvasRenderingContext2D, from: Point, to: Point, width: number): void {
  const angle = Math.atan2(to.y - from.y, to.x - from.x);
  const len = Math.min(arrowHeadSize(width), Math.hypot(to.x - from.x, to.y - from.y) * 0.5);
  const spread = Math.PI / 7;
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(to.x - len * Math.cos(angle - spread), to.y - len * Math.sin(angle - spread));
  ctx.lineTo(to.x, to.y);
  ctx.lineTo(to.x - len * Math.cos(angle + spread), to.y - len * Math.sin(angle + spread));
  ctx.stroke();
}

function drawText(
  ctx: CanvasRenderingContext2D,
  el: BoardElement,
  left: number,
  top: number,
  zoom: number,
  ink: Ink,
): void {
  const fs = el.fontSize;
  if (fs * zoom < 4) {
    const lines = (el.text ?? '').split('\n');
    ctx.fillStyle = ink(el.stroke);
    ctx.globalAlpha *= 0.35;
    for (let i = 0; i < lines.length; i++) {
      const w = (lines[i] ?? '').length * fs * 0.5;
      if (w > 0) ctx.fillRect(left, top + fs * LINE_HEIGHT * i + fs * 0.3, w, fs * 0.6);
    }
    return;
  }
  const lines = textLines(ctx, el);
  ctx.font = fontOf(fs);
  ctx.fillStyle = ink(el.stroke);
  ctx.textBaseline = 'middle';
  for (let i = 0; i < lines.length; i++) {
    ctx.fillText(lines[i] ?? '', left, top + fs * LINE_HEIGHT * (i + 0.5));
  }
}

/**
 * Draws `el` on `ctx`, whose transform maps board units to pixels. Leaves the context's
 * state as it found it.
 */
export function drawElement(ctx: CanvasRenderingContext2D, el: BoardElement, env: DrawEnv): void {
  const g = el.geom;
  const w = Math.abs(g.w);
  const h = Math.abs(g.h);
  const tiny = Math.max(w, h) * env.zoom < 2 && el.type !== 'pen';
  const ink = env.ink ?? lightInk;
  ctx.save();
  ctx.globalAlpha = el.opacity;
  if (g.rot !== 0 && el.type !== 'line' && el.type !== 'arrow') {
    const c = centre(g);
    ctx.translate(c.x, c.y);
    ctx.rotate((g.rot * Math.PI) / 180);
    ctx.translate(-c.x, -c.y);
  }
  if (tiny) {
    ctx.fillStyle = ink(
      el.type === 'sticky' ? (isNone(el.fill) ? STICKY_FILL : el.fill) : el.stroke,
    );
    ctx.fillRect(g.x, g.y, Math.max(w, 1 / env.zoom), Math.max(h, 1 / env.zoom));
    ctx.restore();
    return;
  }
  switch (el.type) {
    case 'rect': {
      const r = Math.min(8, w / 4, h / 4);
      rectPath(ctx, g.x, g.y, w, h, r);
      fillAndStroke(ctx, el, ink);
      break;
    }
    case 'ellipse': {
      ctx.beginPath();
      ctx.ellipse(g.x + w / 2, g.y + h / 2, w / 2, h / 2, 0, 0, Math.PI * 2);
      fillAndStroke(ctx, el, ink);
      break;
    }
    case 'line':
    case 'arrow': {
      const [a, b] = lineEnds(g);
      applyStroke(ctx, el, ink);
      ctx.beginPath();
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
      ctx.stroke();
      if (el.type === 'arrow') drawArrowHead(ctx, a, b, el.width);
      break;
    }
    case 'pen': {
      ctx.translate(g.x, g.y);
      ctx.fillStyle = ink(el.stroke);
      ctx.fill(cachedPenPath(el));
      break;
    }
    case 'text':
      drawText(ctx, el, g.x, g.y, env.zoom, ink);
      break;
    case 'sticky': {
      const fill = isNone(el.fill) ? STICKY_FILL : el.fill;
      ctx.fillStyle = ink('rgba(0, 0, 0, 0.06)');
      rectPath(ctx, g.x + 1, g.y + 4, w, h, 6);
      ctx.fill();
      ctx.fillStyle = ink('rgba(0, 0, 0, 0.05)');
      rectPath(ctx, g.x, g.y + 1.5, w, h, 5);
      ctx.fill();
      ctx.fillStyle = ink(fill);
      rectPath(ctx, g.x, g.y, w, h, 4);
      ctx.fill();
      ctx.save();
      ctx.beginPath();
      ctx.rect(g.x, g.y, w, h);
      ctx.clip();
      drawText(ctx, el, g.x + STICKY_PADDING, g.y + STICKY_PADDING, env.zoom, ink);
      ctx.restore();
      break;
    }
    case 'image': {
      const img = el.assetId ? env.images.get(el.assetId) : null;
      if (img) ctx.drawImage(img, g.x, g.y, w, h);
      else {
        ctx.fillStyle = ink('#f1f3f5');
        ctx.fillRect(g.x, g.y, w, h);
        ctx.strokeStyle = ink('#adb5bd');
        ctx.lineWidth = 1 / env.zoom;
        ctx.setLineDash([6 / env.zoom, 4 / env.zoom]);
        ctx.strokeRect(g.x, g.y, w, h);
      }
      break;
    }
  }
  ctx.restore();
}

/** The size a text element's box needs for its text (measured with `ctx`). */
export function measureText(
  ctx: CanvasRenderingContext2D,
  text: string,
  fontSize: number,
): { w: number; h: number } {
  ctx.font = fontOf(fontSize);
  const lines = text.split('\n');
  const w = Math.max(fontSize * 0.5, ...lines.map((l) => ctx.measureText(l).width));
  return {
    w: Math.ceil(w + 2),
    h: Math.ceil(lines.length * fontSize * LINE_HEIGHT + fontSize * 0.25),
  };
}
