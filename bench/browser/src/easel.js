// The Easel page: the web client's real board editor (web/src/editor: its canvas renderer
// from web/src/canvas with the R-tree culling and cached layers, its pointer, wheel and
// presence handling) full-window on the benchmark's board. The board's state is fed as the
// sync provider feeds it: one update applied to the Y.Doc once the editor is up, as sync
// step 2 arrives in the app (board-update.js, shared with the Y.Doc-alone page).
//
// Owns only this page's wiring; it draws nothing itself and never changes the board.

import { createEditor } from '@easel/editor/index';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { loadBoardUpdate } from './board-update.js';
import { installHarness, sceneSize } from './harness.js';

const n = sceneSize();
const doc = new Y.Doc();
const container = document.getElementById('board');
const editor = createEditor({
  container,
  doc,
  awareness: new Awareness(doc),
  readOnly: false,
  user: { id: 'bench', name: 'Bench', colour: '#1971c2' },
  uploadImage: () => Promise.reject(new Error('the benchmark uploads no images')),
  assetUrl: (assetId) => `/assets/${assetId}`,
});

const bench = installHarness({
  app: 'easel',
  zoom: () => editor.zoom,
  shapes: () => doc.getMap('elements').size,
  canvas: () => container.querySelector('canvas[aria-label="Board canvas"]'),
});

loadBoardUpdate(doc, n, bench);
