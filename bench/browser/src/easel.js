// The Easel page: the web client's real editor (web/src/editor, with its canvas renderer)
// full-window on the benchmark's board, fed the board's state as the sync provider feeds
// it: one update applied to the Y.Doc after the editor is up, as sync step 2 arrives.
//
// Owns only this page's wiring; it draws nothing itself and never changes the board.

import { createEditor } from '@easel/editor/index';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { installHarness, sceneSize } from './harness.js';

const n = sceneSize();
const doc = new Y.Doc();
let editor = null;
const bench = installHarness({
  app: 'easel',
  zoom: () => (editor ? editor.zoom : null),
  shapes: () => doc.getMap('elements').size,
  canvas: () => document.querySelector('canvas[aria-label="Board canvas"]'),
});

const state = fetch(`/scenes/${n}.ybin`).then((response) => {
  if (!response.ok) throw new Error(`scene ${n}: HTTP ${response.status}`);
  return response.arrayBuffer();
});

editor = createEditor({
  container: document.getElementById('board'),
  doc,
  awareness: new Awareness(doc),
  readOnly: false,
  user: { id: 'bench', name: 'Bench', colour: '#1971c2' },
  uploadImage: () => Promise.reject(new Error('the benchmark uploads no images')),
  assetUrl: (assetId) => `/assets/${assetId}`,
});

state.then((bytes) => {
  Y.applyUpdate(doc, new Uint8Array(bytes), 'sync');
  bench.ready();
});
