// Registers the Workbox service worker that vite-plugin-pwa generates (dist/sw.js), which
// precaches the app shell so a board opened once reopens offline. Owns registration only;
// what is cached is configured in vite.config.ts. Skipped on the dev server (no sw.js).
import { Workbox } from 'workbox-window';

/** Registers `/sw.js` in production builds when the browser supports service workers. */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const wb = new Workbox('/sw.js', { scope: '/' });
  wb.register().catch((e: unknown) => {
    console.warn('Easel: the offline cache could not be set up:', e);
  });
}
