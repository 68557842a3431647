// The board page (`/boards/{id}`): checks the session (else `/signin?next=...`), reads the
// caller's role, opens the board's document (IndexedDB + WebSocket), creates the editor and
// mounts the UI around it: tool bar, style panel, presence, connection state, zoom, history
// and menu. Owns this page's wiring, its keyboard shortcuts and its handling of the
// server's permanent closes; drawing belongs to the editor, syncing to src/sync.
import { ApiError } from '../api/client';
import { assetUrl, getBoard, logout, renameBoard, uploadAsset } from '../api/routes';
import { currentUser, resetSession, signinUrl } from '../api/session';
import type { BoardView, Role, UserView } from '../api/types';
import { roots } from '../board/schema';
import { createEditor, type Editor } from '../editor';
import { navigate, type PageContext } from '../router';
import { connectBoard, type BoardConnection, type TerminalClose } from '../sync/connection';
import {
  forgetRole,
  forgetUser,
  lastRole,
  lastUser,
  presenceFor,
  rememberRole,
  rememberUser,
  resolveColours,
} from '../sync/identity';
import { actionForKey, isTextInput, VIEWER_TOOLS, type ActionId } from '../ui/actions';
import { createConnectionIndicator } from '../ui/connection';
import {
  createHistoryControls,
  createMainMenu,
  createZoomControls,
  type Controls,
} from '../ui/controls';
import { blockingMessage, isApple, openShortcuts } from '../ui/dialogs';
import { createEmptyHint } from '../ui/empty-hint';
import { h } from '../ui/dom';
import { createPresenceList } from '../ui/presence';
import { createStylePanel } from '../ui/style-panel';
import { createToast } from '../ui/toast';
import { createToolbar } from '../ui/toolbar';

/** What the board page knows before it connects: who, on which board, with which role. */
interface Opening {
  user: UserView;
  role: Role;
  board: BoardView | null;
}

/** The test hook the contract promises: set once connected. */
declare global {
  interface Window {
    easel?: { doc: unknown; provider: unknown; undoManager: unknown; editor: Editor };
  }
}

/**
 * Finds out who the caller is and what they may do; works offline from what was remembered
 * the last time. Answers a message to show instead when the board cannot be opened.
 */
async function open(
  boardId: string,
  here: string,
): Promise<Opening | { blocked: HTMLElement } | null> {
  let user: UserView | null;
  try {
    user = await currentUser();
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 0) throw e;
    user = lastUser();
  }
  if (!user) {
    navigate(signinUrl(here), { replace: true });
    return null;
  }
  rememberUser(user);
  try {
    const board = await getBoard(boardId);
    const role = board.role ?? 'viewer';
    rememberRole(boardId, role);
    return { user, role, board };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 0) return { user, role: lastRole(boardId) ?? 'viewer', board: null };
    if (e.status === 401) {
      navigate(signinUrl(here), { replace: true });
      return null;
    }
    if (e.status === 404) {
      forgetRole(boardId);
      return {
        blocked: blockingMessage(
          'Board not found',
          'This board was deleted, or it never existed. Check the link you were given.',
        ),
      };
    }
    if (e.status === 403) {
      forgetRole(boardId);
      return {
        blocked: blockingMessage(
          'No access',
          'You no longer have access to this board. Ask its owner to share it with you again.',
        ),
      };
    }
    throw e;
  }
}

/** The message for a permanent close of the board's socket. */
function closeMessage(c: TerminalClose): HTMLElement {
  if (c.code === 4403) {
    return blockingMessage(
      'No access',
      'You no longer have access to this board. Ask its owner to share it with you again.',
    );
  }
  if (c.code === 4404) {
    return blockingMessage(
      'Board deleted',
      'This board was deleted by its owner or an administrator.',
    );
  }
  if (c.code === 4413) {
    return blockingMessage(
      'Board too large',
      'This board has grown past the size the server accepts, so the last changes could not be saved.',
    );
  }
  return blockingMessage(
    'Disconnected',
    `The server closed the connection (${c.code}${c.reason ? `: ${c.reason}` : ''}).`,
  );
}

/** Opens a board. */
export async function boardPage({ root, params }: PageContext): Promise<() => void> {
  const boardId = params.id ?? '';
  const here = location.pathname + location.search;
  let opening: Awaited<ReturnType<typeof open>>;
  try {
    opening = await open(boardId, here);
  } catch (e) {
    root.append(blockingMessage('Could not open the board', (e as Error).message));
    return () => undefined;
  }
  if (!opening) return () => undefined;
  if ('blocked' in opening) {
    root.append(opening.blocked);
    return () => undefined;
  }
  return mountBoard(root, boardId, opening);
}

function mountBoard(root: HTMLElement, boardId: string, opening: Opening): () => void {
  const { user, role } = opening;
  const readOnly = role === 'viewer';
  const modKey = isApple() ? '⌘' : 'Ctrl';
  let boardName = opening.board?.name ?? 'Board';
  document.title = `${boardName} — Easel`;

  const conn: BoardConnection = connectBoard(boardId);
  const presence = presenceFor(user);
  conn.provider.awareness.setLocalStateField('user', presence);

  const stage = h('div', { class: 'stage' });
  const page = h('main', { class: `board-page${readOnly ? ' read-only' : ''}` }, stage);
  root.append(page);

  const toast = createToast();
  const editor = createEditor({
    container: stage,
    doc: conn.doc,
    awareness: conn.provider.awareness,
    readOnly,
    user: presence,
    uploadImage: (file) =>
      uploadAsset(boardId, file).catch((e: unknown) => {
        toast.show(`The image could not be added: ${(e as Error).message}`);
        throw e;
      }),
    assetUrl: (id) => assetUrl(boardId, id),
  });

  let closeHelp: (() => void) | null = null;
  const help = () => {
    if (closeHelp) return closeHelp();
    closeHelp = openShortcuts(() => (closeHelp = null));
  };

  const toolbar = createToolbar(editor, readOnly);
  const indicator = createConnectionIndicator(conn.state);
  const presenceList = createPresenceList(conn.provider.awareness, editor);
  const zoom = createZoomControls(editor, modKey);
  const menu = createMainMenu(editor, {
    boardName: () => boardName,
    openHelp: help,
    onError: (m) => toast.show(m),
    signOut: async () => {
      await logout().catch(() => undefined);
      resetSession();
      forgetUser();
      navigate('/signin');
    },
  });
  const parts: Controls[] = [toolbar, zoom, menu];
  const title = h('h1', { class: 'board-title', title: boardName }, boardName);
  const setName = (name: string) => {
    boardName = name;
    title.textContent = name;
    title.title = name;
    document.title = `${name} — Easel`;
    if (role === 'owner') title.setAttribute('aria-label', `Rename board ${name}`);
  };
  if (role === 'owner') {
    title.classList.add('editable');
    title.tabIndex = 0;
    title.setAttribute('role', 'button');
    title.setAttribute('aria-label', `Rename board ${boardName}`);
    const edit = () => {
      const input = h('input', {
        class: 'title-input',
        value: boardName,
        'aria-label': 'Board name',
        maxlength: 200,
      });
      let done = false;
      const finish = (save: boolean) => {
        if (done) return;
        done = true;
        const name = input.value.trim();
        input.replaceWith(title);
        if (!save || !name || name === boardName) return;
        const previous = boardName;
        setName(name);
        renameBoard(boardId, name).catch((e: unknown) => {
          setName(previous);
          toast.show(`The board could not be renamed: ${(e as Error).message}`);
        });
      };
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') finish(true);
        else if (e.key === 'Escape') finish(false);
        e.stopPropagation();
      });
      input.addEventListener('blur', () => finish(true));
      title.replaceWith(input);
      input.focus();
      input.select();
    };
    title.addEventListener('click', edit);
    title.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        edit();
      }
    });
  }
  const roleBadge = readOnly ? h('span', { class: 'badge' }, 'View only') : null;
  const helpBtn = h(
    'button',
    {
      type: 'button',
      class: 'icon-btn help-btn floating',
      'aria-label': 'Keyboard shortcuts',
      title: 'Keyboard shortcuts — ?',
    },
    '?',
  );
  helpBtn.addEventListener('click', help);

  const topLeft = h(
    'div',
    { class: 'corner top-left' },
    h(
      'div',
      { class: 'title-bar floating' },
      menu.el,
      h(
        'a',
        { href: '/', 'data-link': true, class: 'home-link', 'aria-label': 'Your boards' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      ),
      title,
      roleBadge,
    ),
  );
  const topRight = h(
    'div',
    { class: 'corner top-right' },
    h('div', { class: 'floating people' }, presenceList.el, indicator.el),
  );
  const bottomLeft = h('div', { class: 'corner bottom-left' }, zoom.el);
  const bottomRight = h('div', { class: 'corner bottom-right' }, helpBtn);
  const followName = h('span', {});
  const stopFollowing = h('button', { type: 'button', class: 'link-btn' }, 'Stop');
  stopFollowing.addEventListener('click', () => editor.follow(null));
  const followBanner = h(
    'div',
    { class: 'follow-banner floating', hidden: true, role: 'status' },
    followName,
    stopFollowing,
  );
  const updateFollow = () => {
    const id = editor.following;
    const state = id === null ? undefined : conn.provider.awareness.getStates().get(id);
    const name = (state?.user as { name?: string } | undefined)?.name;
    followBanner.hidden = id === null;
    followName.textContent = name ? `Following ${name}` : 'Following';
    const colours = resolveColours(
      conn.provider.awareness.getStates() as Map<number, Record<string, unknown>>,
    );
    followBanner.style.setProperty(
      '--c',
      (id === null ? undefined : colours.get(id)) ?? 'var(--accent)',
    );
  };

  const ui = h(
    'div',
    { class: 'ui' },
    topLeft,
    h('div', { class: 'top-center' }, toolbar.el, followBanner),
    topRight,
    bottomLeft,
    bottomRight,
  );

  if (!readOnly) {
    const history = createHistoryControls(editor, modKey);
    const stylePanel = createStylePanel(editor);
    parts.push(history, stylePanel);
    bottomLeft.append(history.el);
    bottomRight.prepend(stylePanel.toggle);
    ui.append(stylePanel.el);
  }
  const emptyHint = createEmptyHint(roots(conn.doc).elements, readOnly);
  page.append(emptyHint.el, ui, toast.el);

  const offChange = editor.on('change', () => {
    for (const p of parts) p.update();
    presenceList.update();
    updateFollow();
  });
  const onAwareness = () => presenceList.update();
  conn.provider.awareness.on('change', onAwareness);
  const offState = conn.onState((s) => indicator.set(s));
  const offSync = conn.onFirstSync(() => {
    document.body.dataset.synced = 'true';
    emptyHint.ready();
  });
  window.easel = {
    doc: conn.doc,
    provider: conn.provider,
    undoManager: editor.undoManager,
    editor,
  };
  const offTerminal = conn.onTerminal((c) => {
    if (c.code === 4401) {
      resetSession();
      navigate(signinUrl(location.pathname + location.search), { replace: true });
      return;
    }
    if (c.code === 4403 && c.reason.startsWith('read-only')) {
      // Still a member, but now a viewer: the refused edits cannot be kept. Drop them and
      // reopen the board, which reads the new role.
      void conn
        .clearLocal()
        .then(() => navigate(location.pathname + location.search, { replace: true }));
      return;
    }
    if (c.code === 4403 || c.code === 4404) {
      forgetRole(boardId);
      void conn.clearLocal();
    }
    page.replaceChildren(closeMessage(c));
  });

  const run = (action: ActionId) => {
    if (action.startsWith('tool:')) {
      const tool = action.slice(5) as Parameters<Editor['setTool']>[0];
      if (!readOnly || VIEWER_TOOLS.has(tool)) editor.setTool(tool);
      return;
    }
    switch (action) {
      case 'help':
        return help();
      case 'escape':
        editor.clearSelection();
        return editor.setTool(readOnly ? 'hand' : 'select');
      case 'zoomIn':
        return editor.zoomIn();
      case 'zoomOut':
        return editor.zoomOut();
      case 'zoomReset':
        return editor.zoomTo(1);
      case 'zoomFit':
        return editor.zoomToFit();
      case 'zoomSelection':
        return editor.zoomToSelection();
      case 'grid':
        editor.gridVisible = !editor.gridVisible;
        return zoom.update();
    }
    if (readOnly) return;
    switch (action) {
      case 'delete':
        return editor.deleteSelection();
      case 'undo':
        return editor.undo();
      case 'redo':
        return editor.redo();
      case 'duplicate':
        return editor.duplicateSelection();
      case 'selectAll':
        return editor.selectAll();
    }
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || isTextInput(e.target) || closeHelp) return;
    const action = actionForKey(e);
    if (action === 'escape' && editor.following !== null) {
      e.preventDefault();
      editor.follow(null);
      return;
    }
    if (action && !(action === 'escape' && editor.handleKey(e))) {
      e.preventDefault();
      run(action);
      return;
    }
    if (!action && editor.handleKey(e)) e.preventDefault();
  };
  document.addEventListener('keydown', onKey);

  if (opening.board === null) {
    getBoard(boardId)
      .then((b) => setName(b.name))
      .catch(() => undefined);
  }

  return () => {
    document.removeEventListener('keydown', onKey);
    offChange();
    offState();
    offSync();
    emptyHint.destroy();
    offTerminal();
    conn.provider.awareness.off('change', onAwareness);
    closeHelp?.();
    editor.destroy();
    conn.destroy();
    delete window.easel;
    delete document.body.dataset.synced;
    document.title = 'Easel';
  };
}
