// The hand tool: dragging pans the board. Never changes the document.

import { panBy } from '../canvas/camera';
import type { Tool, ToolPointer } from './types';

/** Creates the hand tool. */
export function createHandTool(): Tool {
  let last: ToolPointer | null = null;
  return {
    name: 'hand',
    cursor: () => (last ? 'grabbing' : 'grab'),
    down(_ctx, e) {
      last = e;
    },
    move(ctx, e) {
      if (!last) return;
      ctx.setCamera(panBy(ctx.camera, e.screen.x - last.screen.x, e.screen.y - last.screen.y));
      last = e;
    },
    up() {
      last = null;
    },
    cancel() {
      last = null;
    },
  };
}
