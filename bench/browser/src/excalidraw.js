// The Excalidraw page: `<Excalidraw initialData=...>` full-window on the benchmark's scene
// in Excalidraw's own format, fetched as a user's browser would fetch a saved scene.
//
// Owns only this page's wiring; the scene comes from scene.mjs through the driver.

import { Excalidraw } from '@excalidraw/excalidraw';
import '@excalidraw/excalidraw/index.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { installHarness, sceneSize } from './harness.js';

const n = sceneSize();
let api = null;
let expected = Infinity;
const bench = installHarness({
  app: 'excalidraw',
  zoom: () => (api ? api.getAppState().zoom.value : null),
  shapes: () => (api ? api.getSceneElements().length : 0),
  canvas: () => document.querySelector('canvas.excalidraw__canvas.static'),
});

const initialData = fetch(`/scenes/${n}.excalidraw.json`)
  .then((response) => {
    if (!response.ok) throw new Error(`scene ${n}: HTTP ${response.status}`);
    return response.json();
  })
  .then((scene) => {
    bench.mark('fetched');
    expected = scene.elements.length;
    return { elements: scene.elements, appState: scene.appState, files: scene.files };
  });

function waitForScene() {
  if (api && api.getSceneElements().length >= expected) {
    bench.ready();
    return;
  }
  requestAnimationFrame(waitForScene);
}
requestAnimationFrame(waitForScene);

createRoot(document.getElementById('root')).render(
  createElement(Excalidraw, {
    initialData,
    excalidrawAPI: (instance) => {
      api = instance;
    },
  }),
);
