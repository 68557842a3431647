// The page for a URL no route claims. Owns this message only.
import type { PageContext } from '../router';
import { h } from '../ui/dom';

/** Renders "page not found" with a way home. */
export function notFoundPage({ root }: PageContext): () => void {
  root.append(
    h(
      'main',
      { class: 'center-page' },
      h(
        'div',
        { class: 'card' },
        h('h1', {}, 'Page not found'),
        h('p', {}, 'There is nothing at this address.'),
        h('a', { href: '/', 'data-link': true, class: 'btn btn-primary' }, 'Go to your boards'),
      ),
    ),
  );
  return () => undefined;
}
