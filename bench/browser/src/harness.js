// The in-page half of the benchmark, shared by both pages: when the scene counts as drawn,
// and the frame recorder the driver starts and stops around its pan and zoom gestures.
//
// Owns `window.__bench` and nothing else; it never draws and never touches an app's state.

/** The frame recorder: requestAnimationFrame deltas, from each frame's own timestamp. */
let recording = null;

function record(time) {
  if (!recording) return;
  if (recording.last !== undefined) recording.deltas.push(time - recording.last);
  recording.last = time;
  requestAnimationFrame(record);
}

/**
 * Installs `window.__bench` for the page's app: `zoom()` reads the app's zoom, `shapes()`
 * how many elements it holds. `ready()` is called by the page once its scene is loaded;
 * the scene counts as drawn one frame later, and `ttfr` is then the time since navigation
 * start (ms).
 */
export function installHarness({ app, zoom, shapes }) {
  const bench = {
    app,
    ttfr: null,
    error: null,
    zoom,
    shapes,
    ready() {
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          bench.ttfr = performance.now();
        }),
      );
    },
    startFrames() {
      recording = { deltas: [], last: undefined };
      requestAnimationFrame(record);
    },
    stopFrames() {
      const deltas = recording ? recording.deltas : [];
      recording = null;
      return deltas;
    },
  };
  window.__bench = bench;
  window.addEventListener('error', (e) => {
    bench.error = String(e.message);
  });
  window.addEventListener('unhandledrejection', (e) => {
    bench.error = String(e.reason && e.reason.stack ? e.reason.stack : e.reason);
  });
  return bench;
}

/** The scene size the driver asked for (`?n=`). */
export function sceneSize() {
  const n = Number(new URLSearchParams(location.search).get('n'));
  if (!Number.isInteger(n) || n <= 0) throw new Error('the page needs ?n=<number of shapes>');
  return n;
}
