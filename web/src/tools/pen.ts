// The pen tool: freehand strokes, smoothed by perfect-freehand, with stylus pressure.
//
// Collects the stroke's points (coalesced samples included) while it is drawn and shows
// it as a preview; at pointer-up the stroke becomes ONE element whose `points` (relative
// to its box) and optional `pressure` are written once. Stays the active tool.

import { newId } from '../board/schema';
import type { BoardElement } from '../board/types';
import type { Tool, ToolContext, ToolPointer } from './types';

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The pen element for absolute board points `xy` (flat) with optional pressures. */
export function penElement(
  id: string,
  xy: readonly number[],
  pressure: readonly number[] | null,
  ctx: Pick<ToolContext, 'style' | 'userId'>,
  index: string,
): BoardElement {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const x = xy[i] ?? 0;
    const y = xy[i + 1] ?? 0;
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  const ox = round(minX);
  const oy = round(minY);
  const el: BoardElement = {
    ...ctx.style,
    fill: 'none',
    id,
    type: 'pen',
    index,
    geom: { x: ox, y: oy, w: round(maxX - minX), h: round(maxY - minY), rot: 0 },
    points: xy.map((v, i) => round(v - (i % 2 === 0 ? ox : oy))),
    locked: false,
    createdBy: ctx.userId,
  };
  if (pressure) el.pressure = pressure.map((p) => round(p));
  return el;
}

/** Creates the pen tool. */
export function createPenTool(): Tool {
  let xy: number[] | null = null;
  let pressure: number[] | null = null;
  let id = '';

  function add(e: ToolPointer): void {
    if (!xy) return;
    for (const p of [...e.samples, e.board]) {
      const lx = xy[xy.length - 2];
      const ly = xy[xy.length - 1];
      if (lx !== undefined && ly !== undefined && Math.hypot(p.x - lx, p.y - ly) < 0.5) continue;
      xy.push(p.x, p.y);
      if (pressure) pressure.push(e.pressure ?? 0.5);
    }
  }

  return {
    name: 'pen',
    cursor: () => 'crosshair',
    down(ctx, e) {
      if (ctx.readOnly) return;
      id = newId();
      xy = [e.board.x, e.board.y];
      pressure =
        e.pointerType === 'pen' && e.pressure !== undefined && e.pressure > 0 ? [e.pressure] : null;
      ctx.setPreview({ elements: [penElement(id, xy, pressure, ctx, ctx.model.nextIndex())] });
    },
    move(ctx, e) {
      if (!xy) return;
      add(e);
      ctx.setPreview({ elements: [penElement(id, xy, pressure, ctx, ctx.model.nextIndex())] });
    },
    up(ctx, e) {
      if (!xy) return;
      add(e);
      const el = penElement(id, xy, pressure, ctx, ctx.model.nextIndex());
      xy = null;
      pressure = null;
      ctx.setPreview(null);
      ctx.model.add([el]);
      ctx.model.stopCapturing();
    },
    cancel(ctx) {
      xy = null;
      pressure = null;
      ctx.setPreview(null);
    },
  };
}
