// The sign-in page (`/signin?next=<path>`): email and password → `POST /api/auth/login`,
// then back to `next`. Owns this form only; the session cache belongs to src/api/session.ts.
import { ApiError } from '../api/client';
import { login } from '../api/routes';
import { resetSession, safeNext } from '../api/session';
import { navigate, type PageContext } from '../router';
import { h } from '../ui/dom';

/** Renders the sign-in form. */
export function signinPage({ root, query }: PageContext): () => void {
  const next = safeNext(query.get('next'));
  const email = h('input', {
    id: 'signin-email',
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
  });
  const password = h('input', {
    id: 'signin-password',
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card auth-card', novalidate: true },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      'Easel',
    ),
    h('h1', {}, 'Sign in'),
    h('label', { for: 'signin-email' }, 'Email'),
    email,
    h('label', { for: 'signin-password' }, 'Password'),
    password,
    error,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.hidden = true;
    if (!email.value || !password.value) {
      error.textContent = 'Enter your email and password.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    login(email.value.trim(), password.value)
      .then(() => {
        resetSession();
        navigate(next, { replace: true });
      })
      .catch((err: unknown) => {
        submit.disabled = false;
        error.textContent =
          err instanceof ApiError && err.status === 401
            ? 'Wrong email or password.'
            : err instanceof Error
              ? err.message
              : String(err);
        error.hidden = false;
        password.select();
      });
  });
  root.append(h('main', { class: 'center-page' }, form));
  email.focus();
  return () => undefined;
}
