// The contract between the editor and its tools: pointer input in, previews and one
// document change per gesture out.
//
// Owns the Tool interface, the pointer event a tool sees, the context it acts through and
// the preview a gesture shows (locally and, through awareness, to everyone else). No tool
// touches the DOM or awareness directly: only through the context.

import type { Box, Point } from '../board/geometry';
import type { BoardModel } from '../board/model';
import type { BoardElement, Style } from '../board/types';
import type { Camera } from '../canvas/camera';
import type { Renderer } from '../canvas/renderer';

/** The tools of the toolbar, as the UI names them. */
export type ToolName =
  | 'select'
  | 'hand'
  | 'pen'
  | 'rect'
  | 'ellipse'
  | 'line'
  | 'arrow'
  | 'text'
  | 'sticky'
  | 'eraser'
  | 'laser'
  | 'image';

/** A pointer event as tools see it: board and screen positions, buttons and modifiers. */
export interface ToolPointer {
  board: Point;
  screen: Point;
  shift: boolean;
  alt: boolean;
  mod: boolean;
  /** 0..1 from a stylus, undefined from a mouse or finger. */
  pressure: number | undefined;
  pointerType: string;
  /** Extra samples since the last event (coalesced pointer events), oldest first, in board units. */
  samples: Point[];
}

/** A gesture in progress: elements as they would be, a marquee, or what an eraser has crossed. */
export interface Preview {
  elements?: BoardElement[];
  marquee?: Box;
  erasing?: string[];
  /** Ids of committed elements the preview replaces while it lasts (a drag's originals). */
  replaces?: string[];
}

/** What a tool may act through. */
export interface ToolContext {
  readonly model: BoardModel;
  readonly renderer: Renderer;
  readonly camera: Camera;
  readonly style: Style;
  readonly userId: string;
  readonly readOnly: boolean;
  readonly selection: ReadonlySet<string>;
  setSelection(ids: Iterable<string>): void;
  /** Shows (and publishes, throttled) the current gesture; null ends it. */
  setPreview(p: Preview | null): void;
  setCamera(c: Camera): void;
  setTool(t: ToolName): void;
  /** Opens the in-place text editor on a text or sticky note. */
  editText(id: string, isNew: boolean): void;
  /** Adds a point to this person's laser trail (awareness only). */
  laser(p: Point): void;
  /** Asks the editor to choose an image file and place it at `at`. */
  pickImage(at: Point): void;
  /** Board units per screen pixel × `px`: a tolerance that feels the same at every zoom. */
  tolerance(px: number): number;
  /** The overlay needs repainting. */
  repaint(): void;
}

/** One tool: a small state machine over pointer events (idle → pointing → dragging). */
export interface Tool {
  readonly name: ToolName;
  /** The CSS cursor over the canvas. */
  cursor(ctx: ToolContext, p: Point | null): string;
  down(ctx: ToolContext, e: ToolPointer): void;
  move(ctx: ToolContext, e: ToolPointer): void;
  up(ctx: ToolContext, e: ToolPointer): void;
  /** Abandons the gesture in progress without changing the document. */
  cancel(ctx: ToolContext): void;
  doubleClick?(ctx: ToolContext, e: ToolPointer): void;
  /** The pointer moves with no button down (`null`: it left the canvas). */
  hover?(ctx: ToolContext, p: Point | null): void;
  /** Draws tool chrome (handles, marquee, hover) in CSS pixels. */
  overlay?(ctx: ToolContext, g: CanvasRenderingContext2D, camera: Camera): void;
}

/** Screen distance a press must travel before it counts as a drag. */
export const DRAG_THRESHOLD = 3;
