// Every tool by name: the one place the editor looks tools up.

import { createEraserTool } from './eraser';
import { createHandTool } from './hand';
import { createImageTool } from './image';
import { createLaserTool } from './laser';
import { createPenTool } from './pen';
import { createSelectTool } from './select';
import { createShapeTool } from './shape';
import { createTextTool } from './text';
import type { Tool, ToolName } from './types';

/** The tools that never change the document: all a viewer gets. */
export const VIEWER_TOOLS: readonly ToolName[] = ['hand', 'laser'];

/** A fresh instance of every tool. */
export function createTools(): Record<ToolName, Tool> {
  return {
    select: createSelectTool(),
    hand: createHandTool(),
    pen: createPenTool(),
    rect: createShapeTool('rect'),
    ellipse: createShapeTool('ellipse'),
    line: createShapeTool('line'),
    arrow: createShapeTool('arrow'),
    text: createTextTool('text'),
    sticky: createTextTool('sticky'),
    eraser: createEraserTool(),
    laser: createLaserTool(),
    image: createImageTool(),
  };
}
