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
 * The share of sampled pixels of `canvas` that are not the background (the first pixel):
 * zero means nothing was drawn. Reads the canvas back, so only after the timing is taken.
 */
function inked(canvas) {
  if (!canvas || canvas.width === 0) return 0;
  const ctx = canvas.getContext('2d');
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  let samples = 0;
  for (let i = 0; i < data.length; i += 4 * 7) {
    samples++;
    if (
      data[i] !== data[0] ||
      data[i + 1] !== data[1] ||
      data[i + 2] !== data[2] ||
      data[i + 3] !== data[3]
    ) {
      ink++;
    }
  }
  return ink / samples;
}

/**
 * Installs `window.__bench` for the page's app: `zoom()` reads the app's zoom, `shapes()`
 * how many elements it holds, `canvas()` the canvas its scene is drawn on. `ready()` is
 * called by the page once its scene is loaded (marked `loaded`; `mark(name)` notes other
 * steps' times); the scene counts as drawn one frame later,
 * and `ttfr` is then the time since navigation start (ms), and `inked` the share of the
 * canvas drawn on at that moment (so a page that signals before drawing is caught).
 */
export function installHarness({ app, zoom, shapes, canvas }) {
  const bench = {
    app,
    ttfr: null,
    inked: null,
    marks: {},
    mark(name) {
      bench.marks[name] = performance.now();
    },
    error: null,
    zoom,
    shapes,
    ready() {
      bench.mark('loaded');
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          bench.ttfr = performance.now();
          bench.inked = inked(canvas());
        }),
      );
    },
    startFrames() {
      recording = { deltas: [], last: undefined };
      requestAnimationFrame(record);
    },
    work: null,
    /** Records what the app reports as each frame's own drawing time (Easel's renderer). */
    frameWork(ms) {
      if (bench.work) bench.work.push(ms);
    },
    startWork() {
      bench.work = [];
    },
    stopWork() {
      const work = bench.work || [];
      bench.work = null;
      return work;
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
