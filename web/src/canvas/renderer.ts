// The board renderer: committed elements on a Canvas 2D, fast at tens of thousands of shapes.
//
// Owns the spatial index (kept in step with the model by changed ids), culling, the cached
// static layer and the frame loop. Committed elements are drawn into an offscreen layer
// covering the viewport plus a margin at the current zoom; a frame blits it (translated
// while panning, scaled while a zoom is in progress) and redraws only where elements
// changed (clipped to their boxes). When the view nears the layer's edge or a zoom settles,
// a new layer is drawn a few milliseconds per frame behind the one on screen and swapped in
// when complete, so no frame ever waits for the whole scene; only the very first layer
// (and one after a resize) is drawn at once.
// Above it each frame come the dot grid (a pattern) and the interactive overlay the editor
// supplies (selection, handles, previews, remote cursors' gestures). Redraws happen only on
// demand, batched by requestAnimationFrame. Never writes the document.
//
// A benchmark or any page can drive it with just a Y.Doc and a canvas:
//   const r = createRenderer(canvas, doc); r.resize(); r.setCamera({ x, y, zoom }); r.renderNow();
// (`renderNow` draws synchronously; otherwise frames follow requestAnimationFrame.)
// In dark mode (`dark`), element colours are mapped through the dark ink (./ink.ts); images
// keep their true colours.

import * as Y from 'yjs';
import {
  boxContains,
  boxesIntersect,
  growBox,
  intersectBox,
  unionBox,
  type Box,
  type Point,
} from '../board/geometry';
import { hitTest } from '../board/geometry';
import { BoardModel, type ModelChange } from '../board/model';
import type { BoardElement } from '../board/types';
import { visibleBox, type Camera } from './camera';
import { drawElement, type ImageSource } from './shapes';
import { SpatialIndex } from './spatial';
import { darkInk, lightInk, type Ink } from './ink';

/** Draws the interactive layer, in CSS pixels (the context is already scaled for the device). */
export type OverlayFn = (ctx: CanvasRenderingContext2D, camera: Camera) => void;

/** Options for [createRenderer]. */
export interface RendererOptions {
  /** The URL of an uploaded image, for image elements. */
  assetUrl?: (assetId: string) => string;
  /** Called after each frame with its duration in ms (benchmarks). */
  onFrame?: (ms: number) => void;
}

/** See the module comment. */
export interface Renderer {
  readonly model: BoardModel;
  readonly index: SpatialIndex;
  readonly camera: Camera;
  /** The canvas size in CSS pixels. */
  readonly width: number;
  readonly height: number;
  gridVisible: boolean;
  /** Dark mode: element colours are drawn through the dark ink (images keep theirs). */
  dark: boolean;
  /** The ink elements are drawn with now (for overlays drawing elements the same way). */
  readonly ink: Ink;
  setCamera(c: Camera): void;
  /** Reads the canvas's CSS size and the device pixel ratio again. */
  resize(): void;
  /** Elements not drawn in the static layer (being dragged: the overlay draws them). */
  setHidden(ids: ReadonlySet<string>): void;
  setOverlay(fn: OverlayFn | null): void;
  /** Asks for a frame (the overlay changed). */
  requestFrame(): void;
  /** Draws a frame now. */
  renderNow(): void;
  /** Elements under a board point, topmost first, within `tolerance` board units. */
  elementsAt(p: Point, tolerance: number): BoardElement[];
  /** Elements whose bounds meet a board box, in paint order. */
  elementsIn(box: Box): BoardElement[];
  /** The images loaded so far (shared with the overlay and exports). */
  readonly images: ImageSource;
  destroy(): void;
}

const ZOOM_SETTLE_MS = 140;
const PARTIAL_LIMIT = 64;
/**
 * Script time a frame spends drawing the next layer, in ms (the canvas rasterises the
 * recorded drawing later in the same frame, which costs about as much again), and when
 * the view has already run past the layer on screen.
 */
const SLICE_MS = 4;
const SLICE_HURRY_MS = 8;
/** The largest side of a cached layer, in device pixels. */
const MAX_LAYER_PX = 4096;

/** A cached drawing of the committed elements over `box` at `cam`'s zoom. */
interface Layer {
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
  cam: Camera;
  box: Box;
  /** CSS pixels drawn beyond the view on each side. */
  margin: number;
  /** Whether the layer held every element when it was drawn. */
  coversAll: boolean;
  /** Device pixels of `canvas` the layer uses, from its top-left (the canvas may be larger). */
  pw: number;
  ph: number;
}

/** A layer being drawn a slice per frame: its elements in paint order and how far it got. */
interface Job {
  layer: Layer;
  list: BoardElement[];
  next: number;
}

/** Image elements' pictures, fetched once per asset and cached. */
class ImageCache implements ImageSource {
  private readonly images = new Map<string, HTMLImageElement>();
  constructor(
    private readonly url: ((id: string) => string) | undefined,
    private readonly onLoad: (assetId: string) => void,
  ) {}
  get(assetId: string): CanvasImageSource | null {
    if (!this.url) return null;
    let img = this.images.get(assetId);
    if (!img) {
      img = new Image();
      img.decoding = 'async';
      img.onload = () => this.onLoad(assetId);
      img.src = this.url(assetId);
      this.images.set(assetId, img);
    }
    return img.complete && img.naturalWidth > 0 ? img : null;
  }
}

/** Creates a renderer drawing the board of `source` (a document or a model over it) on `canvas`. */
export function createRenderer(
  canvas: HTMLCanvasElement,
  source: Y.Doc | BoardModel,
  opts: RendererOptions = {},
): Renderer {
  const model = source instanceof BoardModel ? source : new BoardModel(source);
  const ownsModel = !(source instanceof BoardModel);
  const index = new SpatialIndex();
  index.load(model.elements.values());
  const ctxOrNull = canvas.getContext('2d');
  if (!ctxOrNull) throw new Error('this browser cannot draw on a 2D canvas');
  const ctx = ctxOrNull;

  let camera: Camera = { x: 0, y: 0, zoom: 1 };
  let width = 0;
  let height = 0;
  let dpr = 1;
  let front: Layer | null = null;
  let spare: HTMLCanvasElement | null = null;
  let job: Job | null = null;
  let dirty: Box[] = [];
  let jobDirty: Box[] = [];
  let syncNeeded = true;
  let hidden: ReadonlySet<string> = new Set();
  let overlay: OverlayFn | null = null;
  let gridVisible = false;
  let ink: Ink = lightInk;
  let frameRequested = false;
  let lastZoomChange = 0;
  let settleTimer: ReturnType<typeof setTimeout> | null = null;
  let grid: { zoom: number; pattern: CanvasPattern | null; step: number } | null = null;
  let destroyed = false;

  const images = new ImageCache(opts.assetUrl, (assetId) => {
    for (const el of model.elements.values()) {
      if (el.assetId !== assetId) continue;
      const b = index.bounds(el.id);
      if (b) pushDirty(b);
    }
    requestFrame();
  });

  function elementsIn(box: Box): BoardElement[] {
    const ordered = model.ordered();
    const ids = index.search(box);
    if (ids.length > ordered.length / 3) {
      const hit = new Set(ids);
      return ordered.filter((e) => hit.has(e.id));
    }
    ids.sort((a, b) => model.position(a) - model.position(b));
    const out: BoardElement[] = [];
    for (const id of ids) {
      const el = model.get(id);
      if (el) out.push(el);
    }
    return out;
  }

  const unsubscribe = model.onChange((c: ModelChange) => {
    if (c.elements.size > 2000) {
      index.load(model.elements.values());
      if (front) startJob();
      else syncNeeded = true;
    } else {
      for (const id of c.elements) {
        const old = index.update(id, model.get(id));
        if (old) pushDirty(old);
        const now = index.bounds(id);
        if (now) pushDirty(now);
        if (now && front && !boxContains(front.box, now)) front.coversAll = false;
      }
    }
    requestFrame();
  });

  function pushDirty(b: Box): void {
    dirty.push(b);
    if (job) jobDirty.push(b);
  }

  function requestFrame(): void {
    if (frameRequested || destroyed) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      if (!destroyed) frame();
    });
  }

  /**
   * A layer for the current camera: the view plus a wide margin on every side, trimmed to
   * where there are elements (so at low zoom one layer often holds the whole board and
   * panning never needs another).
   */
  function newLayer(reuse: HTMLCanvasElement | null): Layer {
    const room = Math.round((MAX_LAYER_PX / dpr - Math.max(width, height)) / 2);
    const margin = Math.max(200, Math.min(room, Math.round(Math.max(width, height) * 0.5)));
    const view = visibleBox(camera, width, height);
    const extent = index.extent();
    const fitsWhole =
      extent !== null &&
      (extent.maxX - extent.minX) * camera.zoom * dpr <= MAX_LAYER_PX - 32 &&
      (extent.maxY - extent.minY) * camera.zoom * dpr <= MAX_LAYER_PX - 32;
    const wanted = fitsWhole
      ? growBox(extent, 16 / camera.zoom)
      : growBox(view, margin / camera.zoom);
    const content = extent ? intersectBox(wanted, growBox(extent, 8 / camera.zoom)) : null;
    const box = content ?? {
      minX: view.minX,
      minY: view.minY,
      maxX: view.minX + 1,
      maxY: view.minY + 1,
    };
    const coversAll = extent === null || boxContains(wanted, extent);
    const cam = { x: box.minX, y: box.minY, zoom: camera.zoom };
    const cw = Math.max(1, Math.ceil((box.maxX - box.minX) * camera.zoom * dpr));
    const ch = Math.max(1, Math.ceil((box.maxY - box.minY) * camera.zoom * dpr));
    const c = reuse ?? document.createElement('canvas');
    // Grow only: resizing a canvas reallocates its backing store (up to 64 MB), which cost
    // more than the drawing itself at every zoom step. A larger canvas is used in part.
    if (c.width < cw || c.height < ch) {
      c.width = Math.max(c.width, cw);
      c.height = Math.max(c.height, ch);
    }
    const lctx = c.getContext('2d');
    if (!lctx) throw new Error('this browser cannot draw on a 2D canvas');
    lctx.setTransform(1, 0, 0, 1, 0, 0);
    lctx.clearRect(0, 0, cw, ch);
    const z = cam.zoom * dpr;
    lctx.setTransform(z, 0, 0, z, -cam.x * z, -cam.y * z);
    return { canvas: c, ctx: lctx, cam, box, margin, coversAll, pw: cw, ph: ch };
  }

  /** Whether `layer` holds everything the view (grown by `slack`) can show. */
  function serves(layer: Layer, view: Box, slack: number): boolean {
    if (layer.coversAll) return true;
    const extent = index.extent();
    if (!extent) return true;
    const need = intersectBox(growBox(view, slack), extent);
    return need === null || boxContains(layer.box, need);
  }

  /** Redraws `region` of a layer (everything touching it, clipped to it). */
  function renderRegion(layer: Layer, region: Box): void {
    const lctx = layer.ctx;
    lctx.save();
    lctx.beginPath();
    lctx.rect(region.minX, region.minY, region.maxX - region.minX, region.maxY - region.minY);
    lctx.clip();
    lctx.clearRect(region.minX, region.minY, region.maxX - region.minX, region.maxY - region.minY);
    const env = { zoom: layer.cam.zoom, images, ink };
    for (const el of elementsIn(region)) if (!hidden.has(el.id)) drawElement(lctx, el, env);
    lctx.restore();
  }

  /** Starts (or restarts) drawing a new layer for the current camera, a slice per frame. */
  function startJob(): void {
    const reuse = job?.layer.canvas ?? spare;
    spare = null;
    const layer = newLayer(reuse);
    job = { layer, list: elementsIn(layer.box), next: 0 };
    jobDirty = [];
  }

  /** Draws the job's next elements within `budget` ms; answers whether it is finished. */
  function advance(j: Job, budget: number): boolean {
    const t0 = performance.now();
    const env = { zoom: j.layer.cam.zoom, images, ink };
    const list = j.list;
    while (j.next < list.length) {
      const end = Math.min(list.length, j.next + 16);
      for (; j.next < end; j.next++) {
        const el = list[j.next];
        if (el && !hidden.has(el.id)) drawElement(j.layer.ctx, el, env);
      }
      if (performance.now() - t0 > budget) break;
    }
    return j.next >= list.length;
  }

  /** Makes `layer` the one on screen, then redraws what changed while it was being drawn. */
  function swapIn(layer: Layer, changed: Box[]): void {
    if (front && front.canvas !== layer.canvas) spare = front.canvas;
    front = layer;
    const pad = 2 / layer.cam.zoom;
    for (const box of mergeBoxes(changed)) renderRegion(layer, growBox(box, pad));
  }

  function gridPattern(): { pattern: CanvasPattern | null; step: number } {
    if (grid && grid.zoom === camera.zoom) return grid;
    let step = 20;
    while (step * camera.zoom < 12) step *= 5;
    const px = step * camera.zoom * dpr;
    const tile = document.createElement('canvas');
    tile.width = Math.max(1, Math.round(px));
    tile.height = tile.width;
    const t = tile.getContext('2d');
    if (t) {
      t.fillStyle = 'rgba(120, 120, 130, 0.45)';
      const r = Math.max(0.8, Math.min(1.4, camera.zoom)) * dpr;
      t.beginPath();
      t.arc(0, 0, r, 0, Math.PI * 2);
      t.arc(tile.width, 0, r, 0, Math.PI * 2);
      t.arc(0, tile.height, r, 0, Math.PI * 2);
      t.arc(tile.width, tile.height, r, 0, Math.PI * 2);
      t.fill();
    }
    grid = { zoom: camera.zoom, pattern: ctx.createPattern(tile, 'repeat'), step };
    return grid;
  }

  function frame(): void {
    const t0 = performance.now();
    if (width === 0 || height === 0) return;
    const view = visibleBox(camera, width, height);
    if (syncNeeded || !front) {
      const layer = newLayer(front?.canvas ?? null);
      const env = { zoom: layer.cam.zoom, images, ink };
      for (const el of elementsIn(layer.box))
        if (!hidden.has(el.id)) drawElement(layer.ctx, el, env);
      front = layer;
      job = null;
      dirty = [];
      jobDirty = [];
      syncNeeded = false;
    } else {
      if (dirty.length > PARTIAL_LIMIT) {
        dirty = [];
        startJob();
      } else if (dirty.length > 0) {
        const pad = 2 / front.cam.zoom;
        for (const box of mergeBoxes(dirty)) renderRegion(front, growBox(box, pad));
        dirty = [];
      }
      const settled = performance.now() - lastZoomChange >= ZOOM_SETTLE_MS;
      const target = job?.layer ?? front;
      const ratio = camera.zoom / target.cam.zoom;
      const zoomOff = ratio !== 1;
      const slack = (target.margin * 0.35) / camera.zoom;
      if (zoomOff && (settled || ratio > 2 || ratio < 0.5)) startJob();
      else if (!zoomOff && !serves(target, view, slack)) startJob();
      else if (zoomOff && !settled && settleTimer === null) {
        settleTimer = setTimeout(() => {
          settleTimer = null;
          requestFrame();
        }, ZOOM_SETTLE_MS);
      }
      if (job) {
        const j = job;
        const hurry = !serves(front, view, 0) && front.cam.zoom === camera.zoom;
        if (advance(j, hurry ? SLICE_HURRY_MS : SLICE_MS)) {
          job = null;
          swapIn(j.layer, jobDirty);
          jobDirty = [];
        }
      }
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (gridVisible) {
      const g = gridPattern();
      if (g.pattern) {
        const ox = ((-camera.x * camera.zoom) % (g.step * camera.zoom)) * dpr;
        const oy = ((-camera.y * camera.zoom) % (g.step * camera.zoom)) * dpr;
        ctx.save();
        ctx.setTransform(1, 0, 0, 1, ox, oy);
        ctx.fillStyle = g.pattern;
        ctx.fillRect(-ox, -oy, width * dpr, height * dpr);
        ctx.restore();
      }
    }
    if (front) {
      const s = camera.zoom / front.cam.zoom;
      ctx.imageSmoothingEnabled = s !== 1;
      ctx.drawImage(
        front.canvas,
        0,
        0,
        front.pw,
        front.ph,
        (front.cam.x - camera.x) * camera.zoom,
        (front.cam.y - camera.y) * camera.zoom,
        (front.pw / dpr) * s,
        (front.ph / dpr) * s,
      );
    }
    if (overlay) {
      ctx.save();
      overlay(ctx, camera);
      ctx.restore();
    }
    if (job) requestFrame();
    opts.onFrame?.(performance.now() - t0);
  }

  return {
    model,
    index,
    images,
    get camera() {
      return camera;
    },
    get width() {
      return width;
    },
    get height() {
      return height;
    },
    get gridVisible() {
      return gridVisible;
    },
    set gridVisible(v: boolean) {
      gridVisible = v;
      requestFrame();
    },
    get dark() {
      return ink === darkInk;
    },
    set dark(v: boolean) {
      const next = v ? darkInk : lightInk;
      if (next === ink) return;
      ink = next;
      job = null;
      syncNeeded = true;
      requestFrame();
    },
    get ink() {
      return ink;
    },
    setCamera(c: Camera) {
      if (c.zoom !== camera.zoom) lastZoomChange = performance.now();
      camera = { ...c };
      requestFrame();
    },
    resize() {
      const rect = canvas.getBoundingClientRect();
      width = Math.max(1, Math.round(rect.width));
      height = Math.max(1, Math.round(rect.height));
      dpr = Math.min(window.devicePixelRatio || 1, 2);
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      grid = null;
      job = null;
      syncNeeded = true;
      requestFrame();
    },
    setHidden(ids: ReadonlySet<string>) {
      for (const id of hidden) if (!ids.has(id)) pushBounds(id);
      for (const id of ids) if (!hidden.has(id)) pushBounds(id);
      hidden = new Set(ids);
      requestFrame();
    },
    setOverlay(fn: OverlayFn | null) {
      overlay = fn;
      requestFrame();
    },
    requestFrame,
    renderNow: frame,
    elementsAt(p: Point, tolerance: number) {
      const box = {
        minX: p.x - tolerance,
        minY: p.y - tolerance,
        maxX: p.x + tolerance,
        maxY: p.y + tolerance,
      };
      return elementsIn(box)
        .filter((el) => hitTest(el, p, tolerance))
        .reverse();
    },
    elementsIn,
    destroy() {
      destroyed = true;
      if (settleTimer !== null) clearTimeout(settleTimer);
      unsubscribe();
      if (ownsModel) model.destroy();
    },
  };

  function pushBounds(id: string): void {
    const b = index.bounds(id);
    if (b) pushDirty(b);
  }
}

/** Merges overlapping boxes so a region is cleared and redrawn once. */
function mergeBoxes(boxes: Box[]): Box[] {
  const out: Box[] = [];
  for (const b of boxes) {
    let merged = b;
    for (let i = out.length - 1; i >= 0; i--) {
      const other = out[i];
      if (other && boxesIntersect(other, merged)) {
        merged = unionBox(other, merged);
        out.splice(i, 1);
      }
    }
    out.push(merged);
  }
  return out;
}
