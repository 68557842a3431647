// The in-page half of the benchmark, shared by both pages: when the scene counts as drawn,
// and the frame recorder the driver starts and stops around its pan and zoom gestures.
//
// Owns `window.__bench` and nothing else; it never draws and never touches an app's state.

/**
 * The frame recorder: requestAnimationFrame deltas, from each frame's own timestamp, each
 * with the gesture phase the driver said was under way.
 */
let recording = null;

function record(time) {
  if (!recording) return;
  if (recording.last !== undefined) {
    recording.deltas.push(time - recording.last);
    recording.phases.push(recording.phase);
  }
  recording.last = time;
  requestAnimationFrame(record);
}

/** The canvas the drawing is sampled into: 160 × 100 pixels, each averaging a block. */
const probe = document.createElement('canvas');
probe.width = 160;
probe.height = 100;
const probeCtx = probe.getContext('2d', { willReadFrequently: true });

/**
 * The share of `canvas` that holds ink: the canvas scaled down into the probe (so each
 * probe pixel averages a block and a thin stroke still tints it), then the pixels that are
 * neither transparent nor white counted. Zero means nothing is drawn yet.
 */
function inked(canvas) {
  if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
  probeCtx.clearRect(0, 0, probe.width, probe.height);
  probeCtx.drawImage(canvas, 0, 0, probe.width, probe.height);
  const data = probeCtx.getImageData(0, 0, probe.width, probe.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && Math.min(data[i], data[i + 1], data[i + 2]) < 245) ink++;
  }
  return ink / (data.length / 4);
}

/** How long a page may take from its scene loaded to its scene drawn before it counts as failed. */
const DRAW_TIMEOUT_MS = 60_000;

/**
 * Installs `window.__bench` for the page's app: `zoom()` reads the app's zoom, `shapes()`
 * how many elements it holds, `canvas()` the canvas its scene is drawn on. `ready()` is
 * called by the page once its scene is loaded (marked `loaded`; `mark(name)` notes other
 * steps' times). From then on every animation frame samples the canvas, and the first
 * one that finds ink sets `ttfr`, the time since navigation start (ms), and `inked`, the
 * share of the canvas holding ink: an app that draws its scene over several frames, or
 * only after a delay, is timed until the scene is on screen. A page that draws nothing
 * (the Y.Doc alone) passes `canvas: null` and is done once loaded.
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
      if (!canvas) return;
      const check = () => {
        const share = inked(canvas());
        if (share > 0) {
          bench.ttfr = performance.now();
          bench.inked = share;
        } else if (performance.now() - bench.marks.loaded > DRAW_TIMEOUT_MS) {
          bench.error = `the scene was loaded but not drawn within ${DRAW_TIMEOUT_MS / 1000} s`;
        } else {
          requestAnimationFrame(check);
        }
      };
      requestAnimationFrame(check);
    },
    startFrames(phase) {
      recording = { deltas: [], phases: [], phase, last: undefined };
      requestAnimationFrame(record);
    },
    /** Labels the frames from now on (the driver's gesture phases). */
    phase(name) {
      if (recording) recording.phase = name;
    },
    stopFrames() {
      const frames = recording ? { deltas: recording.deltas, phases: recording.phases } : null;
      recording = null;
      return frames ?? { deltas: [], phases: [] };
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
