// The select tool: click, shift-click and marquee selection; move, resize and rotate.
//
// Owns its state machine (idle → pointing → translating / resizing / rotating / marquee)
// and draws its chrome (selection frame, handles, marquee). A drag previews through the
// context while it lasts and writes ONE change at pointer-up; locked elements are never
// moved. Double-clicking a text or sticky note opens the text editor.

import { boxFromPoints, centre, insideBox, rotatePoint, type Point } from '../board/geometry';
import type { BoardElement } from '../board/types';
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
import { DRAG_THRESHOLD, type Tool, type ToolContext, type ToolPointer } from './types';

const HANDLE_PX = 8;
const ROTATE_OFFSET_PX = 24;

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
  | { kind: 'marquee'; start: Point; base: Set<string>; end: Point };

/** What is under a board point in the selection's chrome. */
type ChromeHit = { kind: 'handle'; handle: Handle } | { kind: 'rotate' } | null;

/** The editable elements of the selection, in paint order. */
function selected(ctx: ToolContext): BoardElement[] {
  return ctx.model.ordered().filter((e) => ctx.selection.has(e.id));
}

function chromeAt(ctx: ToolContext, p: Point): ChromeHit {
  if (ctx.readOnly) return null;
  const els = selected(ctx);
  if (els.length === 0 || els.every((e) => e.locked)) return null;
  const frame = selectionFrame(els);
  if (!frame) return null;
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

/** Creates the select tool. */
export function createSelectTool(): Tool {
  let state: State = { kind: 'idle' };

  function topHit(ctx: ToolContext, p: Point): BoardElement | null {
    return ctx.renderer.elementsAt(p, ctx.tolerance(6))[0] ?? null;
  }

  return {
    name: 'select',
    cursor(ctx, p) {
      if (state.kind === 'translating') return 'grabbing';
      if (!p) return 'default';
      const hit = chromeAt(ctx, p);
      if (hit?.kind === 'rotate') return 'grab';
      if (hit?.kind === 'handle') return CURSORS[hit.handle];
      return topHit(ctx, p) ? 'move' : 'default';
    },
    down(ctx, e) {
      const chrome = chromeAt(ctx, e.board);
      const els = selected(ctx).filter((el) => !el.locked);
      const frame = selectionFrame(els);
      if (chrome && frame) {
        if (chrome.kind === 'handle') {
          state = { kind: 'resizing', handle: chrome.handle, frame, elements: els, result: null };
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
      const hit = topHit(ctx, e.board);
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
          const to = resizeFrame(state.frame, state.handle, e.board, e.shift);
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
          if (s.geoms.size > 0) ctx.model.setGeoms(s.geoms);
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
    doubleClick(ctx, e) {
      const hit = topHit(ctx, e.board);
      if (hit && (hit.type === 'text' || hit.type === 'sticky') && !ctx.readOnly && !hit.locked) {
        ctx.editText(hit.id, false);
      }
    },
    overlay(ctx, g, camera) {
      if (state.kind === 'translating' || state.kind === 'rotating' || state.kind === 'resizing')
        return;
      const els = selected(ctx);
      const frame = selectionFrame(els);
      if (!frame) return;
      drawFrame(
        g,
        camera,
        frame,
        !ctx.readOnly && !els.every((e) => e.locked),
        els.length > 1 ? els : [],
      );
    },
  };
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
