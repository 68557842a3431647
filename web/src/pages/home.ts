// The start page (`/`): the signed-in user's boards and a button to create one. A stand-in
// for the full dashboard of a later issue; owns this list only.
import { createBoard, listBoards, logout } from '../api/routes';
import { currentUser, resetSession, signinUrl } from '../api/session';
import { navigate, type PageContext } from '../router';
import { forgetUser } from '../sync/identity';
import { h } from '../ui/dom';

/** Renders the board list, or sends a visitor to sign in. */
export async function homePage({ root }: PageContext): Promise<() => void> {
  const user = await currentUser().catch(() => null);
  if (!user) {
    navigate(signinUrl('/'), { replace: true });
    return () => undefined;
  }
  const list = h('ul', { class: 'board-list' }, h('li', { class: 'muted' }, 'Loading…'));
  const nameInput = h('input', {
    id: 'new-board-name',
    placeholder: 'New board name',
    required: true,
    maxlength: 200,
  });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'row' },
    h('label', { for: 'new-board-name', class: 'sr-only' }, 'New board name'),
    nameInput,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create board'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = nameInput.value.trim();
    if (!name) return;
    createBoard(name)
      .then((b) => navigate(`/boards/${b.id}`))
      .catch((err: unknown) => {
        error.textContent = err instanceof Error ? err.message : String(err);
        error.hidden = false;
      });
  });
  const signOut = h('button', { type: 'button', class: 'btn' }, 'Sign out');
  signOut.addEventListener('click', () => {
    void logout()
      .catch(() => undefined)
      .then(() => {
        resetSession();
        forgetUser();
        navigate('/signin');
      });
  });
  root.append(
    h(
      'main',
      { class: 'page' },
      h(
        'header',
        { class: 'page-header' },
        h(
          'div',
          { class: 'brand' },
          h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
          'Easel',
        ),
        h('span', { class: 'muted' }, user.name ?? user.email ?? ''),
        signOut,
      ),
      h('h1', {}, 'Your boards'),
      form,
      error,
      list,
    ),
  );
  listBoards()
    .then((boards) => {
      list.replaceChildren(
        ...(boards.items.length
          ? boards.items.map((b) =>
              h(
                'li',
                {},
                h(
                  'a',
                  { href: `/boards/${b.id}`, 'data-link': true, class: 'board-row' },
                  h('span', { class: 'board-name' }, b.name),
                  h(
                    'span',
                    { class: 'muted' },
                    [b.role, `edited ${new Date(b.updated_at).toLocaleDateString()}`]
                      .filter(Boolean)
                      .join(' · '),
                  ),
                ),
              ),
            )
          : [h('li', { class: 'muted' }, 'No boards yet: create one above.')]),
      );
    })
    .catch((err: unknown) => {
      list.replaceChildren(h('li', { class: 'form-error' }, String((err as Error).message)));
    });
  return () => undefined;
}
