// The eraser: dragging across elements marks them, releasing deletes them in one step.
//
// Marked elements are hidden while the drag lasts (a preview); locked ones are never
// touched. One transaction at release, so one undo brings them all back. Stays active.

import { segmentHits, type Point } from '../board/geometry';
import type { Tool, ToolContext, ToolPointer } from './types';

/** Creates the eraser tool. */
export function createEraserTool(): Tool {
  let last: Point | null = null;
  const marked = new Set<string>();

  function sweep(ctx: ToolContext, e: ToolPointer): void {
    if (!last) return;
    const tol = ctx.tolerance(6);
    for (const p of [...e.samples, e.board]) {
      const box = {
        minX: Math.min(last.x, p.x) - tol,
        minY: Math.min(last.y, p.y) - tol,
        maxX: Math.max(last.x, p.x) + tol,
        maxY: Math.max(last.y, p.y) + tol,
      };
      for (const el of ctx.renderer.elementsIn(box)) {
        if (!el.locked && !marked.has(el.id) && segmentHits(el, last, p, tol)) marked.add(el.id);
      }
      last = p;
    }
    ctx.setPreview({ erasing: [...marked], replaces: [...marked] });
  }

  return {
    name: 'eraser',
    cursor: () => 'crosshair',
    down(ctx, e) {
      if (ctx.readOnly) return;
      last = e.board;
      marked.clear();
      sweep(ctx, { ...e, samples: [] });
    },
    move(ctx, e) {
      sweep(ctx, e);
    },
    up(ctx) {
      if (!last) return;
      last = null;
      ctx.setPreview(null);
      if (marked.size > 0) ctx.model.delete(marked);
      ctx.model.stopCapturing();
      marked.clear();
    },
    cancel(ctx) {
      last = null;
      marked.clear();
      ctx.setPreview(null);
    },
  };
}
