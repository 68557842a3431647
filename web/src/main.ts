// Boot of the browser client: styles, the routing table, the theme and the service worker.
// Owns start-up wiring only; pages, sync and UI live in their own modules.
import './styles.css';
import { homePage } from './pages/home';
import { notFoundPage } from './pages/not-found';
import { signinPage } from './pages/signin';
import { startRouter } from './router';
import { followTheme } from './ui/theme';
import { registerServiceWorker } from './sw';

followTheme();

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');

startRouter(
  root,
  [
    { pattern: '/', page: homePage },
    { pattern: '/signin', page: signinPage },
    {
      pattern: '/boards/:id',
      page: (ctx) => import('./pages/board').then((m) => m.boardPage(ctx)),
    },
  ],
  notFoundPage,
);

registerServiceWorker();
