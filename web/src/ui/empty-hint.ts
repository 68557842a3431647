// The hint on an empty board: what a person can do first. Owns this one element; reads how
// many elements the document holds and never writes the document.
import type * as Y from 'yjs';
import { h } from './dom';

/** The hint's element, shown while the board is empty once it has synced. */
export interface EmptyHint {
  el: HTMLElement;
  /** Call once the board's content has arrived: before that, empty means "not loaded yet". */
  ready(): void;
  destroy(): void;
}

/** Builds the hint for a board whose elements map is `elements`. */
export function createEmptyHint<T>(elements: Y.Map<T>, readOnly: boolean): EmptyHint {
  const el = h(
    'div',
    { class: 'empty-hint', hidden: true },
    h('strong', {}, readOnly ? 'This board is empty' : 'Start drawing'),
    h(
      'span',
      {},
      readOnly
        ? 'What people draw here appears live.'
        : 'Pick a tool above, or press R for a rectangle, P for the pen, N for a sticky note. Paste or drop an image anywhere.',
    ),
  );
  let loaded = false;
  const update = () => {
    el.hidden = !loaded || elements.size > 0;
  };
  elements.observe(update);
  return {
    el,
    ready() {
      loaded = true;
      update();
    },
    destroy: () => elements.unobserve(update),
  };
}
