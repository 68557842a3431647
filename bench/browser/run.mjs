// The browser benchmark's driver: Easel's canvas against Excalidraw on the same scenes, in
// the same run, in Debian's headless Chromium.
//
//   node run.mjs            10,000 and 50,000 shapes, 5 s of panning and zooming each
//   node run.mjs --quick    10,000 shapes, 1 s (CI's check that the benchmark runs)
//   node run.mjs --sizes 2000,10000 --seconds 3 --apps easel,ydoc --no-build
//   node run.mjs --report results/last-full.json    (the table again, from saved figures)
//
// For each size and app: a fresh browser opens the app's page (viewport 1280×800, device
// scale factor 1); measured are the time from navigation start to the first frame with the
// scene drawn (the page says when), the JS heap after a forced GC, then requestAnimationFrame
// deltas while the mouse pans (middle-button drags) and zooms (Ctrl + wheel, between zoom 1
// and 0.2 in both apps whatever their wheel step). A third page, ydoc.html, loads the same
// board update into a Y.Doc by the Easel page's code and does nothing else: its heap, taken
// the same way, is the floor under Easel's (the document must be a Yjs CRDT). Prints a
// Markdown table with the ratios (Easel ÷ Excalidraw; lower is better, but for frames per
// second), the floor and Easel's heap above it, and writes everything to
// results/last-{quick,full}.json.
// Owns bench/browser's build output, scenes and results; never writes outside bench/browser.

import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { easelBoard, excalidrawScene, generateShapes } from './scene.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };
const ZOOM_MIN = 0.2;
const ZOOM_MAX = 1;
const FRAME_BUDGET_MS = 1000 / 60;
/** The Y.Doc-alone page: measured for its heap only (it draws nothing, so no gestures). */
const FLOOR = 'ydoc';
const APPS = ['easel', 'excalidraw', FLOOR];

function parseArgs(argv) {
  const quick = argv.includes('--quick');
  const options = {
    quick,
    sizes: quick ? [10_000] : [10_000, 50_000],
    seconds: quick ? 1 : 5,
    repeats: quick ? 1 : 3,
    apps: APPS,
    build: !argv.includes('--no-build'),
    screenshots: !argv.includes('--no-screenshots'),
  };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--sizes') options.sizes = value.split(',').map(Number);
    if (argv[i] === '--seconds') options.seconds = Number(value);
    if (argv[i] === '--apps') options.apps = value.split(',');
    if (argv[i] === '--repeats') options.repeats = Number(value);
    if (argv[i] === '--report') options.report = value;
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n <= 0))
    usage('--sizes takes positive integers');
  if (!(options.seconds > 0)) usage('--seconds takes a positive number');
  if (!Number.isInteger(options.repeats) || options.repeats <= 0)
    usage('--repeats takes a positive integer');
  if (options.apps.some((app) => !APPS.includes(app))) usage(`--apps takes ${APPS.join(',')}`);
  return options;
}

function usage(message) {
  console.error(`bench/browser/run.mjs: ${message}`);
  process.exit(2);
}

const log = (message) => console.error(`[browser-bench] ${message}`);

/** Writes each size's two scene files (same seed, so the same shapes) into scenes/. */
function writeScenes(sizes) {
  const dir = join(here, 'out', 'scenes');
  mkdirSync(dir, { recursive: true });
  const counts = {};
  for (const n of sizes) {
    const shapes = generateShapes(n, 1);
    const board = easelBoard(shapes);
    const scene = excalidrawScene(shapes);
    writeFileSync(join(dir, `${n}.ybin`), board);
    writeFileSync(join(dir, `${n}.excalidraw.json`), JSON.stringify(scene));
    counts[n] = {
      types: shapes.reduce((acc, s) => ({ ...acc, [s.type]: (acc[s.type] || 0) + 1 }), {}),
      easelBytes: board.length,
      excalidrawElements: scene.elements.length,
    };
    log(
      `scene ${n}: Easel update ${(board.length / 1e6).toFixed(1)} MB, ${scene.elements.length} Excalidraw elements`,
    );
  }
  return counts;
}

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ybin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** A static server for the built pages, the scenes and Excalidraw's fonts, on a free port. */
function serve() {
  const roots = [
    ['/scenes/', join(here, 'out', 'scenes')],
    [
      '/excalidraw-assets/',
      join(here, 'node_modules', '@excalidraw', 'excalidraw', 'dist', 'prod'),
    ],
    ['/', join(here, 'dist')],
  ];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const [prefix, root] = roots.find(([p]) => path.startsWith(p));
    const file = normalize(join(root, path.slice(prefix.length)));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
      'Cache-Control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Pans and zooms for `seconds`: a third middle-button drags at zoom 1, a third Ctrl + wheel
 * between ZOOM_MAX and ZOOM_MIN (the app's own zoom decides when to turn), a third dragging
 * at the zoom reached (zoomed out, most shapes in view). Each drag pulls the board up and
 * to the left, deeper into the scene (which starts at the top-left corner). One input event
 * per ~16 ms, as a mouse reports at 60 Hz.
 */
async function gesture(page, seconds) {
  const { mouse, keyboard } = page;
  const centre = { x: VIEWPORT.width / 2, y: VIEWPORT.height / 2 };
  const phase = (seconds * 1000) / 3;
  const paced = async (until, step) => {
    for (let i = 0; Date.now() < until; i++) {
      const next = Date.now() + 16;
      if ((await step(i)) === false) return;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
    }
  };
  const STEPS = 30;
  const drag = async (until) => {
    while (Date.now() < until) {
      await mouse.move(1100, 700);
      await mouse.down({ button: 'middle' });
      await paced(until, async (i) => {
        const t = (i + 1) / STEPS;
        await mouse.move(1100 - 920 * t, 700 - 600 * t + Math.sin(t * Math.PI * 2) * 80);
        return i + 1 < STEPS;
      });
      await mouse.up({ button: 'middle' });
    }
  };
  const zoom = () => page.evaluate(() => window.__bench.zoom());
  const label = (name) => page.evaluate((n) => window.__bench.phase(n), name);
  const start = Date.now();
  await drag(start + phase);
  await label('zoom');
  await mouse.move(centre.x, centre.y);
  await keyboard.down('Control');
  let direction = 1;
  const zooms = [];
  await paced(start + 2 * phase, async () => {
    await mouse.wheel(0, direction * 50);
    const z = await zoom();
    zooms.push(z);
    if (z <= ZOOM_MIN) direction = -1;
    else if (z >= ZOOM_MAX) direction = 1;
  });
  for (let i = 0; i < 200 && (await zoom()) > ZOOM_MIN; i++) await mouse.wheel(0, 50);
  await keyboard.up('Control');
  zooms.push(await zoom());
  await label('pan zoomed out');
  await drag(start + 3 * phase);
  return { zoomLow: Math.min(...zooms), zoomHigh: Math.max(...zooms) };
}

/** Opens one app on one scene in a fresh browser and measures it. */
async function measure(origin, app, n, options) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-precise-memory-info',
    ],
  });
  try {
    const context = await browser.newContext({
      viewport: VIEWPORT,
      deviceScaleFactor: 1,
      colorScheme: 'light',
    });
    await context.route(
      (url) => !url.href.startsWith(origin),
      (route) => route.abort(),
    );
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('console', (msg) => msg.type() === 'error' && consoleErrors.push(msg.text()));
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metric = async (name) => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === name).value;
    };
    await page.goto(`${origin}/${app}.html?n=${n}`);
    await page.waitForFunction(
      (floor) =>
        window.__bench &&
        (window.__bench.error ||
          (floor ? window.__bench.marks.loaded !== undefined : window.__bench.ttfr !== null)),
      app === FLOOR,
      {
        timeout: 120_000,
        polling: 50,
      },
    );
    const loaded = await page.evaluate(() => ({
      ttfr: window.__bench.ttfr,
      inked: window.__bench.inked,
      marks: window.__bench.marks,
      error: window.__bench.error,
      shapes: window.__bench.shapes(),
      zoom: window.__bench.zoom(),
    }));
    if (loaded.error) throw new Error(`${app} page failed: ${loaded.error}`);
    const loadBusy = await metric('TaskDuration');
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = await metric('JSHeapUsedSize');
    if (app === FLOOR) {
      return {
        shapes: loaded.shapes,
        fetchedMs: loaded.marks.fetched,
        loadedMs: loaded.marks.loaded,
        heapMB: heap / 2 ** 20,
        loadBusyMs: loadBusy * 1000,
        consoleErrors: consoleErrors.slice(0, 5),
      };
    }
    if (options.screenshots)
      await page.screenshot({ path: join(here, 'out', `${app}-${n}-loaded.png`) });

    await page.evaluate(() => window.__bench.startFrames('pan at zoom 1'));
    const busyBefore = await metric('TaskDuration');
    const started = Date.now();
    const zooms = await gesture(page, options.seconds);
    const busy = (await metric('TaskDuration')) - busyBefore;
    const elapsed = (Date.now() - started) / 1000;
    const { deltas, phases } = await page.evaluate(() => window.__bench.stopFrames());
    if (options.screenshots)
      await page.screenshot({ path: join(here, 'out', `${app}-${n}-after.png`) });
    return {
      shapes: loaded.shapes,
      ttfrMs: loaded.ttfr,
      fetchedMs: loaded.marks.fetched,
      loadedMs: loaded.marks.loaded,
      inkedAtFirstRender: loaded.inked,
      heapMB: heap / 2 ** 20,
      loadBusyMs: loadBusy * 1000,
      gestureBusyPct: (100 * busy) / elapsed,
      deltas,
      phases,
      ...zooms,
      consoleErrors: consoleErrors.slice(0, 5),
    };
  } finally {
    await browser.close();
  }
}

const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** Frame time p95 and max, and the frames over 1.5 intervals, per gesture phase, pooled. */
function byPhase(runs) {
  const phases = {};
  for (const run of runs) {
    run.deltas.forEach((d, i) => (phases[run.phases[i]] ??= []).push(d));
  }
  return Object.fromEntries(
    Object.entries(phases).map(([name, list]) => {
      const sorted = list.sort((a, b) => a - b);
      return [
        name,
        {
          frames: sorted.length,
          p95: percentile(sorted, 95),
          max: sorted[sorted.length - 1],
          dropped: sorted.filter((d) => d > FRAME_BUDGET_MS * 1.5).length,
        },
      ];
    }),
  );
}

/** One app on one size over its repeats: medians of the load figures, frames pooled. */
function summarise(app, n, runs) {
  if (app === FLOOR) {
    return {
      app,
      n,
      repeats: runs.length,
      shapes: runs[0].shapes,
      fetchedMs: median(runs.map((r) => r.fetchedMs)),
      loadedMs: median(runs.map((r) => r.loadedMs)),
      heapMB: median(runs.map((r) => r.heapMB)),
      loadBusyMs: median(runs.map((r) => r.loadBusyMs)),
      runs,
    };
  }
  const deltas = runs.flatMap((r) => r.deltas).sort((a, b) => a - b);
  return {
    app,
    n,
    repeats: runs.length,
    shapes: runs[0].shapes,
    ttfrMs: median(runs.map((r) => r.ttfrMs)),
    fetchedMs: median(runs.map((r) => r.fetchedMs)),
    loadedMs: median(runs.map((r) => r.loadedMs)),
    heapMB: median(runs.map((r) => r.heapMB)),
    loadBusyMs: median(runs.map((r) => r.loadBusyMs)),
    gestureBusyPct: median(runs.map((r) => r.gestureBusyPct)),
    frames: deltas.length,
    fps: (1000 * deltas.length) / deltas.reduce((sum, d) => sum + d, 0),
    p50: percentile(deltas, 50),
    p95: percentile(deltas, 95),
    max: deltas.length ? deltas[deltas.length - 1] : null,
    dropped: deltas.filter((d) => d > FRAME_BUDGET_MS * 1.5).length,
    byPhase: byPhase(runs),
    zoomLow: Math.min(...runs.map((r) => r.zoomLow)),
    zoomHigh: Math.max(...runs.map((r) => r.zoomHigh)),
    runs,
  };
}

/**
 * Puts each size's floor on Easel's summary: `heapYDocMB`, the Y.Doc alone's heap (median),
 * and `heapAboveYDocMB`, Easel's median heap less it (the editor, renderer, model, R-tree
 * and code), when both were measured.
 */
function withFloor(results) {
  for (const easel of results.filter((r) => r.app === 'easel')) {
    const floor = results.find((r) => r.app === FLOOR && r.n === easel.n);
    if (!floor) continue;
    easel.heapYDocMB = floor.heapMB;
    easel.heapAboveYDocMB = easel.heapMB - floor.heapMB;
  }
  return results;
}

const fmt = (value, digits = 1) =>
  value === null || value === undefined ? '–' : value.toFixed(digits);
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '–');

function table(results, options) {
  const rows = [];
  rows.push('|  | Easel | Excalidraw | Easel ÷ Excalidraw |');
  rows.push('|---|---:|---:|---:|');
  for (const n of options.sizes) {
    const easel = results.find((r) => r.app === 'easel' && r.n === n) || {};
    const excalidraw = results.find((r) => r.app === 'excalidraw' && r.n === n) || {};
    rows.push(`| **${n.toLocaleString('en')} shapes** | | | |`);
    const line = (label, key, digits) =>
      rows.push(
        `| ${label} | ${fmt(easel[key], digits)} | ${fmt(excalidraw[key], digits)} | ${ratio(easel[key], excalidraw[key])} |`,
      );
    line('time to first render (ms)', 'ttfrMs', 0);
    line(`frame time p50 (ms, ${options.seconds} s pan + zoom)`, 'p50', 1);
    line('frame time p95 (ms)', 'p95', 1);
    line('frame time max (ms)', 'max', 1);
    line('frames per second while panning and zooming (display: 60)', 'fps', 1);
    for (const phase of Object.keys(easel.byPhase ?? excalidraw.byPhase ?? {})) {
      const e = easel.byPhase?.[phase];
      const x = excalidraw.byPhase?.[phase];
      rows.push(
        `| – ${phase}: p95 / frames dropped (ms / of) | ${e ? `${fmt(e.p95)} / ${e.dropped} of ${e.frames}` : '–'} | ${x ? `${fmt(x.p95)} / ${x.dropped} of ${x.frames}` : '–'} | ${ratio(e?.p95, x?.p95)} |`,
      );
    }
    line('main thread busy until first render (ms)', 'loadBusyMs', 0);
    line('main thread busy while panning and zooming (% of the time)', 'gestureBusyPct', 0);
    line('JS heap after load + GC (MB)', 'heapMB', 1);
    rows.push(`| JS heap, the Y.Doc alone (floor) (MB) | ${fmt(easel.heapYDocMB)} | – | – |`);
    rows.push(
      `| Easel's heap above the Y.Doc (MB; Excalidraw: its whole heap) | ${fmt(easel.heapAboveYDocMB)} | ${fmt(excalidraw.heapMB)} | – |`,
    );
    rows.push(
      `| frames (dropped > 25 ms) | ${easel.frames ?? '–'} (${easel.dropped ?? '–'}) | ${excalidraw.frames ?? '–'} (${excalidraw.dropped ?? '–'}) | – |`,
    );
    rows.push(
      `| zoom range reached | ${fmt(easel.zoomLow, 2)}–${fmt(easel.zoomHigh, 2)} | ${fmt(excalidraw.zoomLow, 2)}–${fmt(excalidraw.zoomHigh, 2)} | – |`,
    );
  }
  return rows.join('\n');
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.report) {
    const saved = JSON.parse(readFileSync(options.report, 'utf8'));
    const results = saved.options.sizes.flatMap((n) =>
      saved.options.apps.flatMap((app) => {
        const summary = saved.results.find((r) => r.app === app && r.n === n);
        return summary ? [summarise(app, n, summary.runs)] : [];
      }),
    );
    withFloor(results);
    console.log(table(results, saved.options));
    return;
  }
  const loadAtStart = loadavg();
  log(
    `load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} (2 cores shared: figures move with it)`,
  );
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_BIN`,
    );
  }
  if (options.build) {
    log('building the pages (vite build)');
    execFileSync(join(here, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'error'], {
      cwd: here,
      stdio: 'inherit',
    });
  }
  const scenes = writeScenes(options.sizes);
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const results = [];
  let failed = false;
  try {
    for (const n of options.sizes) {
      const runs = Object.fromEntries(options.apps.map((app) => [app, []]));
      for (let repeat = 1; repeat <= options.repeats; repeat++) {
        for (const app of options.apps) {
          log(`${app}, ${n} shapes (${repeat} of ${options.repeats})`);
          try {
            const run = await measure(origin, app, n, options);
            if (app === FLOOR) {
              log(`  loaded ${fmt(run.loadedMs, 0)} ms, heap ${fmt(run.heapMB)} MB`);
              runs[app].push(run);
              continue;
            }
            const sorted = [...run.deltas].sort((a, b) => a - b);
            log(
              `  first render ${fmt(run.ttfrMs, 0)} ms, heap ${fmt(run.heapMB)} MB, frames p50/p95/max ${fmt(percentile(sorted, 50))}/${fmt(percentile(sorted, 95))}/${fmt(sorted[sorted.length - 1])} ms`,
            );
            runs[app].push(run);
          } catch (err) {
            failed = true;
            log(`  FAILED: ${err.message}`);
          }
        }
      }
      for (const app of options.apps) {
        if (runs[app].length > 0) results.push(summarise(app, n, runs[app]));
      }
    }
  } finally {
    server.close();
  }
  withFloor(results);
  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `last-${options.quick ? 'quick' : 'full'}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        loadAverageAtStart: loadAtStart,
        chromium: CHROMIUM,
        viewport: VIEWPORT,
        options,
        scenes,
        results,
      },
      null,
      2,
    ),
  );
  console.log(table(results, options));
  log(`results written to ${file}`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`bench/browser/run.mjs: ${err.stack || err}`);
  process.exit(1);
});
