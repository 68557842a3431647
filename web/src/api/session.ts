// Session helpers: who is signed in (cached for the page's life) and where to send someone
// who is not. Owns the sign-in redirect URL format (`/signin?next=<path>`); it must not
// render anything.
import { ApiError } from './client';
import { me } from './routes';
import type { UserView } from './types';

let current: Promise<UserView | null> | null = null;

/** The signed-in user, or null when nobody is (asks the server once, then remembers). */
export function currentUser(): Promise<UserView | null> {
  current ??= me().catch((e: unknown) => {
    current = null;
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  });
  return current;
}

/** Forgets the cached user (after signing in or out). */
export function resetSession(): void {
  current = null;
}

/** The sign-in page's URL that comes back to `next` (a same-origin path) afterwards. */
export function signinUrl(next: string): string {
  return `/signin?next=${encodeURIComponent(next)}`;
}

/** A safe place to go after signing in: only same-origin paths, never another site. */
export function safeNext(raw: string | null): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  return raw;
}
