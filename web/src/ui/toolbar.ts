// The floating tool bar: one button per tool (accessible name = the tool's name,
// `aria-pressed` on the active one, the shortcut in the tooltip), and the Image button
// (a click on the canvas with it then asks for a file); on a phone it scrolls sideways with
// faded edges where tools are hidden. Owns these buttons only; choosing a tool goes
// through the editor.
import {
  Circle,
  Crosshair,
  Eraser,
  Hand,
  Image,
  Minus,
  MousePointer2,
  MoveUpRight,
  Pencil,
  Square,
  StickyNote,
  Type,
  type IconNode,
} from 'lucide';
import type { Editor, ToolName } from '../editor';
import { TOOLS, VIEWER_TOOLS } from './actions';
import { h, icon } from './dom';

const ICONS: Record<ToolName, IconNode> = {
  select: MousePointer2,
  hand: Hand,
  pen: Pencil,
  rect: Square,
  ellipse: Circle,
  line: Minus,
  arrow: MoveUpRight,
  text: Type,
  sticky: StickyNote,
  eraser: Eraser,
  laser: Crosshair,
  image: Image,
};

/** The tool bar element and its refresh function. */
export interface Toolbar {
  el: HTMLElement;
  update(): void;
}

/**
 * Builds the tool bar; viewers get only the tools that cannot change the board. The Image
 * tool, like the others, is chosen here; a click on the canvas then asks for the file.
 */
export function createToolbar(editor: Editor, readOnly: boolean): Toolbar {
  const tools = TOOLS.filter((t) => !readOnly || VIEWER_TOOLS.has(t.tool));
  const buttons = tools.map((t) => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'tool-btn',
        'aria-label': t.label,
        'aria-pressed': 'false',
        title: t.key ? `${t.label} — ${t.key}` : t.label,
        dataset: { tool: t.tool },
      },
      icon(ICONS[t.tool]),
      t.key ? h('span', { class: 'tool-key', 'aria-hidden': 'true' }, t.key) : null,
    );
    b.addEventListener('click', () => editor.setTool(t.tool));
    return b;
  });
  const el = h(
    'div',
    { class: 'toolbar floating', role: 'toolbar', 'aria-label': 'Tools' },
    ...buttons,
  );
  // On a phone the bar scrolls sideways: fade the edge that has more tools beyond it, and
  // bring the active tool (picked by shortcut, say) into view.
  const markOverflow = () => {
    const edges = overflowEdges(el.scrollLeft, el.clientWidth, el.scrollWidth);
    el.classList.toggle('more-left', edges.left);
    el.classList.toggle('more-right', edges.right);
  };
  el.addEventListener('scroll', markOverflow, { passive: true });
  new ResizeObserver(markOverflow).observe(el);
  const update = () => {
    for (const b of buttons) {
      const active = b.dataset.tool === editor.tool;
      const changed = b.getAttribute('aria-pressed') !== String(active);
      b.setAttribute('aria-pressed', String(active));
      if (active && changed && el.scrollWidth > el.clientWidth) {
        b.scrollIntoView({ block: 'nearest', inline: 'center' });
      }
    }
  };
  update();
  return { el, update };
}

/** Which sides of a sideways-scrolling bar have content hidden beyond them. */
export function overflowEdges(
  scrollLeft: number,
  clientWidth: number,
  scrollWidth: number,
): { left: boolean; right: boolean } {
  return { left: scrollLeft > 1, right: scrollLeft + clientWidth < scrollWidth - 1 };
}
