// Every user action of the board page registered once, with its label and shortcut, so the
// toolbar, the shortcut overlay and the keyboard share one table (as Excalidraw's actions/
// do). Owns the table and key → action matching; it must not touch the editor or the DOM
// (the board page runs the actions).
import type { ToolName } from '../editor';

/** An action the keyboard or a button can trigger. */
export type ActionId =
  | `tool:${ToolName}`
  | 'delete'
  | 'undo'
  | 'redo'
  | 'duplicate'
  | 'selectAll'
  | 'escape'
  | 'help'
  | 'zoomIn'
  | 'zoomOut'
  | 'zoomReset'
  | 'zoomFit'
  | 'zoomSelection'
  | 'grid';

/** A tool of the toolbar: its accessible name (the contract's exact words) and key. */
export interface ToolDef {
  tool: ToolName;
  label: string;
  key: string | null;
}

/** The tools in toolbar order; `label` is each button's accessible name. */
export const TOOLS: readonly ToolDef[] = [
  { tool: 'select', label: 'Select', key: 'V' },
  { tool: 'hand', label: 'Hand', key: 'H' },
  { tool: 'pen', label: 'Pen', key: 'P' },
  { tool: 'rect', label: 'Rectangle', key: 'R' },
  { tool: 'ellipse', label: 'Ellipse', key: 'O' },
  { tool: 'line', label: 'Line', key: 'L' },
  { tool: 'arrow', label: 'Arrow', key: 'A' },
  { tool: 'text', label: 'Text', key: 'T' },
  { tool: 'sticky', label: 'Sticky note', key: 'N' },
  { tool: 'eraser', label: 'Eraser', key: 'E' },
  { tool: 'laser', label: 'Laser', key: 'K' },
  { tool: 'image', label: 'Image', key: null },
];

/** The tools a viewer may use: looking around and pointing, never changing the board. */
export const VIEWER_TOOLS: ReadonlySet<ToolName> = new Set<ToolName>(['hand', 'laser']);

/** The keys of a keyboard event that matter for shortcuts. */
export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** One row of the shortcut overlay. */
export interface ShortcutRow {
  label: string;
  keys: string;
}

/** The shortcut overlay's rows, grouped. `mod` is "⌘" on Apple devices, else "Ctrl". */
export function shortcutGroups(mod: string): { title: string; rows: ShortcutRow[] }[] {
  return [
    {
      title: 'Tools',
      rows: TOOLS.filter((t) => t.key).map((t) => ({ label: t.label, keys: t.key as string })),
    },
    {
      title: 'Edit',
      rows: [
        { label: 'Undo', keys: `${mod} Z` },
        { label: 'Redo', keys: `${mod} Shift Z  ·  ${mod} Y` },
        { label: 'Duplicate', keys: `${mod} D` },
        { label: 'Select all', keys: `${mod} A` },
        { label: 'Delete', keys: 'Delete  ·  Backspace' },
        { label: 'Back to select', keys: 'Esc' },
      ],
    },
    {
      title: 'View',
      rows: [
        { label: 'Pan', keys: 'Space + drag  ·  middle mouse' },
        { label: 'Zoom in / out', keys: `${mod} +  ·  ${mod} −  ·  wheel` },
        { label: 'Zoom to 100 %', keys: `${mod} 0` },
        { label: 'Zoom to fit', keys: 'Shift 1' },
        { label: 'Zoom to selection', keys: 'Shift 2' },
        { label: 'Toggle grid', keys: `${mod} '` },
        { label: 'Shortcuts', keys: '?' },
      ],
    },
  ];
}

/** The action a key press triggers, or null when it is not a shortcut. */
export function actionForKey(e: KeyLike): ActionId | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && !e.altKey) {
    switch (key) {
      case 'z':
        return e.shiftKey ? 'redo' : 'undo';
      case 'y':
        return 'redo';
      case 'd':
        return 'duplicate';
      case 'a':
        return 'selectAll';
      case '=':
      case '+':
        return 'zoomIn';
      case '-':
      case '_':
        return 'zoomOut';
      case '0':
        return 'zoomReset';
      case "'":
        return 'grid';
      default:
        return null;
    }
  }
  if (e.altKey || mod) return null;
  if (key === 'Delete' || key === 'Backspace') return 'delete';
  if (key === 'Escape') return 'escape';
  if (key === '?') return 'help';
  if (e.shiftKey && (key === '!' || key === '1')) return 'zoomFit';
  if (e.shiftKey && (key === '@' || key === '2')) return 'zoomSelection';
  if (e.shiftKey) return null;
  const tool = TOOLS.find((t) => t.key && t.key.toLowerCase() === key);
  return tool ? `tool:${tool.tool}` : null;
}

/** Whether keyboard shortcuts must stay out of the way (typing in a field). */
export function isTextInput(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['button', 'checkbox', 'radio', 'range', 'color', 'submit', 'reset'].includes(
      target.type,
    );
  }
  return target instanceof HTMLSelectElement;
}
