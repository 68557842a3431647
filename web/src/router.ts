// Client-side routing over the History API: a table of path patterns to page modules,
// link interception, and page life cycle (each page mounts into the root and returns its
// own teardown). Owns URL → page dispatch only; pages own what they render. New pages
// (dashboard, sharing, history, administration) are one more entry in the table given
// to `startRouter`.

/** What a page gets: where to render, the route's parameters and the query string. */
export interface PageContext {
  root: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
}

/** A page: renders into `ctx.root` and returns its teardown (sync or async). */
export type Page = (ctx: PageContext) => (() => void) | Promise<() => void>;

/** One row of the routing table: a pattern such as `/boards/:id` and the page that serves it. */
export interface Route {
  pattern: string;
  page: Page;
}

/** Matches `path` against a pattern with `:name` segments; the decoded parameters, or null. */
export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) {
      return null;
    }
  }
  return params;
}

let routes: Route[] = [];
let notFound: Page = () => () => undefined;
let root: HTMLElement | null = null;
let teardown: (() => void) | null = null;
let generation = 0;

/** Goes to a client route (pushes a history entry unless `replace`) and renders it. */
export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void render();
}

async function render(): Promise<void> {
  if (!root) return;
  const mine = ++generation;
  teardown?.();
  teardown = null;
  root.replaceChildren();
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  let page = notFound;
  let params: Record<string, string> = {};
  for (const r of routes) {
    const m = matchRoute(r.pattern, path);
    if (m) {
      page = r.page;
      params = m;
      break;
    }
  }
  const done = await page({ root, params, query });
  if (mine !== generation) done();
  else teardown = done;
}

/** Starts routing: renders the current URL, follows back/forward and same-origin `<a data-link>` clicks. */
export function startRouter(el: HTMLElement, table: Route[], fallback: Page): void {
  root = el;
  routes = table;
  notFound = fallback;
  window.addEventListener('popstate', () => void render());
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest?.('a[data-link]');
    if (!(a instanceof HTMLAnchorElement) || e.defaultPrevented || e.button !== 0) return;
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.origin !== location.origin) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
  void render();
}
