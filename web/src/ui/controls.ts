// The board page's small floating controls: undo/redo, zoom (out, level, in, fit,
// selection), the grid toggle, the main menu (export PNG/SVG of the board or the selection,
// dark mode, shortcuts) and the help button. Owns these buttons only; they call the editor.
import {
  Download,
  Grid3x3,
  Keyboard,
  Maximize,
  Menu,
  Moon,
  Redo2,
  ScanSearch,
  Sun,
  Undo2,
  ZoomIn,
  ZoomOut,
  type IconNode,
} from 'lucide';
import type { Editor } from '../editor';
import { h, icon } from './dom';
import { isDark, toggleTheme } from './theme';

/** A set of controls and its refresh function. */
export interface Controls {
  el: HTMLElement;
  update(): void;
}

function iconButton(label: string, node: IconNode, run: () => void, title = label) {
  const b = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': label, title },
    icon(node, 18),
  );
  b.addEventListener('click', run);
  return b;
}

/** Undo and redo (hidden for viewers by the caller). */
export function createHistoryControls(editor: Editor, modKey: string): Controls {
  const undo = iconButton('Undo', Undo2, () => editor.undo(), `Undo — ${modKey} Z`);
  const redo = iconButton('Redo', Redo2, () => editor.redo(), `Redo — ${modKey} Shift Z`);
  const el = h(
    'div',
    { class: 'cluster floating', role: 'group', 'aria-label': 'History' },
    undo,
    redo,
  );
  const update = () => {
    undo.disabled = !editor.canUndo;
    redo.disabled = !editor.canRedo;
  };
  update();
  return { el, update };
}

/** Zoom out / level (click: 100 %) / in, fit, selection, and the grid toggle. */
export function createZoomControls(editor: Editor, modKey: string): Controls {
  const level = h(
    'button',
    {
      type: 'button',
      class: 'zoom-level',
      title: `Reset zoom — ${modKey} 0`,
      'aria-label': 'Reset zoom to 100 %',
    },
    '100 %',
  );
  level.addEventListener('click', () => editor.zoomTo(1));
  const grid = iconButton(
    'Grid',
    Grid3x3,
    () => {
      editor.gridVisible = !editor.gridVisible;
      update();
    },
    `Grid — ${modKey} '`,
  );
  const el = h(
    'div',
    { class: 'cluster floating', role: 'group', 'aria-label': 'Zoom' },
    iconButton('Zoom out', ZoomOut, () => editor.zoomOut(), `Zoom out — ${modKey} −`),
    level,
    iconButton('Zoom in', ZoomIn, () => editor.zoomIn(), `Zoom in — ${modKey} +`),
    iconButton('Zoom to fit', Maximize, () => editor.zoomToFit(), 'Zoom to fit — Shift 1'),
    iconButton(
      'Zoom to selection',
      ScanSearch,
      () => editor.zoomToSelection(),
      'Zoom to selection — Shift 2',
    ),
    grid,
  );
  const update = () => {
    level.textContent = `${Math.round(editor.zoom * 100)} %`;
    grid.setAttribute('aria-pressed', String(editor.gridVisible));
  };
  update();
  return { el, update };
}

/** Saves a blob under a file name through a temporary link. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The main menu: exports, dark mode, shortcuts. `onError` reports a failed export. */
export function createMainMenu(
  editor: Editor,
  boardName: () => string,
  openHelp: () => void,
  onError: (message: string) => void,
): Controls {
  const panel = h('div', { class: 'menu-panel floating', role: 'menu', hidden: true });
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'icon-btn',
      'aria-label': 'Menu',
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      title: 'Menu',
    },
    icon(Menu, 18),
  );
  const close = () => {
    panel.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
  };
  const outside = (e: Event) => {
    if (!el.contains(e.target as Node)) close();
  };
  const item = (label: string, node: IconNode, run: () => void | Promise<void>) => {
    const b = h(
      'button',
      { type: 'button', class: 'menu-item', role: 'menuitem' },
      icon(node, 16),
      h('span', {}, label),
    );
    b.addEventListener('click', () => {
      close();
      Promise.resolve(run()).catch((e: unknown) =>
        onError(e instanceof Error ? e.message : String(e)),
      );
    });
    return b;
  };
  const fileBase = () =>
    boardName()
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 80) || 'board';
  const themeLabel = h('span', {});
  const themeItem = h('button', { type: 'button', class: 'menu-item', role: 'menuitem' });
  themeItem.addEventListener('click', () => {
    toggleTheme();
    close();
    update();
  });
  const exportPng = (selectionOnly: boolean) => async () =>
    download(
      await editor.exportPng({ selectionOnly, scale: 2 }),
      `${fileBase()}${selectionOnly ? '-selection' : ''}.png`,
    );
  const exportSvg = (selectionOnly: boolean) => async () =>
    download(
      new Blob([await editor.exportSvg({ selectionOnly })], { type: 'image/svg+xml' }),
      `${fileBase()}${selectionOnly ? '-selection' : ''}.svg`,
    );
  const selPng = item('Export selection as PNG', Download, exportPng(true));
  const selSvg = item('Export selection as SVG', Download, exportSvg(true));
  panel.append(
    item('Export board as PNG', Download, exportPng(false)),
    item('Export board as SVG', Download, exportSvg(false)),
    selPng,
    selSvg,
    h('hr', {}),
    themeItem,
    item('Keyboard shortcuts', Keyboard, openHelp),
  );
  toggle.addEventListener('click', () => {
    if (!panel.hidden) return close();
    update();
    panel.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    panel.querySelector<HTMLElement>('.menu-item')?.focus();
  });
  panel.addEventListener('keydown', (e) => {
    const items = [...panel.querySelectorAll<HTMLElement>('.menu-item:not([hidden])')];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
      toggle.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items[next]?.focus();
    }
  });
  const el = h('div', { class: 'menu' }, toggle, panel);
  const update = () => {
    const dark = isDark();
    themeLabel.textContent = dark ? 'Light mode' : 'Dark mode';
    themeItem.replaceChildren(icon(dark ? Sun : Moon, 16), themeLabel);
    const sel = editor.selection.length > 0;
    selPng.hidden = !sel;
    selSvg.hidden = !sel;
  };
  update();
  return { el, update };
}
