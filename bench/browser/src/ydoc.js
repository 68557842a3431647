// The floor page: the Easel page's board update loaded into a Y.Doc and nothing else (no
// editor, renderer or awareness), by the same code as the Easel page (board-update.js).
// Its JS heap is what any client holding the board as a Yjs document pays, so the driver
// prints it as the floor under Easel's heap.
//
// Owns only this page's wiring; it draws nothing and never changes the board.

import * as Y from 'yjs';
import { loadBoardUpdate } from './board-update.js';
import { installHarness, sceneSize } from './harness.js';

const n = sceneSize();
const doc = new Y.Doc();
const bench = installHarness({
  app: 'ydoc',
  zoom: () => null,
  shapes: () => doc.getMap('elements').size,
  canvas: null,
});

loadBoardUpdate(doc, n, bench);
