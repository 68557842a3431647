// The board renderer: committed elements on a Canvas 2D, fast at tens of thousands of shapes.
//
// Owns the spatial index (kept in step with the model by changed ids), culling, the cached
// static layer and the frame loop. Committed elements are drawn into an offscreen canvas
// covering the viewport plus a margin at the current zoom; a frame blits it (translated
// while panning, scaled while a zoom is in progress) and re-renders it only when the view
// leaves it, when a zoom settles, or where elements changed (clipped to their boxes).
// Above it each frame come the dot grid (a pattern) and the interactive overlay the editor
// supplies (selection, handles, previews, remote cursors' gestures). Redraws happen only on
// demand, batched by requestAnimationFrame. Never writes the document.
//
// A benchmark or any page can drive it with just a Y.Doc and a canvas:
//   const r = createRenderer(canvas, doc); r.resize(); r.setCamera({ x, y, zoom }); r.renderNow();
// (`renderNow` draws synchronously; otherwise frames follow requestAnimationFrame.)

import * as Y from 'yjs';
import { boxesIntersect, growBox, unionBox, type Box, type Point } from '../board/geometry';
import { hitTest } from '../board/geometry';
import { BoardModel, type ModelChange } from '../board/model';
import type { BoardElement } from '../board/types';
import { visibleBox, type Camera } from './camera';
import { drawElement, type ImageSource } from './shapes';
import { SpatialIndex } from './spatial';

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

/** Image elements' pictures, fetched once per asset and cached. */
class ImageCache implements ImageSource {
  private readonly images = new Map<string, HTMLImageElement>();
  constructor(
    private readonly url: ((id: string) => string) | undefined,
    private readonly onLoad: () => void,
  ) {}
  get(assetId: string): CanvasImageSource | null {
    if (!this.url) return null;
    let img = this.images.get(assetId);
    if (!img) {
      img = new Image();
      img.decoding = 'async';
      img.onload = () => this.onLoad();
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
  const cache = document.createElement('canvas');
  const cctxOrNull = cache.getContext('2d');
  if (!cctxOrNull) throw new Error('this browser cannot draw on a 2D canvas');
  const cctx = cctxOrNull;

  let camera: Camera = { x: 0, y: 0, zoom: 1 };
  let width = 0;
  let height = 0;
  let dpr = 1;
  let margin = 0;
  let cacheCam: Camera | null = null;
  let cacheBox: Box | null = null;
  let dirty: Box[] = [];
  let fullDirty = true;
  let hidden: ReadonlySet<string> = new Set();
  let overlay: OverlayFn | null = null;
  let gridVisible = false;
  let frameRequested = false;
  let lastZoomChange = 0;
  let settleTimer: ReturnType<typeof setTimeout> | null = null;
  let positions = new Map<string, number>();
  let positionsOf: readonly BoardElement[] | null = null;
  let grid: { zoom: number; pattern: CanvasPattern | null; step: number } | null = null;
  let destroyed = false;

  const images = new ImageCache(opts.assetUrl, () => {
    fullDirty = true;
    requestFrame();
  });

  function orderPositions(): Map<string, number> {
    const ordered = model.ordered();
    if (ordered !== positionsOf) {
      positions = new Map(ordered.map((e, i) => [e.id, i]));
      positionsOf = ordered;
    }
    return positions;
  }

  function elementsIn(box: Box): BoardElement[] {
    const ordered = model.ordered();
    const ids = index.search(box);
    if (ids.length > ordered.length / 3) {
      const hit = new Set(ids);
      return ordered.filter((e) => hit.has(e.id));
    }
    const pos = orderPositions();
    ids.sort((a, b) => (pos.get(a) ?? 0) - (pos.get(b) ?? 0));
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
      fullDirty = true;
    } else {
      for (const id of c.elements) {
        const old = index.update(id, model.get(id));
        if (old) dirty.push(old);
        const now = index.bounds(id);
        if (now) dirty.push(now);
      }
    }
    requestFrame();
  });

  function requestFrame(): void {
    if (frameRequested || destroyed) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      if (!destroyed) frame();
    });
  }

  function renderStatic(region: Box | null): void {
    if (!cacheCam || !cacheBox) return;
    const z = cacheCam.zoom * dpr;
    cctx.setTransform(z, 0, 0, z, -cacheCam.x * z, -cacheCam.y * z);
    const area = region ?? cacheBox;
    cctx.save();
    if (region) {
      cctx.beginPath();
      cctx.rect(region.minX, region.minY, region.maxX - region.minX, region.maxY - region.minY);
      cctx.clip();
    }
    cctx.clearRect(area.minX, area.minY, area.maxX - area.minX, area.maxY - area.minY);
    const env = { zoom: cacheCam.zoom, images };
    for (const el of elementsIn(area)) if (!hidden.has(el.id)) drawElement(cctx, el, env);
    cctx.restore();
  }

  function rebuildCache(): void {
    margin = Math.min(600, Math.round(Math.max(width, height) * 0.5));
    const cw = Math.ceil((width + 2 * margin) * dpr);
    const ch = Math.ceil((height + 2 * margin) * dpr);
    if (cache.width !== cw || cache.height !== ch) {
      cache.width = cw;
      cache.height = ch;
    }
    cacheCam = {
      x: camera.x - margin / camera.zoom,
      y: camera.y - margin / camera.zoom,
      zoom: camera.zoom,
    };
    cacheBox = {
      minX: cacheCam.x,
      minY: cacheCam.y,
      maxX: cacheCam.x + (width + 2 * margin) / camera.zoom,
      maxY: cacheCam.y + (height + 2 * margin) / camera.zoom,
    };
    renderStatic(null);
    dirty = [];
    fullDirty = false;
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
    const zoomChanged = cacheCam !== null && cacheCam.zoom !== camera.zoom;
    const settled = performance.now() - lastZoomChange >= ZOOM_SETTLE_MS;
    const ratio = cacheCam ? camera.zoom / cacheCam.zoom : 1;
    const inside =
      cacheBox !== null &&
      view.minX >= cacheBox.minX &&
      view.minY >= cacheBox.minY &&
      view.maxX <= cacheBox.maxX &&
      view.maxY <= cacheBox.maxY;
    if (
      fullDirty ||
      !cacheCam ||
      (zoomChanged && (settled || ratio > 2 || ratio < 0.5)) ||
      (!zoomChanged && !inside)
    ) {
      rebuildCache();
    } else if (dirty.length > 0 && !zoomChanged) {
      if (dirty.length > PARTIAL_LIMIT) renderStatic(null);
      else {
        const pad = 2 / camera.zoom;
        for (const box of mergeBoxes(dirty)) renderStatic(growBox(box, pad));
      }
      dirty = [];
    } else if (zoomChanged && !settled) {
      if (settleTimer === null) {
        settleTimer = setTimeout(() => {
          settleTimer = null;
          requestFrame();
        }, ZOOM_SETTLE_MS);
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
    if (cacheCam) {
      const s = camera.zoom / cacheCam.zoom;
      ctx.imageSmoothingEnabled = s !== 1;
      ctx.drawImage(
        cache,
        (cacheCam.x - camera.x) * camera.zoom,
        (cacheCam.y - camera.y) * camera.zoom,
        (cache.width / dpr) * s,
        (cache.height / dpr) * s,
      );
    }
    if (overlay) {
      ctx.save();
      overlay(ctx, camera);
      ctx.restore();
    }
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
      fullDirty = true;
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
    if (b) dirty.push(b);
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
