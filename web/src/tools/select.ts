// The select tool: click, shift-click and marquee selection; move, resize and rotate.
//
// Owns its state machine (idle → pointing → translating / resizing / rotating / marquee)
// and draws its chrome (selection frame, handles, marquee). A drag previews through the
// context while it lasts and writes ONE change at pointer-up; locked elements are never
// moved. Double-clicking a text or sticky note opens the text editor.

import {
  boxFromPoints,
  centre,
  edgePoint,
  geomFromEnds,
  lineEnds,
  insideBox,
  insideShape,
  rotatePoint,
  type Point,
} from '../board/geometry';
import { compareOrder } from '../board/order';
import { isLinear, type Anchor, type BoardElement } from '../board/types';
import { boardToScreen, type Camera } from '../canvas/camera';
import {
  HANDLES,
  handlePoint,
  resizeElements,
  resizeFrame,
  rotateElements,
  rotateHandlePoint,
  selectionFrame,
  translateElements,
  withGeom,
  type Frame,
  type Handle,
  type Transformed,
} from './transform';
import { bindTarget } from './shape';
import { createTextTool } from './text';
import { DRAG_THRESHOLD, type Tool, type ToolContext, type ToolPointer } from './types';

const HANDLE_PX = 8;
const ROTATE_OFFSET_PX = 24;
/** Screen pixels between a selection and its frame. */
const PAD_PX = 4;

/** The frame as drawn: `f` grown by `d` board units on every side. */
function padded(f: Frame, d: number): Frame {
  return { x: f.x - d, y: f.y - d, w: f.w + 2 * d, h: f.h + 2 * d, rot: f.rot };
}

type State =
  | { kind: 'idle' }
  | { kind: 'pointing'; start: ToolPointer; hit: BoardElement | null; toggled: boolean }
  | {
      kind: 'translating';
      start: Point;
      elements: BoardElement[];
      geoms: Map<string, BoardElement['geom']>;
    }
  | {
      kind: 'resizing';
      handle: Handle;
      frame: Frame;
      start: Point;
      elements: BoardElement[];
      result: Transformed | null;
    }
  | {
      kind: 'rotating';
      frame: Frame;
      startAngle: number;
      elements: BoardElement[];
      result: Map<string, BoardElement['geom']> | null;
    }
  | { kind: 'marquee'; start: Point; base: Set<string>; end: Point }
  | {
      kind: 'endpoint';
      element: BoardElement;
      anchor: Anchor;
      geom: BoardElement['geom'] | null;
      target: string | null;
    };

/** What is under a board point in the selection's chrome. */
type ChromeHit =
  { kind: 'handle'; handle: Handle } | { kind: 'rotate' } | { kind: 'end'; anchor: Anchor } | null;

/** The selection when it is exactly one unlocked line or arrow (edited by its ends). */
function singleLinear(ctx: ToolContext): BoardElement | null {
  const els = selected(ctx);
  const [only] = els;
  return els.length === 1 && only && isLinear(only.type) && !only.locked ? only : null;
}

/** The editable elements of the selection, in paint order. */
function selected(ctx: ToolContext): BoardElement[] {
  const out: BoardElement[] = [];
  for (const id of ctx.selection) {
    const el = ctx.model.get(id);
    if (el) out.push(el);
  }
  return out.sort(compareOrder);
}

function chromeAt(ctx: ToolContext, p: Point): ChromeHit {
  if (ctx.readOnly) return null;
  const els = selected(ctx);
  if (els.length === 0 || els.every((e) => e.locked)) return null;
  const line = singleLinear(ctx);
  if (line) {
    const [a, b] = lineEnds(line.geom);
    const tol = ctx.tolerance(HANDLE_PX);
    if (Math.hypot(p.x - b.x, p.y - b.y) <= tol) return { kind: 'end', anchor: 'end' };
    if (Math.hypot(p.x - a.x, p.y - a.y) <= tol) return { kind: 'end', anchor: 'start' };
    return null;
  }
  const bare = selectionFrame(els);
  if (!bare) return null;
  const frame = padded(bare, ctx.tolerance(PAD_PX));
  const tol = ctx.tolerance(HANDLE_PX);
  const r = rotateHandlePoint(frame, ctx.tolerance(ROTATE_OFFSET_PX));
  if (Math.hypot(p.x - r.x, p.y - r.y) <= tol) return { kind: 'rotate' };
  const small = frame.w * ctx.camera.zoom < 24 || frame.h * ctx.camera.zoom < 24;
  for (const h of HANDLES) {
    if (small && h.length === 1) continue;
    const q = handlePoint(frame, h);
    if (Math.hypot(p.x - q.x, p.y - q.y) <= tol) return { kind: 'handle', handle: h };
  }
  return null;
}

const CURSORS: Record<Handle, string> = {
  nw: 'nwse-resize',
  se: 'nwse-resize',
  ne: 'nesw-resize',
  sw: 'nesw-resize',
  n: 'ns-resize',
  s: 'ns-resize',
  e: 'ew-resize',
  w: 'ew-resize',
};

/** Creates the select tool; a double-click on empty board starts a text there. */
export function createSelectTool(): Tool {
  let state: State = { kind: 'idle' };
  let hovered: string | null = null;
  const addText = createTextTool('text');

  /**
   * The element a click at `p` means: the topmost one drawn there, else the smallest
   * hollow shape around it (clicking inside an outline picks it, as in tldraw).
   */
  function topHit(ctx: ToolContext, p: Point): BoardElement | null {
    const tol = ctx.tolerance(6);
    const drawn = ctx.renderer.elementsAt(p, tol)[0];
    if (drawn) return drawn;
    let best: BoardElement | null = null;
    let bestArea = Infinity;
    for (const el of ctx.renderer.elementsIn({ minX: p.x, minY: p.y, maxX: p.x, maxY: p.y })) {
      if (el.type !== 'rect' && el.type !== 'ellipse') continue;
      const area = Math.abs(el.geom.w * el.geom.h);
      if (area < bestArea && insideShape(el, p, 0)) {
        best = el;
        bestArea = area;
      }
    }
    return best;
  }

  /** Whether `p` falls inside the frame of the current selection. */
  function insideSelection(ctx: ToolContext, p: Point): boolean {
    const frame = selectionFrame(selected(ctx));
    if (!frame) return false;
    const f = padded(frame, ctx.tolerance(PAD_PX));
    const q = rotatePoint(p, centre(f), -f.rot);
    return q.x >= f.x && q.x <= f.x + f.w && q.y >= f.y && q.y <= f.y + f.h;
  }

  return {
    name: 'select',
    cursor(ctx, p) {
      if (state.kind === 'translating') return 'grabbing';
      if (!p) return 'default';
      const hit = chromeAt(ctx, p);
      if (hit?.kind === 'rotate') return 'grab';
      if (hit?.kind === 'handle') return CURSORS[hit.handle];
      if (hit?.kind === 'end') return 'crosshair';
      return topHit(ctx, p) ? 'move' : 'default';
    },
    down(ctx, e) {
      const chrome = chromeAt(ctx, e.board);
      const line = singleLinear(ctx);
      if (chrome?.kind === 'end' && line) {
        state = {
          kind: 'endpoint',
          element: line,
          anchor: chrome.anchor,
          geom: null,
          target: null,
        };
        return;
      }
      const els = selected(ctx).filter((el) => !el.locked);
      const frame = selectionFrame(els);
      if (chrome && chrome.kind !== 'end' && frame) {
        if (chrome.kind === 'handle') {
          state = {
            kind: 'resizing',
            handle: chrome.handle,
            frame,
            start: e.board,
            elements: els,
            result: null,
          };
        } else {
          const c = centre(frame);
          state = {
            kind: 'rotating',
            frame,
            startAngle: Math.atan2(e.board.y - c.y, e.board.x - c.x),
            elements: els,
            result: null,
          };
        }
        return;
      }
      const drawn = ctx.renderer.elementsAt(e.board, ctx.tolerance(6))[0];
      const inFrame = !drawn && !e.shift && insideSelection(ctx, e.board);
      const hit = (inFrame ? selected(ctx)[0] : null) ?? topHit(ctx, e.board);
      let toggled = false;
      if (hit) {
        if (e.shift) {
          const next = new Set(ctx.selection);
          if (next.has(hit.id)) next.delete(hit.id);
          else next.add(hit.id);
          ctx.setSelection(next);
          toggled = true;
        } else if (!ctx.selection.has(hit.id)) ctx.setSelection([hit.id]);
      } else if (!e.shift) ctx.setSelection([]);
      state = { kind: 'pointing', start: e, hit, toggled };
    },
    move(ctx, e) {
      switch (state.kind) {
        case 'pointing': {
          const d = Math.hypot(
            e.screen.x - state.start.screen.x,
            e.screen.y - state.start.screen.y,
          );
          if (d < DRAG_THRESHOLD) return;
          if (state.hit && !ctx.readOnly && ctx.selection.has(state.hit.id)) {
            const movable = selected(ctx).filter((el) => !el.locked);
            state = {
              kind: 'translating',
              start: state.start.board,
              elements: movable,
              geoms: new Map(),
            };
          } else if (!state.hit || ctx.readOnly) {
            state = {
              kind: 'marquee',
              start: state.start.board,
              base: new Set(state.start.shift ? ctx.selection : []),
              end: e.board,
            };
          } else return;
          this.move(ctx, e);
          return;
        }
        case 'translating': {
          let dx = e.board.x - state.start.x;
          let dy = e.board.y - state.start.y;
          if (e.shift) {
            if (Math.abs(dx) > Math.abs(dy)) dy = 0;
            else dx = 0;
          }
          state.geoms = translateElements(state.elements, dx, dy);
          const geoms = state.geoms;
          ctx.setPreview({
            elements: state.elements.map((el) => withGeom(el, geoms)),
            replaces: state.elements.map((el) => el.id),
          });
          return;
        }
        case 'resizing': {
          const from = handlePoint(state.frame, state.handle);
          const target = {
            x: from.x + e.board.x - state.start.x,
            y: from.y + e.board.y - state.start.y,
          };
          const to = resizeFrame(state.frame, state.handle, target, e.shift);
          const result = resizeElements(state.elements, state.frame, to);
          state.result = result;
          ctx.setPreview({
            elements: state.elements.map((el) => withGeom(el, result)),
            replaces: state.elements.map((el) => el.id),
          });
          return;
        }
        case 'rotating': {
          const c = centre(state.frame);
          let deg =
            ((Math.atan2(e.board.y - c.y, e.board.x - c.x) - state.startAngle) * 180) / Math.PI;
          if (e.shift) deg = Math.round((state.frame.rot + deg) / 15) * 15 - state.frame.rot;
          const result = rotateElements(state.elements, c, deg);
          state.result = result;
          ctx.setPreview({
            elements: state.elements.map((el) => withGeom(el, result)),
            replaces: state.elements.map((el) => el.id),
          });
          return;
        }
        case 'endpoint': {
          const [a, b] = lineEnds(state.element.geom);
          const other = state.anchor === 'start' ? b : a;
          let p = e.board;
          if (e.shift) p = snap45(other, p);
          const target = bindTarget(ctx, p, state.element.id);
          if (target) p = edgePoint(target.geom, other, target.type === 'ellipse', 6);
          state.target = target?.id ?? null;
          state.geom = state.anchor === 'start' ? geomFromEnds(p, other) : geomFromEnds(other, p);
          ctx.setPreview({
            elements: [{ ...state.element, geom: state.geom }],
            replaces: [state.element.id],
          });
          return;
        }
        case 'marquee': {
          state.end = e.board;
          const box = boxFromPoints(state.start, e.board);
          const ids = new Set(state.base);
          for (const el of ctx.renderer.elementsIn(box)) if (insideBox(el, box)) ids.add(el.id);
          ctx.setSelection(ids);
          ctx.setPreview({ marquee: box });
          return;
        }
        case 'idle':
          return;
      }
    },
    up(ctx) {
      const s = state;
      state = { kind: 'idle' };
      switch (s.kind) {
        case 'pointing':
          if (s.hit && !s.toggled && !s.start.shift && ctx.selection.size > 1)
            ctx.setSelection([s.hit.id]);
          break;
        case 'translating':
          if (s.geoms.size > 0) {
            const moved = s.geoms;
            ctx.model.transact(() => {
              ctx.model.setGeoms(moved);
              for (const b of ctx.model.bindings()) {
                if (moved.has(b.from) && !moved.has(b.to)) ctx.model.bind(b.from, b.anchor, null);
              }
            });
          }
          break;
        case 'endpoint':
          if (s.geom) {
            const { geom, target, anchor } = s;
            const id = s.element.id;
            ctx.model.transact(() => {
              ctx.model.setGeoms(new Map([[id, geom]]));
              ctx.model.bind(id, anchor, target);
            });
          }
          break;
        case 'resizing':
          if (s.result) {
            const r = s.result;
            ctx.model.transact(() => {
              ctx.model.setGeoms(r.geoms, r.points);
              for (const [id, fontSize] of r.fontSizes) ctx.model.setStyle([id], { fontSize });
            });
          }
          break;
        case 'rotating':
          if (s.result) ctx.model.setGeoms(s.result);
          break;
        case 'marquee':
        case 'idle':
          break;
      }
      ctx.setPreview(null);
      ctx.model.stopCapturing();
    },
    cancel(ctx) {
      state = { kind: 'idle' };
      ctx.setPreview(null);
    },
    hover(ctx, p) {
      const id = p ? (topHit(ctx, p)?.id ?? null) : null;
      if (id !== hovered) {
        hovered = id;
        ctx.repaint();
      }
    },
    doubleClick(ctx, e) {
      if (ctx.readOnly) return;
      const hit = topHit(ctx, e.board);
      if (hit && (hit.type === 'text' || hit.type === 'sticky') && !hit.locked) {
        ctx.editText(hit.id, false);
      } else if (!hit) {
        addText.up(ctx, e);
      }
    },
    overlay(ctx, g, camera) {
      if (state.kind !== 'idle' && state.kind !== 'pointing' && state.kind !== 'marquee') return;
      const over =
        hovered !== null && !ctx.selection.has(hovered) ? ctx.model.get(hovered) : undefined;
      if (over) {
        const f = selectionFrame([over]);
        g.strokeStyle = '#4c6ef5';
        g.lineWidth = 1;
        g.setLineDash([]);
        if (f && isLinear(over.type)) {
          const [a, b] = lineEnds(over.geom).map((q) => boardToScreen(camera, q));
          if (a && b) {
            g.beginPath();
            g.moveTo(a.x, a.y);
            g.lineTo(b.x, b.y);
            g.stroke();
          }
        } else if (f) outline(g, camera, padded(f, PAD_PX / camera.zoom), 0.6);
      }
      const line = singleLinear(ctx);
      if (line && !ctx.readOnly) {
        drawEnds(g, camera, line);
        return;
      }
      const els = selected(ctx);
      const frame = selectionFrame(els);
      if (!frame) return;
      drawFrame(
        g,
        camera,
        padded(frame, PAD_PX / camera.zoom),
        !ctx.readOnly && !els.every((e) => e.locked),
        els.length > 1 ? els : [],
      );
    },
  };
}

/** The point `p` turned to the nearest 45° around `from`. */
function snap45(from: Point, p: Point): Point {
  const ang = Math.round(Math.atan2(p.y - from.y, p.x - from.x) / (Math.PI / 4)) * (Math.PI / 4);
  const len = Math.hypot(p.x - from.x, p.y - from.y);
  return { x: from.x + Math.cos(ang) * len, y: from.y + Math.sin(ang) * len };
}

/** A selected line or arrow's chrome: a thin guide and a round handle on each end. */
function drawEnds(g: CanvasRenderingContext2D, camera: Camera, el: BoardElement): void {
  const [a, b] = lineEnds(el.geom).map((p) => boardToScreen(camera, p));
  if (!a || !b) return;
  g.strokeStyle = '#4c6ef5';
  g.lineWidth = 1;
  g.setLineDash([]);
  g.beginPath();
  g.moveTo(a.x, a.y);
  g.lineTo(b.x, b.y);
  g.stroke();
  for (const p of [a, b]) {
    g.beginPath();
    g.arc(p.x, p.y, 5.5, 0, Math.PI * 2);
    g.fillStyle = '#ffffff';
    g.fill();
    g.lineWidth = 1.5;
    g.stroke();
  }
}

/** The selection chrome: a frame in the accent colour, handles, a rotate knob, and member outlines. */
function drawFrame(
  g: CanvasRenderingContext2D,
  camera: Camera,
  f: Frame,
  editable: boolean,
  members: BoardElement[],
): void {
  const accent = '#4c6ef5';
  g.lineWidth = 1;
  g.strokeStyle = accent;
  g.setLineDash([]);
  for (const el of members) {
    const mf = selectionFrame([el]);
    if (mf) outline(g, camera, mf, 0.5);
  }
  outline(g, camera, f, 1);
  if (!editable) return;
  const small = f.w * camera.zoom < 24 || f.h * camera.zoom < 24;
  for (const h of HANDLES) {
    if (small && h.length === 1) continue;
    const p = boardToScreen(camera, handlePoint(f, h));
    g.beginPath();
    g.roundRect(p.x - 4.5, p.y - 4.5, 9, 9, 2.5);
    g.fillStyle = '#ffffff';
    g.fill();
    g.lineWidth = 1.5;
    g.stroke();
  }
  const top = boardToScreen(camera, rotatePointHandle(f, camera));
  g.beginPath();
  g.arc(top.x, top.y, 5, 0, Math.PI * 2);
  g.fillStyle = '#ffffff';
  g.fill();
  g.stroke();
}

function rotatePointHandle(f: Frame, camera: Camera): Point {
  return rotateHandlePoint(f, ROTATE_OFFSET_PX / camera.zoom);
}

function outline(g: CanvasRenderingContext2D, camera: Camera, f: Frame, alpha: number): void {
  const pts = [
    { x: f.x, y: f.y },
    { x: f.x + f.w, y: f.y },
    { x: f.x + f.w, y: f.y + f.h },
    { x: f.x, y: f.y + f.h },
  ];
  const c = centre(f);
  g.save();
  g.globalAlpha = alpha;
  g.beginPath();
  pts.forEach((p, i) => {
    const r = f.rot === 0 ? p : rotatePoint(p, c, f.rot);
    const s = boardToScreen(camera, r);
    if (i === 0) g.moveTo(s.x, s.y);
    else g.lineTo(s.x, s.y);
  });
  g.closePath();
  g.stroke();
  g.restore();
}
