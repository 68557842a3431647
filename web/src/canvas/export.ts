// Exporting the board (or a selection) as a PNG or a standalone SVG, in the browser.
//
// Owns turning elements into an image file: the PNG is drawn with the same code as the
// screen (shapes.ts) on an offscreen canvas; the SVG is written element by element (pen
// strokes as their perfect-freehand outline, text escaped, images inlined as data URLs).
// Reads elements only; never writes the document.

import { getStroke } from 'perfect-freehand';
import {
  arrowHeadSize,
  centre,
  elementBounds,
  lineEnds,
  unionBox,
  type Box,
} from '../board/geometry';
import {
  FONT_FAMILY,
  LINE_HEIGHT,
  STICKY_FILL,
  STICKY_PADDING,
  type BoardElement,
} from '../board/types';
import { drawElement, penSize } from './shapes';

/** Space around the exported drawing, in board units. */
const MARGIN = 24;

/** The box around `elements` plus the export margin, or null when there are none. */
export function exportBounds(elements: readonly BoardElement[]): Box | null {
  let box: Box | null = null;
  for (const el of elements) box = box ? unionBox(box, elementBounds(el)) : elementBounds(el);
  if (!box) return null;
  return {
    minX: box.minX - MARGIN,
    minY: box.minY - MARGIN,
    maxX: box.maxX + MARGIN,
    maxY: box.maxY + MARGIN,
  };
}

/** Draws `elements` (in paint order) as a PNG at `scale`, on `background` (null: transparent). */
export async function exportPng(
  elements: readonly BoardElement[],
  loadImage: (assetId: string) => Promise<CanvasImageSource | null>,
  opts: { scale?: number; background?: string | null } = {},
): Promise<Blob> {
  const scale = opts.scale ?? 2;
  const box = exportBounds(elements) ?? { minX: 0, minY: 0, maxX: 100, maxY: 100 };
  const w = Math.max(1, Math.ceil((box.maxX - box.minX) * scale));
  const h = Math.max(1, Math.ceil((box.maxY - box.minY) * scale));
  const canvas = document.createElement('canvas');
  canvas.width = Math.min(w, 16384);
  canvas.height = Math.min(h, 16384);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw on a 2D canvas');
  const images = new Map<string, CanvasImageSource | null>();
  for (const el of elements) {
    if (el.type === 'image' && el.assetId && !images.has(el.assetId)) {
      images.set(el.assetId, await loadImage(el.assetId));
    }
  }
  if (opts.background !== null) {
    ctx.fillStyle = opts.background ?? '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  ctx.setTransform(scale, 0, 0, scale, -box.minX * scale, -box.minY * scale);
  const env = { zoom: scale, images: { get: (id: string) => images.get(id) ?? null } };
  for (const el of elements) drawElement(ctx, el, env);
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('the PNG could not be encoded'))),
      'image/png',
    ),
  );
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function strokeAttrs(el: BoardElement): string {
  const unit = Math.max(el.width, 1);
  const dash =
    el.dash === 'dashed'
      ? ` stroke-dasharray="${n(unit * 4)} ${n(unit * 4)}"`
      : el.dash === 'dotted'
        ? ` stroke-dasharray="0.01 ${n(unit * 2.5)}"`
        : '';
  return ` stroke="${esc(el.stroke)}" stroke-width="${n(el.width)}" stroke-linecap="round" stroke-linejoin="round"${dash}`;
}

function textSvg(el: BoardElement, left: number, top: number): string {
  const fs = el.fontSize;
  const lines = (el.text ?? '').split('\n');
  const spans = lines
    .map(
      (line, i) =>
        `<tspan x="${n(left)}" y="${n(top + fs * LINE_HEIGHT * (i + 0.5))}">${esc(line)}</tspan>`,
    )
    .join('');
  return `<text font-family="${esc(FONT_FAMILY)}" font-size="${n(fs)}" fill="${esc(el.stroke)}" dominant-baseline="central" xml:space="preserve">${spans}</text>`;
}

function penD(el: BoardElement): string {
  const pts = el.points ?? [];
  const input: number[][] = [];
  for (let i = 0; i + 1 < pts.length; i += 2) {
    const p = el.pressure?.[i / 2];
    const x = el.geom.x + (pts[i] ?? 0);
    const y = el.geom.y + (pts[i + 1] ?? 0);
    input.push(p === undefined ? [x, y] : [x, y, p]);
  }
  const outline = getStroke(input, {
    size: penSize(el.width),
    thinning: el.pressure ? 0.6 : 0.5,
    smoothing: 0.6,
    streamline: 0.5,
    simulatePressure: !el.pressure,
    last: true,
  });
  return outline.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n(x)} ${n(y)}`).join(' ') + ' Z';
}

function elementSvg(el: BoardElement, imageHref: (assetId: string) => string | null): string {
  const g = el.geom;
  const w = Math.abs(g.w);
  const h = Math.abs(g.h);
  const c = centre(g);
  const fill = el.fill === 'none' ? 'none' : esc(el.fill);
  const rotate =
    g.rot !== 0 && el.type !== 'line' && el.type !== 'arrow'
      ? ` transform="rotate(${n(g.rot)} ${n(c.x)} ${n(c.y)})"`
      : '';
  const open = `<g data-id="${esc(el.id)}" opacity="${n(el.opacity)}"${rotate}>`;
  let body = '';
  switch (el.type) {
    case 'rect': {
      const r = Math.min(8, w / 4, h / 4);
      body = `<rect x="${n(g.x)}" y="${n(g.y)}" width="${n(w)}" height="${n(h)}" rx="${n(r)}" fill="${fill}"${strokeAttrs(el)}/>`;
      break;
    }
    case 'ellipse':
      body = `<ellipse cx="${n(c.x)}" cy="${n(c.y)}" rx="${n(w / 2)}" ry="${n(h / 2)}" fill="${fill}"${strokeAttrs(el)}/>`;
      break;
    case 'line':
    case 'arrow': {
      const [a, b] = lineEnds(g);
      body = `<path d="M${n(a.x)} ${n(a.y)} L${n(b.x)} ${n(b.y)}" fill="none"${strokeAttrs(el)}/>`;
      if (el.type === 'arrow') {
        const ang = Math.atan2(b.y - a.y, b.x - a.x);
        const len = Math.min(arrowHeadSize(el.width), Math.hypot(b.x - a.x, b.y - a.y) * 0.5);
        const s = Math.PI / 7;
        body += `<path d="M${n(b.x - len * Math.cos(ang - s))} ${n(b.y - len * Math.sin(ang - s))} L${n(b.x)} ${n(b.y)} L${n(b.x - len * Math.cos(ang + s))} ${n(b.y - len * Math.sin(ang + s))}" fill="none"${strokeAttrs({ ...el, dash: 'solid' })}/>`;
      }
      break;
    }
    case 'pen':
      body = `<path d="${penD(el)}" fill="${esc(el.stroke)}"/>`;
      break;
    case 'text':
      body = textSvg(el, g.x, g.y);
      break;
    case 'sticky':
      body =
        `<rect x="${n(g.x)}" y="${n(g.y + 2)}" width="${n(w)}" height="${n(h)}" rx="6" fill="#000" opacity="0.08"/>` +
        `<rect x="${n(g.x)}" y="${n(g.y)}" width="${n(w)}" height="${n(h)}" rx="4" fill="${el.fill === 'none' ? STICKY_FILL : esc(el.fill)}"/>` +
        textSvg(el, g.x + STICKY_PADDING, g.y + STICKY_PADDING);
      break;
    case 'image': {
      const href = el.assetId ? imageHref(el.assetId) : null;
      body = href
        ? `<image x="${n(g.x)}" y="${n(g.y)}" width="${n(w)}" height="${n(h)}" href="${esc(href)}" preserveAspectRatio="none"/>`
        : `<rect x="${n(g.x)}" y="${n(g.y)}" width="${n(w)}" height="${n(h)}" fill="#f1f3f5" stroke="#adb5bd" stroke-dasharray="6 4"/>`;
      break;
    }
  }
  return `${open}${body}</g>`;
}

/** Fetches an image as a data URL (so an SVG export stands alone), or null when it cannot. */
export async function dataUrl(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { credentials: 'same-origin' });
    if (!res.ok) return null;
    const blob = await res.blob();
    return await new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : null);
      reader.onerror = () => resolve(null);
      reader.readAsDataURL(blob);
    });
  } catch {
    return null;
  }
}

/** `elements` (in paint order) as a standalone SVG document; `imageData` gives images' data URLs. */
export async function exportSvg(
  elements: readonly BoardElement[],
  imageData: (assetId: string) => Promise<string | null>,
): Promise<string> {
  const box = exportBounds(elements) ?? { minX: 0, minY: 0, maxX: 100, maxY: 100 };
  const hrefs = new Map<string, string | null>();
  for (const el of elements) {
    if (el.type === 'image' && el.assetId && !hrefs.has(el.assetId))
      hrefs.set(el.assetId, await imageData(el.assetId));
  }
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const body = elements.map((el) => elementSvg(el, (id) => hrefs.get(id) ?? null)).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${n(w)}" height="${n(h)}" viewBox="${n(box.minX)} ${n(box.minY)} ${n(w)} ${n(h)}">${body}</svg>`;
}
