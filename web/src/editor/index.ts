// The Editor facade: the one API the UI calls (tools, selection, style, undo, zoom, export,
// follow). Placeholder holding the seam's TYPES ONLY until helper "canvas" lands the real
// module, which replaces this file.
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';

/** The drawing tools. */
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

/** The style applied to new shapes and to the selection. */
export interface StyleValues {
  stroke: string;
  fill: string;
  width: number;
  dash: 'solid' | 'dashed' | 'dotted';
  opacity: number;
  fontSize: number;
}

/** What the editor needs from the page. */
export interface EditorOptions {
  container: HTMLElement;
  doc: Y.Doc;
  awareness: Awareness;
  readOnly: boolean;
  user: { id: string; name: string; colour: string };
  uploadImage(
    file: Blob,
  ): Promise<{ id: string; mime: string; w: number; h: number; hash: string }>;
  assetUrl(assetId: string): string;
}

/** The editor's API. */
export interface Editor {
  readonly tool: ToolName;
  setTool(t: ToolName): void;
  readonly selection: readonly string[];
  selectAll(): void;
  clearSelection(): void;
  readonly style: StyleValues;
  setStyle(patch: Partial<StyleValues>): void;
  deleteSelection(): void;
  duplicateSelection(): void;
  bringForward(): void;
  sendBackward(): void;
  bringToFront(): void;
  sendToBack(): void;
  toggleLock(): void;
  undo(): void;
  redo(): void;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  readonly zoom: number;
  zoomIn(): void;
  zoomOut(): void;
  zoomTo(z: number): void;
  zoomToFit(): void;
  zoomToSelection(): void;
  gridVisible: boolean;
  follow(clientId: number | null): void;
  readonly following: number | null;
  exportPng(opts?: { selectionOnly?: boolean; scale?: number }): Promise<Blob>;
  exportSvg(opts?: { selectionOnly?: boolean }): Promise<string>;
  handleKey(e: KeyboardEvent): boolean;
  on(event: 'change', cb: () => void): () => void;
  destroy(): void;
}
