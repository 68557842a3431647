// The rectangle, ellipse, line and arrow tools: press, drag, release.
//
// Owns creating these shapes with the current style: a drag sizes the shape (shift keeps
// it square, or snaps a line to 45°), a plain click drops a default-sized box. An arrow or
// line started or ended on a shape binds to it (a `bindings` entry per end, its tip landed
// on the shape's edge) so it follows when that shape moves. ONE transaction at release,
// then back to the select tool with the new shape selected.

import { edgePoint, geomFromEnds, insideShape, type Point } from '../board/geometry';
import { newId } from '../board/schema';
import type { BoardElement, ElementType } from '../board/types';
import { DRAG_THRESHOLD, type Tool, type ToolContext, type ToolPointer } from './types';

type ShapeKind = 'rect' | 'ellipse' | 'line' | 'arrow';
const DEFAULT_SIZE = { w: 160, h: 100 };
const BINDABLE: readonly ElementType[] = ['rect', 'ellipse', 'sticky', 'text', 'image'];
const BIND_GAP = 6;

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The shape a bound end would attach to at `p` (the topmost whose area holds it), if any. */
export function bindTarget(ctx: ToolContext, p: Point, exclude: string): BoardElement | null {
  const tol = ctx.tolerance(4);
  const near = ctx.renderer.elementsIn({
    minX: p.x - tol,
    minY: p.y - tol,
    maxX: p.x + tol,
    maxY: p.y + tol,
  });
  for (let i = near.length - 1; i >= 0; i--) {
    const el = near[i];
    if (
      el &&
      el.id !== exclude &&
      BINDABLE.includes(el.type) &&
      !el.locked &&
      insideShape(el, p, tol)
    ) {
      return el;
    }
  }
  return null;
}

/** Creates the tool drawing shapes of `kind`. */
export function createShapeTool(kind: ShapeKind): Tool {
  let start: ToolPointer | null = null;
  let current: ToolPointer | null = null;
  let id = '';
  const linear = kind === 'line' || kind === 'arrow';

  /** What every element this tool creates starts with: the current style, its id, on top. */
  function fresh(ctx: ToolContext) {
    return {
      ...ctx.style,
      id,
      type: kind,
      index: ctx.model.nextIndex(),
      locked: false,
      createdBy: ctx.userId,
    };
  }

  function build(ctx: ToolContext): {
    el: BoardElement;
    binds: { anchor: 'start' | 'end'; to: string }[];
  } | null {
    if (!start || !current) return null;
    const base = fresh(ctx);
    if (linear) {
      let a = start.board;
      let b = current.board;
      if (current.shift) {
        const ang = Math.round(Math.atan2(b.y - a.y, b.x - a.x) / (Math.PI / 4)) * (Math.PI / 4);
        const len = Math.hypot(b.x - a.x, b.y - a.y);
        b = { x: a.x + Math.cos(ang) * len, y: a.y + Math.sin(ang) * len };
      }
      const binds: { anchor: 'start' | 'end'; to: string }[] = [];
      const from = bindTarget(ctx, a, id);
      const to = bindTarget(ctx, b, id);
      if (from && from.id !== to?.id) {
        a = edgePoint(from.geom, b, from.type === 'ellipse', BIND_GAP);
        binds.push({ anchor: 'start', to: from.id });
      }
      if (to && to.id !== from?.id) {
        b = edgePoint(to.geom, a, to.type === 'ellipse', BIND_GAP);
        binds.push({ anchor: 'end', to: to.id });
      }
      const g = geomFromEnds({ x: round(a.x), y: round(a.y) }, { x: round(b.x), y: round(b.y) });
      return { el: { ...base, fill: 'none', geom: g }, binds };
    }
    let w = current.board.x - start.board.x;
    let h = current.board.y - start.board.y;
    if (current.shift) {
      const s = Math.max(Math.abs(w), Math.abs(h));
      w = Math.sign(w || 1) * s;
      h = Math.sign(h || 1) * s;
    }
    const x = Math.min(start.board.x, start.board.x + w);
    const y = Math.min(start.board.y, start.board.y + h);
    return {
      el: {
        ...base,
        geom: { x: round(x), y: round(y), w: round(Math.abs(w)), h: round(Math.abs(h)), rot: 0 },
      },
      binds: [],
    };
  }

  return {
    name: kind,
    cursor: () => 'crosshair',
    down(ctx, e) {
      if (ctx.readOnly) return;
      start = e;
      current = e;
      id = newId();
    },
    move(ctx, e) {
      if (!start) return;
      current = e;
      const dragged =
        Math.hypot(e.screen.x - start.screen.x, e.screen.y - start.screen.y) >= DRAG_THRESHOLD;
      const built = dragged ? build(ctx) : null;
      ctx.setPreview(built ? { elements: [built.el] } : null);
    },
    up(ctx, e) {
      if (!start) return;
      current = e;
      const dragged =
        Math.hypot(e.screen.x - start.screen.x, e.screen.y - start.screen.y) >= DRAG_THRESHOLD;
      let built = dragged ? build(ctx) : null;
      if (!dragged && !linear) {
        const s = start.board;
        built = {
          el: {
            ...fresh(ctx),
            geom: {
              x: round(s.x - DEFAULT_SIZE.w / 2),
              y: round(s.y - DEFAULT_SIZE.h / 2),
              ...DEFAULT_SIZE,
              rot: 0,
            },
          },
          binds: [],
        };
      }
      start = null;
      current = null;
      ctx.setPreview(null);
      if (!built) return;
      const { el, binds } = built;
      ctx.model.transact(() => {
        ctx.model.add([el]);
        for (const b of binds) ctx.model.bind(el.id, b.anchor, b.to);
      });
      ctx.model.stopCapturing();
      ctx.setSelection([el.id]);
      ctx.setTool('select');
    },
    cancel(ctx) {
      start = null;
      current = null;
      ctx.setPreview(null);
    },
  };
}
