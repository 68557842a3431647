// Modal dialogs of the board page: the keyboard shortcut overlay and the blocking message
// shown when the board cannot be opened (access revoked, board deleted, not found). Owns
// their markup, focus handling and dismissal only.
import { X } from 'lucide';
import { shortcutGroups } from './actions';
import { h, icon } from './dom';

/** Whether the platform's command key is ⌘. */
export function isApple(): boolean {
  return /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent);
}

/** Opens a modal dialog; Escape, the close button or a click on the backdrop closes it. */
function openModal(title: string, body: HTMLElement, onClose?: () => void): () => void {
  const previous = document.activeElement as HTMLElement | null;
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const closeBtn = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': 'Close' },
    icon(X, 16),
  );
  const dialog = h(
    'div',
    { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId }, title), closeBtn),
    body,
  );
  const backdrop = h('div', { class: 'backdrop' }, dialog);
  const close = () => {
    backdrop.remove();
    document.removeEventListener('keydown', onKey, true);
    previous?.focus?.();
    onClose?.();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'Tab') {
      const focusable = dialog.querySelectorAll<HTMLElement>('button, a[href], input, select');
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last?.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first?.focus();
      }
    }
  };
  closeBtn.addEventListener('click', close);
  backdrop.addEventListener('pointerdown', (e) => {
    if (e.target === backdrop) close();
  });
  document.addEventListener('keydown', onKey, true);
  document.body.append(backdrop);
  closeBtn.focus();
  return close;
}

/** Shows the keyboard shortcuts; returns a function that closes the overlay. */
export function openShortcuts(onClose?: () => void): () => void {
  const mod = isApple() ? '⌘' : 'Ctrl';
  const body = h(
    'div',
    { class: 'shortcuts' },
    ...shortcutGroups(mod).map((g) =>
      h(
        'section',
        {},
        h('h3', {}, g.title),
        h(
          'dl',
          {},
          ...g.rows.flatMap((r) => [
            h('dt', {}, r.label),
            h('dd', {}, ...r.keys.split('  ·  ').map((k) => h('kbd', {}, k))),
          ]),
        ),
      ),
    ),
  );
  return openModal('Keyboard shortcuts', body, onClose);
}

/** A full-page message that replaces the board (no access, deleted, failed to open). */
export function blockingMessage(title: string, text: string): HTMLElement {
  return h(
    'div',
    { class: 'blocking', role: 'alert' },
    h(
      'div',
      { class: 'card' },
      h('h1', {}, title),
      h('p', {}, text),
      h('a', { href: '/', 'data-link': true, class: 'btn btn-primary' }, 'Go to your boards'),
    ),
  );
}
