// The laser pointer: a fading trail others see, sent through awareness only.
//
// Never changes the document (viewers may use it). The editor keeps the trail and fades it.

import type { Tool } from './types';

/** Creates the laser tool. */
export function createLaserTool(): Tool {
  let down = false;
  return {
    name: 'laser',
    cursor: () => 'crosshair',
    down(ctx, e) {
      down = true;
      ctx.laser(e.board);
    },
    move(ctx, e) {
      if (!down) return;
      for (const p of e.samples) ctx.laser(p);
      ctx.laser(e.board);
    },
    up() {
      down = false;
    },
    cancel() {
      down = false;
    },
  };
}
