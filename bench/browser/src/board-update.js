// How a benchmark page gets the Easel board: the scene's update fetched from the driver's
// static server and applied to the page's Y.Doc in one `Y.applyUpdate`, as sync step 2
// arrives in the app. Shared by the Easel page and the Y.Doc-alone page, so both load the
// board by the same code path.
//
// Owns only the fetch and the one update; it never reads or changes the board otherwise.

import * as Y from 'yjs';

/**
 * Fetches `/scenes/{n}.ybin`, marks `fetched`, applies it to `doc` with the origin `sync`,
 * then tells the harness the scene is loaded (`bench.ready()`).
 */
export async function loadBoardUpdate(doc, n, bench) {
  const response = await fetch(`/scenes/${n}.ybin`);
  if (!response.ok) throw new Error(`scene ${n}: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  bench.mark('fetched');
  Y.applyUpdate(doc, new Uint8Array(bytes), 'sync');
  bench.ready();
}
