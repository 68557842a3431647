// Build of the browser client: Vite bundles src/ into dist/ (hashed files under assets/),
// and vite-plugin-pwa writes the Workbox service worker (sw.js) that caches the app shell.
// Owns build and dev-server settings only; it must not hold application code. The dev
// server proxies /api and /ws to a running easel (EASEL_DEV_BACKEND, default :8080).
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const backend = process.env.EASEL_DEV_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  build: { target: 'es2022', sourcemap: true },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true, changeOrigin: false },
    },
  },
  plugins: [
    VitePWA({
      strategies: 'generateSW',
      filename: 'sw.js',
      injectRegister: false,
      registerType: 'autoUpdate',
      manifest: {
        name: 'Easel',
        short_name: 'Easel',
        description: 'A collaborative whiteboard',
        theme_color: '#4f46e5',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '/',
        icons: [{ src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/ws\//, /^\/healthz/, /^\/readyz/, /^\/metrics/],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
