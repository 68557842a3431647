// The Easel page: the web client's real renderer (web/src/canvas/renderer.ts: spatial index,
// culling, cached static layer) full-window on the benchmark's board, panned and zoomed
// with the client's own camera functions (web/src/canvas/camera.ts). The board's state is
// fed as the sync provider feeds it: one update applied to the Y.Doc once the renderer is
// up, as sync step 2 arrives in the app.
//
// Owns only this page's wiring (the canvas element and the mouse → camera mapping, as the
// hand tool does it); it draws nothing itself and never changes the board.

import { panBy, zoomAt } from '@easel/canvas/camera';
import { createRenderer } from '@easel/canvas/renderer';
import * as Y from 'yjs';
import { installHarness, sceneSize } from './harness.js';

/** Zoom factor per wheel pixel with Ctrl held (a pinch): 50 px ≈ 10 %. */
const WHEEL_ZOOM = 1 / 500;

const n = sceneSize();
const doc = new Y.Doc();
const canvas = document.createElement('canvas');
canvas.setAttribute('aria-label', 'Board canvas');
canvas.style.cssText = 'position:absolute;inset:0;width:100%;height:100%;display:block';
document.getElementById('board').append(canvas);
const bench = installHarness({
  app: 'easel',
  zoom: () => (renderer ? renderer.camera.zoom : null),
  shapes: () => doc.getMap('elements').size,
  canvas: () => canvas,
});
const renderer = createRenderer(canvas, doc, { onFrame: (ms) => bench.frameWork(ms) });
renderer.resize();

window.addEventListener('resize', () => renderer.resize());

canvas.addEventListener(
  'wheel',
  (e) => {
    e.preventDefault();
    const camera = renderer.camera;
    if (e.ctrlKey || e.metaKey) {
      const zoom = camera.zoom * Math.exp(-e.deltaY * WHEEL_ZOOM);
      renderer.setCamera(zoomAt(camera, zoom, { x: e.offsetX, y: e.offsetY }));
    } else {
      renderer.setCamera(panBy(camera, -e.deltaX, -e.deltaY));
    }
  },
  { passive: false },
);

let drag = null;
canvas.addEventListener('pointerdown', (e) => {
  if (e.button !== 1) return;
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  drag = { x: e.clientX, y: e.clientY };
});
canvas.addEventListener('pointermove', (e) => {
  if (!drag) return;
  renderer.setCamera(panBy(renderer.camera, e.clientX - drag.x, e.clientY - drag.y));
  drag = { x: e.clientX, y: e.clientY };
});
canvas.addEventListener('pointerup', () => {
  drag = null;
});

fetch(`/scenes/${n}.ybin`)
  .then((response) => {
    if (!response.ok) throw new Error(`scene ${n}: HTTP ${response.status}`);
    return response.arrayBuffer();
  })
  .then((bytes) => {
    bench.mark('fetched');
    Y.applyUpdate(doc, new Uint8Array(bytes), 'sync');
    bench.ready();
  });
