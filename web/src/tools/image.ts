// The image tool: a click asks for an image file and places it there.
//
// Choosing, uploading and inserting belong to the editor (they are shared with paste and
// drop); this tool only says where.

import type { Tool } from './types';

/** Creates the image tool. */
export function createImageTool(): Tool {
  return {
    name: 'image',
    cursor: () => 'copy',
    down() {},
    move() {},
    up(ctx, e) {
      if (ctx.readOnly) return;
      ctx.pickImage(e.board);
      ctx.setTool('select');
    },
    cancel() {},
  };
}
