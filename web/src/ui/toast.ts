// Short notices at the bottom of the board page (a failed export or upload). Owns this
// live region only.
import { h } from './dom';

/** The notice area and a function that shows one message for a few seconds. */
export interface Toast {
  el: HTMLElement;
  show(message: string): void;
}

/** Builds an empty notice area, announced to screen readers when a message shows. */
export function createToast(): Toast {
  const el = h('div', { class: 'toast', 'aria-live': 'assertive', hidden: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    el,
    show(message) {
      el.textContent = message;
      el.hidden = false;
      clearTimeout(timer);
      timer = setTimeout(() => {
        el.hidden = true;
      }, 5000);
    },
  };
}
