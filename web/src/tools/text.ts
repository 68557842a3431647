// The text and sticky note tools: a click creates the element and opens the text editor.
//
// Owns where the new element goes and its initial look (current style; a sticky gets a
// note colour and a square box). The element is created in one transaction at the click;
// the in-place editor (owned by the editor) writes the typing, and deletes the element if
// it is left empty. Back to the select tool afterwards.

import { newId } from '../board/schema';
import { STICKY_FILL, type BoardElement } from '../board/types';
import type { Tool } from './types';

const STICKY_SIZE = 200;

/** Creates the text tool (`kind = 'text'`) or the sticky note tool. */
export function createTextTool(kind: 'text' | 'sticky'): Tool {
  return {
    name: kind,
    cursor: () => (kind === 'text' ? 'text' : 'crosshair'),
    down() {},
    move() {},
    up(ctx, e) {
      if (ctx.readOnly) return;
      const hit = ctx.renderer.elementsAt(e.board, ctx.tolerance(2))[0];
      if (hit && hit.type === kind && !hit.locked) {
        ctx.setTool('select');
        ctx.setSelection([hit.id]);
        ctx.editText(hit.id, false);
        return;
      }
      const fs = ctx.style.fontSize;
      const el: BoardElement = {
        ...ctx.style,
        id: newId(),
        type: kind,
        index: ctx.model.nextIndex(),
        locked: false,
        createdBy: ctx.userId,
        text: '',
        geom:
          kind === 'sticky'
            ? {
                x: Math.round(e.board.x - STICKY_SIZE / 2),
                y: Math.round(e.board.y - STICKY_SIZE / 2),
                w: STICKY_SIZE,
                h: STICKY_SIZE,
                rot: 0,
              }
            : {
                x: Math.round(e.board.x),
                y: Math.round(e.board.y - fs * 0.7),
                w: fs,
                h: fs * 1.25,
                rot: 0,
              },
      };
      if (kind === 'sticky') {
        el.fill = ctx.style.fill === 'none' ? STICKY_FILL : ctx.style.fill;
        el.stroke = '#1e1e1e';
        el.width = 0;
      } else el.fill = 'none';
      ctx.model.add([el]);
      ctx.setTool('select');
      ctx.setSelection([el.id]);
      ctx.editText(el.id, true);
    },
    cancel() {},
  };
}
