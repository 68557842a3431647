// The sign-in page (`/signin?next=<path>`): email and password → `POST /api/auth/login`,
// then back to `next`. With `mode=register` the same form also asks for a name and creates
// the account first (`POST /api/auth/register`), so a fresh server needs no command line.
// Owns this form only; the session cache belongs to src/api/session.ts.
import { ApiError } from '../api/client';
import { login, register } from '../api/routes';
import { currentUser, resetSession, safeNext } from '../api/session';
import { navigate, type PageContext } from '../router';
import { h } from '../ui/dom';

function field(id: string, label: string, attrs: Record<string, unknown>) {
  const input = h('input', { id, name: id, required: true, ...attrs });
  return { input, nodes: [h('label', { for: id }, label), input] };
}

/** What a failed sign-in or sign-up tells the person. */
function explain(err: unknown, registering: boolean): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Wrong email or password.';
    if (err.status === 403 && registering) return 'This server does not take new accounts.';
    if (err.status === 429) return 'Too many attempts: wait a minute and try again.';
    if (err.status === 0) return 'The server cannot be reached. Check your connection.';
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Renders the sign-in (or sign-up) form; a signed-in visitor goes straight to `next`. */
export async function signinPage({ root, query }: PageContext): Promise<() => void> {
  const next = safeNext(query.get('next'));
  const registering = query.get('mode') === 'register';
  // Ask the server afresh: a page that was just signed out (4401) may still hold the old answer.
  resetSession();
  if (await currentUser().catch(() => null)) {
    navigate(next, { replace: true });
    return () => undefined;
  }
  const name = field('signin-name', 'Name', { autocomplete: 'name', maxlength: 100 });
  const email = field('signin-email', 'Email', { type: 'email', autocomplete: 'username' });
  const password = field('signin-password', 'Password', {
    type: 'password',
    autocomplete: registering ? 'new-password' : 'current-password',
    minlength: registering ? 8 : undefined,
  });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn-primary' },
    registering ? 'Create account' : 'Sign in',
  );
  const other = new URLSearchParams(query);
  if (registering) other.delete('mode');
  else other.set('mode', 'register');
  const form = h(
    'form',
    { class: 'card auth-card', novalidate: true },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      'Easel',
    ),
    h('h1', {}, registering ? 'Create an account' : 'Sign in'),
    ...(registering ? name.nodes : []),
    ...email.nodes,
    ...password.nodes,
    error,
    submit,
    h(
      'p',
      { class: 'muted switch' },
      registering ? 'Already have an account? ' : 'New here? ',
      h(
        'a',
        { href: `/signin?${other.toString()}`, 'data-link': true },
        registering ? 'Sign in' : 'Create an account',
      ),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.hidden = true;
    const fail = (message: string) => {
      error.textContent = message;
      error.hidden = false;
    };
    if (!email.input.value || !password.input.value || (registering && !name.input.value.trim())) {
      return fail(
        registering ? 'Enter your name, email and password.' : 'Enter your email and password.',
      );
    }
    if (registering && password.input.value.length < 8) {
      return fail('Choose a password of at least 8 characters.');
    }
    submit.disabled = true;
    const address = email.input.value.trim();
    const signUp = registering
      ? register(address, name.input.value.trim(), password.input.value)
      : Promise.resolve();
    signUp
      .then(() => login(address, password.input.value))
      .then(() => {
        resetSession();
        navigate(next, { replace: true });
      })
      .catch((err: unknown) => {
        submit.disabled = false;
        fail(explain(err, registering));
        password.input.select();
      });
  });
  root.append(h('main', { class: 'center-page' }, form));
  (registering ? name.input : email.input).focus();
  return () => undefined;
}
