// The connection indicator (`role="status"`, `data-testid="connection"`): "Connected",
// "Reconnecting…" or "Offline", with `data-state` for tests and styling. Owns this badge only.
import type { ConnectionState } from '../sync/connection';
import { h } from './dom';

/** The words shown for each state (the test contract relies on them). */
export const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The indicator element and its setter. */
export interface ConnectionIndicator {
  el: HTMLElement;
  set(state: ConnectionState): void;
}

/** Builds the indicator in the given state. */
export function createConnectionIndicator(initial: ConnectionState): ConnectionIndicator {
  const text = h('span', {});
  const el = h(
    'div',
    { class: 'connection', role: 'status', 'data-testid': 'connection', 'aria-live': 'polite' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    text,
  );
  const set = (state: ConnectionState) => {
    el.dataset.state = state;
    text.textContent = CONNECTION_TEXT[state];
    el.title =
      state === 'connected'
        ? 'Changes are saved to the server'
        : state === 'offline'
          ? 'You are offline: changes are kept on this device and sent when you are back'
          : 'Trying to reach the server: changes are kept on this device';
  };
  set(initial);
  return { el, set };
}
