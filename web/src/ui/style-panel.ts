// The compact style panel: stroke colour, fill, stroke width, dash, opacity and font size,
// plus the selection's arrange actions (duplicate, delete, forward/back, lock). Shown while
// a drawing tool is active or something is selected. Owns these controls only; changes go
// through `editor.setStyle` and the editor's arrange methods.
import {
  ArrowDown,
  ArrowUp,
  BringToFront,
  Copy,
  Lock,
  Palette,
  SendToBack,
  Trash,
  type IconNode,
} from 'lucide';
import type { Editor, StyleValues, ToolName } from '../editor';
import { h, icon } from './dom';

/** Stroke colours offered as swatches (plus a free colour picker). */
export const STROKES = ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5'];
/** Fills offered as swatches; `transparent` is "no fill". */
export const FILLS = ['transparent', '#ffc9c9', '#b2f2bb', '#a5d8ff', '#ffec99', '#eebefa'];
const WIDTHS: [number, string][] = [
  [2, 'Thin'],
  [4, 'Medium'],
  [8, 'Bold'],
];
const DASHES: StyleValues['dash'][] = ['solid', 'dashed', 'dotted'];
const FONT_SIZES: [number, string][] = [
  [16, 'S'],
  [24, 'M'],
  [32, 'L'],
  [48, 'XL'],
];
const DRAWING_TOOLS: ReadonlySet<ToolName> = new Set<ToolName>([
  'pen',
  'rect',
  'ellipse',
  'line',
  'arrow',
  'text',
  'sticky',
]);

/**
 * The style panel element, the button that opens it on narrow screens (where it is folded
 * away so it does not cover the board), and its refresh function.
 */
export interface StylePanel {
  el: HTMLElement;
  toggle: HTMLButtonElement;
  update(): void;
}

function group(title: string, ...children: HTMLElement[]): HTMLElement {
  const id = `sp-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return h(
    'div',
    { class: 'sp-group', role: 'group', 'aria-labelledby': id },
    h('div', { class: 'sp-title', id }, title),
    h('div', { class: 'sp-row' }, ...children),
  );
}

/** Builds the style panel for an editor that may change the board. */
export function createStylePanel(editor: Editor): StylePanel {
  const swatch = (
    colour: string,
    label: string,
    pick: () => void,
    kind: 'stroke' | 'fill',
  ): HTMLButtonElement => {
    const b = h('button', {
      type: 'button',
      class: `swatch${colour === 'transparent' ? ' swatch-none' : ''}`,
      'aria-label': label,
      'aria-pressed': 'false',
      title: label,
      dataset: { value: colour, kind },
      style: colour === 'transparent' ? undefined : `--swatch:${colour}`,
    });
    b.addEventListener('click', pick);
    return b;
  };
  const strokeButtons = STROKES.map((c) =>
    swatch(c, `Stroke ${c}`, () => editor.setStyle({ stroke: c }), 'stroke'),
  );
  const strokePicker = h('input', {
    type: 'color',
    class: 'colour-input',
    'aria-label': 'Custom stroke colour',
    title: 'Custom colour',
  });
  strokePicker.addEventListener('change', () => editor.setStyle({ stroke: strokePicker.value }));
  const fillButtons = FILLS.map((c) =>
    swatch(
      c,
      c === 'transparent' ? 'No fill' : `Fill ${c}`,
      () => editor.setStyle({ fill: c }),
      'fill',
    ),
  );
  const choice = <T>(label: string, value: T, content: Node | string, pick: () => void) => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'chip',
        'aria-label': label,
        'aria-pressed': 'false',
        title: label,
        dataset: { value: String(value) },
      },
      content,
    );
    b.addEventListener('click', pick);
    return b;
  };
  const line = (w: number, dash: string) =>
    h('span', {
      class: 'line-sample',
      style: `--w:${Math.min(w, 6)}px;--dash:${dash}`,
      'aria-hidden': 'true',
    });
  const widthButtons = WIDTHS.map(([w, label]) =>
    choice(`Stroke width ${label.toLowerCase()}`, w, line(w, 'solid'), () =>
      editor.setStyle({ width: w }),
    ),
  );
  const dashButtons = DASHES.map((d) =>
    choice(`${d[0]?.toUpperCase()}${d.slice(1)} stroke`, d, line(2, d), () =>
      editor.setStyle({ dash: d }),
    ),
  );
  const fontButtons = FONT_SIZES.map(([s, label]) =>
    choice(`Font size ${label}`, s, label, () => editor.setStyle({ fontSize: s })),
  );
  const opacity = h('input', {
    type: 'range',
    min: 10,
    max: 100,
    step: 5,
    'aria-label': 'Opacity',
    class: 'range',
  });
  opacity.addEventListener('change', () =>
    editor.setStyle({ opacity: Number(opacity.value) / 100 }),
  );
  const action = (label: string, node: IconNode, run: () => void) => {
    const b = h(
      'button',
      { type: 'button', class: 'icon-btn', 'aria-label': label, title: label },
      icon(node, 16),
    );
    b.addEventListener('click', run);
    return b;
  };
  const lockBtn = action('Lock', Lock, () => editor.toggleLock());
  const arrange = h(
    'div',
    { class: 'sp-group', role: 'group', 'aria-label': 'Arrange' },
    h('div', { class: 'sp-title' }, 'Arrange'),
    h(
      'div',
      { class: 'sp-row' },
      action('Send to back', SendToBack, () => editor.sendToBack()),
      action('Send backward', ArrowDown, () => editor.sendBackward()),
      action('Bring forward', ArrowUp, () => editor.bringForward()),
      action('Bring to front', BringToFront, () => editor.bringToFront()),
    ),
    h(
      'div',
      { class: 'sp-row' },
      action('Duplicate', Copy, () => editor.duplicateSelection()),
      lockBtn,
      action('Delete', Trash, () => editor.deleteSelection()),
    ),
  );
  const fontGroup = group('Font size', ...fontButtons);
  const el = h(
    'aside',
    { class: 'style-panel floating', 'aria-label': 'Style' },
    group('Stroke', ...strokeButtons, strokePicker),
    group('Fill', ...fillButtons),
    group('Width', ...widthButtons),
    group('Dash', ...dashButtons),
    h(
      'div',
      { class: 'sp-group' },
      h('label', { class: 'sp-title', for: 'sp-opacity' }, 'Opacity'),
      Object.assign(opacity, { id: 'sp-opacity' }),
    ),
    fontGroup,
    arrange,
  );
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'icon-btn style-toggle floating',
      'aria-label': 'Style',
      'aria-expanded': 'false',
      'aria-controls': 'style-panel',
      title: 'Style',
    },
    icon(Palette, 18),
  );
  el.id = 'style-panel';
  toggle.addEventListener('click', () => {
    const open = !el.classList.contains('open');
    el.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
  });
  const press = (buttons: HTMLElement[], value: string) => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.value === value));
  };
  const update = () => {
    const s = editor.style;
    const hasSelection = editor.selection.length > 0;
    el.hidden = !hasSelection && !DRAWING_TOOLS.has(editor.tool);
    toggle.hidden = el.hidden;
    arrange.hidden = !hasSelection;
    fontGroup.hidden = !hasSelection && editor.tool !== 'text' && editor.tool !== 'sticky';
    press(strokeButtons, s.stroke);
    press(fillButtons, s.fill);
    press(widthButtons, String(s.width));
    press(dashButtons, s.dash);
    press(fontButtons, String(s.fontSize));
    if (/^#[0-9a-f]{6}$/i.test(s.stroke)) strokePicker.value = s.stroke;
    if (document.activeElement !== opacity) opacity.value = String(Math.round(s.opacity * 100));
  };
  update();
  return { el, toggle, update };
}
