// The live document of one board: a Y.Doc kept in IndexedDB (y-indexeddb, so offline edits
// survive reloads) and synced with the server over the stock y-websocket provider at
// `/ws/boards` (room = board id; the `easel_token` cookie authenticates, no token in the URL).
// Owns the providers' life cycle, the connection state (connected / reconnecting / offline)
// and the server's permanent closes (4401 / 4403 / 4404). It must not render anything nor
// edit the document.
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/** What the connection indicator shows. */
export type ConnectionState = 'connected' | 'reconnecting' | 'offline';

/** A close the client will not retry: signed out (4401), no access (4403), board deleted (4404), or another 44xx. */
export interface TerminalClose {
  code: number;
  reason: string;
}

/** The board's document and its providers. */
export interface BoardConnection {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly persistence: IndexeddbPersistence;
  /** The current connection state. */
  readonly state: ConnectionState;
  /** Resolves once the local IndexedDB copy is loaded into the doc. */
  readonly localLoaded: Promise<void>;
  /** Called on every state change. Returns an unsubscribe function. */
  onState(cb: (s: ConnectionState) => void): () => void;
  /** Called once after the first completed sync with the server. */
  onFirstSync(cb: () => void): () => void;
  /** Called when the server closes for good (44xx). */
  onTerminal(cb: (c: TerminalClose) => void): () => void;
  /** Deletes the board's local copy (after it was deleted or access was revoked). */
  clearLocal(): Promise<void>;
  /** Disconnects and releases everything. */
  destroy(): void;
}

/** The WebSocket base URL of the server the page came from (`ws(s)://host/ws/boards`). */
export function boardsSocketUrl(origin: string = location.origin): string {
  return `${origin.replace(/^http/, 'ws')}/ws/boards`;
}

/** The connection state from the provider's and the browser's view. */
export function connectionState(online: boolean, connected: boolean): ConnectionState {
  if (!online) return 'offline';
  return connected ? 'connected' : 'reconnecting';
}

/** Opens a board: local copy first, then the server. */
export function connectBoard(boardId: string): BoardConnection {
  const doc = new Y.Doc();
  const persistence = new IndexeddbPersistence(`easel-board-${boardId}`, doc);
  const provider = new WebsocketProvider(boardsSocketUrl(), boardId, doc, {
    disableBc: true,
    maxBackoffTime: 5000,
  });

  const stateListeners = new Set<(s: ConnectionState) => void>();
  const syncListeners = new Set<() => void>();
  const terminalListeners = new Set<(c: TerminalClose) => void>();
  let state: ConnectionState = connectionState(navigator.onLine, false);
  let firstSyncDone = false;
  let terminal: TerminalClose | null = null;

  const update = () => {
    const next = connectionState(navigator.onLine, provider.wsconnected);
    if (next === state) return;
    state = next;
    for (const cb of stateListeners) cb(state);
  };
  const onStatus = () => update();
  const onSync = (synced: boolean) => {
    if (!synced || firstSyncDone) return;
    firstSyncDone = true;
    for (const cb of syncListeners) cb();
  };
  const onClosed = (c: TerminalClose) => {
    terminal = c;
    for (const cb of terminalListeners) cb(c);
  };
  const onOnline = () => {
    update();
    if (!terminal && !provider.wsconnected) provider.connect();
  };
  provider.on('status', onStatus);
  provider.on('sync', onSync);
  provider.on('closed', onClosed);
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', update);

  return {
    doc,
    provider,
    persistence,
    get state() {
      return state;
    },
    localLoaded: persistence.whenSynced.then(() => undefined),
    onState(cb) {
      stateListeners.add(cb);
      return () => stateListeners.delete(cb);
    },
    onFirstSync(cb) {
      if (firstSyncDone) {
        cb();
        return () => undefined;
      }
      syncListeners.add(cb);
      return () => syncListeners.delete(cb);
    },
    onTerminal(cb) {
      if (terminal) cb(terminal);
      terminalListeners.add(cb);
      return () => terminalListeners.delete(cb);
    },
    clearLocal: () => persistence.clearData(),
    destroy() {
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', update);
      provider.off('status', onStatus);
      provider.off('sync', onSync);
      provider.off('closed', onClosed);
      provider.destroy();
      void persistence.destroy();
      doc.destroy();
    },
  };
}
