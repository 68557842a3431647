// Builds the benchmark's pages (easel.html, excalidraw.html, and ydoc.html: the board's
// Y.Doc alone, the floor under Easel's heap) for production, as users get them: minified,
// React in production mode. `@easel` is the web client's source tree, so the Easel page
// runs the real renderer, not a copy of it (EASEL_WEB_SRC overrides it).

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // EASEL_WEB_SRC points at another checkout's web/src (an A/B of a renderer change).
    alias: { '@easel': process.env.EASEL_WEB_SRC || here('../../web/src') },
    // The web client's sources import these by name: take them from bench/browser's own
    // node_modules (the same versions as web/package.json), one copy of Yjs for both.
    dedupe: ['yjs', 'y-protocols', 'rbush', 'perfect-freehand', 'fractional-indexing', 'lib0'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 5000,
    rollupOptions: {
      input: {
        easel: here('easel.html'),
        excalidraw: here('excalidraw.html'),
        ydoc: here('ydoc.html'),
      },
      // Excalidraw's dependencies carry React's "use client" markers, meaningless here.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
