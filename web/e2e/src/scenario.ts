/**
 * The board scenario of issue 14, run once per storage backend: three people (an owner A,
 * an editor B, a viewer C) on one board, each in their own browser context, against the
 * real server. Every step is a `node:test` test, screenshotted to
 * `artifacts/<backend>-<step>.png`; a failing step also saves every page and prints the
 * server's and the pages' log tails.
 *
 * Owns the scenario and its assertions; it must not start servers or browsers itself
 * (server.ts and browser.ts do) and never edits the document except through the UI.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import type { Browser } from 'playwright-core';
import { Api, type Account } from './api.ts';
import {
  Person,
  launchBrowser,
  regionOf,
  until,
  waitCursorNear,
  type Geom,
  type Point,
} from './browser.ts';
import { artifactsDir } from './paths.ts';
import { readmeScreenshot } from './readme-shot.ts';
import { expiredToken } from './tokens.ts';
import { changedPixels, decodePng, grow, pixelsNear } from './pixels.ts';
import { startServer, type Backend, type EaselServer } from './server.ts';

/** Fewest changed pixels that count as "something was drawn here". */
const DRAWN_PIXELS = 100;
/** Margin around an element's box where its stroke may spill. */
const STROKE_MARGIN = 6;
/** A step's time limit. */
const STEP_MS = 90_000;

/** Where things are drawn, in board coordinates (clear of the toolbar and panels). */
const AT = {
  rect: [
    { x: 320, y: 180 },
    { x: 520, y: 300 },
  ],
  pen: [
    { x: 600, y: 200 },
    { x: 640, y: 170 },
    { x: 690, y: 230 },
    { x: 740, y: 180 },
    { x: 790, y: 240 },
    { x: 830, y: 200 },
  ],
  sticky: { x: 900, y: 200 },
  /** B grabs the rectangle on its left edge, clear of the resize handles, and drags it down. */
  moveGrab: { x: 320, y: 210 },
  moveBy: { x: 0, y: 260 },
  viewerRect: [
    { x: 620, y: 560 },
    { x: 760, y: 660 },
  ],
  viewerPen: [
    { x: 640, y: 600 },
    { x: 700, y: 640 },
    { x: 760, y: 600 },
  ],
  offlinePen: [
    { x: 600, y: 420 },
    { x: 650, y: 470 },
    { x: 700, y: 420 },
    { x: 750, y: 470 },
    { x: 800, y: 420 },
  ],
  ellipse: [
    { x: 900, y: 450 },
    { x: 1040, y: 550 },
  ],
  rect2: [
    { x: 320, y: 600 },
    { x: 480, y: 690 },
  ],
  liveStroke: [
    { x: 1060, y: 120 },
    { x: 1100, y: 180 },
    { x: 1140, y: 130 },
    { x: 1180, y: 200 },
    { x: 1220, y: 150 },
  ],
  /** From inside the sticky note to inside the rectangle, near its right edge. */
  arrow: [
    { x: 830, y: 280 },
    { x: 660, y: 290 },
    { x: 505, y: 250 },
  ],
  pasteAt: { x: 1000, y: 640 },
  /** Above the style panel, which covers the lower half of a phone's screen. */
  phoneRect: [
    { x: 60, y: 110 },
    { x: 140, y: 190 },
    { x: 240, y: 270 },
  ],
} satisfies Record<string, Point | Point[]>;

const STICKY_TEXT = 'Hello from Ada';
/** The pasted image: an orange field with a blue square, 80 x 60. */
const IMAGE = { w: 80, h: 60, orange: [228, 87, 46] as [number, number, number] };

/** A phone: 360 px wide, touch only, dark mode. */
const PHONE = {
  viewport: { width: 360, height: 740 },
  hasTouch: true,
  isMobile: true,
  colorScheme: 'dark',
} as const;

/** The tool shortcuts and the accessible name of each tool's button. */
const TOOL_SHORTCUTS: [string, string][] = [
  ['h', 'Hand'],
  ['p', 'Pen'],
  ['r', 'Rectangle'],
  ['o', 'Ellipse'],
  ['l', 'Line'],
  ['a', 'Arrow'],
  ['t', 'Text'],
  ['n', 'Sticky note'],
  ['e', 'Eraser'],
  ['k', 'Laser'],
  ['v', 'Select'],
];

/** Tool buttons a viewer must not see. */
const DRAWING_TOOLS = [
  'Pen',
  'Rectangle',
  'Ellipse',
  'Line',
  'Arrow',
  'Text',
  'Sticky note',
  'Eraser',
  'Image',
];

/** Runs the whole scenario on one backend. */
export function boardScenario(backend: Backend): void {
  describe(`the board in the browser (${backend})`, { timeout: 15 * 60_000 }, () => {
    let server: EaselServer;
    let browser: Browser;
    let api: Api;
    let accounts: { a: Account; b: Account; c: Account };
    let board: string;
    let A: Person;
    let B: Person;
    let C: Person;
    const people = () => [A, B, C].filter((p): p is Person => p !== undefined);
    /** What was drawn through the UI and should be on the board: element id → type. */
    const drawn = new Map<string, string>();
    const ids: Record<string, string> = {};
    let movedRect: Geom;

    /** The essential step that failed, if one did: the later steps cannot run without it. */
    let blockedBy: string | null = null;

    /**
     * One step: a test that, when it fails, saves every page and prints the logs. When an
     * `essential` step fails (the people could not even open the board), the later steps
     * are reported as skipped because of it instead of each timing out.
     */
    const step = (name: string, run: () => Promise<void>, essential = false): void => {
      test(name, { timeout: STEP_MS }, async (t) => {
        if (blockedBy) {
          t.skip(`cannot run: step "${blockedBy}" failed`);
          return;
        }
        try {
          await run();
        } catch (e) {
          if (essential) blockedBy = name;
          const number = name.split(' ')[0] ?? name;
          for (const p of people()) {
            await p.shot(`${backend}-FAILED-${number}-${p.name}`).catch(() => undefined);
            console.error(`--- ${p.name}'s console:\n${p.consoleTail()}`);
          }
          console.error(`--- server log (${backend}):\n${server.logTail()}`);
          throw e;
        }
      });
    };

    before(async () => {
      server = await startServer(backend);
      api = new Api(server.url);
      browser = await launchBrowser();
      const [a, b, c] = await Promise.all([api.signUp('Ada'), api.signUp('Ben'), api.signUp('Cy')]);
      accounts = { a, b, c };
      board = await api.createBoard(a.token, `e2e on ${backend}`);
      await api.setMember(a.token, board, b.id, 'editor');
      await api.setMember(a.token, board, c.id, 'viewer');
    });

    after(async () => {
      for (const p of people()) await p.close().catch(() => undefined);
      await browser?.close();
      await server?.stop();
    });

    step(
      '01 A is sent to sign in, signs in through /signin and comes back to the board',
      async () => {
        A = await Person.create(browser, server.url, accounts.a, false);
        await A.page.goto(`/boards/${board}`);
        await A.page.waitForURL((url) => url.pathname === '/signin');
        const next = new URL(A.page.url()).searchParams.get('next');
        assert.equal(next, `/boards/${board}`, 'the sign-in page is told where to come back to');
        await A.shot(`${backend}-01-signin`);
        await A.signInThroughForm();
        await A.page.waitForURL((url) => url.pathname === `/boards/${board}`);
        await A.waitSynced();
        await A.shot(`${backend}-01-a-opened-board`);
      },
      true,
    );

    step(
      '02 B and viewer C open the board',
      async () => {
        B = await Person.create(browser, server.url, accounts.b, true);
        C = await Person.create(browser, server.url, accounts.c, true);
        await Promise.all([B.openBoard(board), C.openBoard(board)]);
        assert.deepEqual((await B.doc()).elements, {}, 'a new board is empty');
        await B.shot(`${backend}-02-b-opened-board`);
        await C.shot(`${backend}-02-c-opened-board`);
      },
      true,
    );

    step(
      '03 every tool has a button named after it, reached with Tab and pressed by its shortcut',
      async () => {
        for (const [key, name] of TOOL_SHORTCUTS) {
          await A.press(key);
          const pressed = A.page.getByRole('button', { name, exact: true, pressed: true });
          await pressed.waitFor();
          assert.equal(await pressed.count(), 1, `"${key}" presses the "${name}" tool button`);
        }
        await A.page.getByRole('button', { name: 'Image', exact: true }).waitFor();

        // Every tool is reachable with Tab alone.
        const tools = [...TOOL_SHORTCUTS.map(([, name]) => name), 'Image'];
        for (const name of tools) {
          await A.page
            .getByRole('button', { name, exact: true })
            .evaluate((el, tool) => el.setAttribute('data-e2e-tool', tool), name);
        }
        await A.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        const reached = new Set<string>();
        for (let i = 0; i < 120 && reached.size < tools.length; i++) {
          await A.press('Tab');
          const tool = await A.page.evaluate(
            () => document.activeElement?.getAttribute('data-e2e-tool') ?? null,
          );
          if (tool) reached.add(tool);
        }
        assert.deepEqual(
          tools.filter((name) => !reached.has(name)),
          [],
          'every tool button takes the keyboard focus with Tab',
        );
        await A.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        await A.press('?');
        const overlay = A.page.getByRole('dialog');
        await overlay.waitFor();
        await A.shot(`${backend}-03-shortcuts`);
        await A.press('Escape');
        await overlay.waitFor({ state: 'hidden' });
        await A.press('v');
      },
    );

    step('04 A draws a rectangle, a pen stroke and a sticky note with text', async () => {
      const bBefore = await B.canvasPng();

      ids['rect'] = await addedBy(A, 'rect', async () => {
        await A.press('r');
        await A.drag(AT.rect);
      });
      ids['pen'] = await addedBy(A, 'pen', async () => {
        await A.press('p');
        await A.drag(AT.pen);
      });
      ids['sticky'] = await addedBy(A, 'sticky', async () => {
        await A.press('n');
        await A.click(AT.sticky);
        const editor = A.page.getByLabel('Text editor');
        await editor.waitFor();
        assert.ok(
          await editor.evaluate((el) => el === document.activeElement),
          'the text editor is focused',
        );
        await A.page.keyboard.type(STICKY_TEXT);
        await A.press('Escape');
      });
      await A.waitForDoc('the sticky note holds its text', (doc) =>
        doc.elements[ids['sticky']!]?.['text'] === STICKY_TEXT ? true : undefined,
      );

      const doc = await A.doc();
      const rect = doc.elements[ids['rect']]!;
      assertGeomNear(rect.geom, { x: 320, y: 180, w: 200, h: 120 }, 'the rectangle spans the drag');
      const points = doc.elements[ids['pen']]!['points'];
      assert.ok(
        Array.isArray(points) && points.length >= 2 * AT.pen.length,
        `the pen keeps the stroke's points (got ${JSON.stringify(points)})`,
      );
      for (const key of ['rect', 'pen', 'sticky'])
        drawn.set(ids[key]!, doc.elements[ids[key]!]!.type!);
      await A.shot(`${backend}-04-a-drew`);

      // B: the same three elements, and pixels where each one is.
      const bDoc = await B.waitForDoc('the three elements arrive', (d) =>
        [...drawn.keys()].every((id) => d.elements[id]) ? d : undefined,
      );
      await expectDrawn(
        B,
        bBefore,
        [...drawn.keys()].map((id) => bDoc.elements[id]!),
      );
      await B.shot(`${backend}-04-b-sees-a`);
    });

    step(
      '05 A draws an arrow from the sticky note onto the rectangle; it binds to both',
      async () => {
        const arrow = await addedBy(A, 'arrow', async () => {
          await A.press('a');
          await A.drag(AT.arrow);
        });
        const bindings = await A.waitForDoc('the arrow binds at both ends', (doc) => {
          const ends = Object.values(doc.bindings).filter(
            (b): b is Binding => isBinding(b) && b.from === arrow,
          );
          return ends.length === 2 ? ends : undefined;
        });
        assert.deepEqual(
          bindings
            .map(({ to, anchor }) => ({ to, anchor }))
            .sort((x, y) => (x.anchor < y.anchor ? -1 : 1)),
          [
            { to: ids['rect'], anchor: 'end' },
            { to: ids['sticky'], anchor: 'start' },
          ],
          'the arrow starts at the sticky note and ends at the rectangle',
        );
        ids['arrow'] = arrow;
        drawn.set(arrow, 'arrow');
        await B.waitForDoc('the arrow and its bindings arrive', (doc) =>
          doc.elements[arrow] &&
          Object.values(doc.bindings).filter((b) => isBinding(b) && b.from === arrow).length === 2
            ? true
            : undefined,
        );
        await A.press('Escape');
        await B.shot(`${backend}-05-b-sees-arrow`);
      },
    );

    step("06 B sees A's cursor with A's name", async () => {
      const spot = { x: 700, y: 560 };
      await A.hover(spot);
      await waitCursorNear(B, A.name, spot);
      await B.shot(`${backend}-06-b-sees-a-cursor`);
    });

    step('07 B moves the rectangle and A sees it move', async () => {
      const rectId = ids['rect']!;
      const startDoc = await A.doc();
      const original = startDoc.elements[rectId]!.geom!;
      const arrowBefore = startDoc.elements[ids['arrow']!]!.geom!;
      const aBefore = await A.canvasPng();
      await B.press('v');
      await B.drag([
        AT.moveGrab,
        { x: AT.moveGrab.x + AT.moveBy.x, y: AT.moveGrab.y + AT.moveBy.y },
      ]);
      const expected = { ...original, x: original.x + AT.moveBy.x, y: original.y + AT.moveBy.y };
      movedRect = await A.waitForDoc('the rectangle moves', (doc) => {
        const geom = doc.elements[rectId]?.geom;
        return geom && geomNear(geom, expected) ? geom : undefined;
      });
      const arrowEnd = (geom: Geom) => ({ x: geom.x + geom.w, y: geom.y + geom.h });
      const endBefore = arrowEnd(arrowBefore);
      await A.waitForDoc('the bound arrow follows the rectangle', (doc) => {
        const geom = doc.elements[ids['arrow']!]?.geom;
        if (!geom) return undefined;
        const end = arrowEnd(geom);
        return Math.abs(end.y - endBefore.y - AT.moveBy.y) <= 40 &&
          Math.abs(end.x - endBefore.x) <= 40
          ? true
          : undefined;
      });
      assert.equal(movedRect.w, original.w, 'a move keeps the width');
      assert.equal(movedRect.h, original.h, 'a move keeps the height');
      await expectDrawn(A, aBefore, [{ geom: movedRect }]);
      await A.shot(`${backend}-07-a-sees-move`);
    });

    step(
      "08 a stroke in progress shows live on B's screen and reaches the document only at pen-up",
      async () => {
        const bBefore = await B.canvasPng();
        const docBefore = await B.doc();
        const [first, ...rest] = AT.liveStroke;
        await A.press('p');
        await A.hover(first!);
        await A.page.mouse.down();
        for (const p of rest) await A.hover(p, 3);
        const region = grow(
          {
            x: Math.min(...AT.liveStroke.map((p) => p.x)),
            y: Math.min(...AT.liveStroke.map((p) => p.y)),
            w:
              Math.max(...AT.liveStroke.map((p) => p.x)) -
              Math.min(...AT.liveStroke.map((p) => p.x)),
            h:
              Math.max(...AT.liveStroke.map((p) => p.y)) -
              Math.min(...AT.liveStroke.map((p) => p.y)),
          },
          STROKE_MARGIN,
        );
        await until("A's stroke in progress on B's canvas", async () =>
          changedPixels(bBefore, await B.canvasPng(), region) >= DRAWN_PIXELS ? true : undefined,
        );
        await B.shot(`${backend}-08-b-sees-stroke-in-progress`);
        await A.flushTo(B);
        assert.deepEqual(
          (await B.doc()).elements,
          docBefore.elements,
          'nothing is in the document mid-stroke',
        );
        assert.deepEqual((await A.doc()).elements, docBefore.elements, "nor in A's own copy");

        const known = new Set(Object.keys(docBefore.elements));
        await A.page.mouse.up();
        const pen = await B.waitForDoc('the stroke arrives at pen-up', (doc) => {
          const added = Object.keys(doc.elements).filter((id) => !known.has(id));
          return added.length > 0 ? added : undefined;
        });
        assert.equal(pen.length, 1, 'a stroke is one element');
        assert.equal((await B.doc()).elements[pen[0]!]!.type, 'pen');
        drawn.set(pen[0]!, 'pen');
        await A.press('Escape');
      },
    );

    step('09 viewer C has no drawing tools and cannot change the board', async () => {
      for (const tool of DRAWING_TOOLS) {
        assert.equal(
          await C.page.getByRole('button', { name: tool, exact: true }).count(),
          0,
          `a viewer sees no "${tool}" tool`,
        );
      }
      const docBefore = await C.doc();
      const exportBefore = await api.exportJson(accounts.a.token, board);

      await C.press('r');
      await C.drag(AT.viewerRect);
      await C.press('p');
      await C.drag(AT.viewerPen);
      await C.press('n');
      await C.click(AT.viewerRect[0]!);
      await C.page.keyboard.type('viewer text');
      await C.press('Escape');
      await C.press('Control+a');
      await C.press('Delete');
      await C.press('Control+z');
      await C.press('Escape');
      await C.flushTo(A);

      assert.deepEqual(
        (await C.doc()).elements,
        docBefore.elements,
        "the viewer's copy is unchanged",
      );
      assert.deepEqual(
        (await A.doc()).elements,
        docBefore.elements,
        "the owner's copy is unchanged",
      );
      assert.deepEqual(
        await api.exportJson(accounts.a.token, board),
        exportBefore,
        "the server's export is unchanged",
      );
      await C.waitConnection('connected');
      await C.shot(`${backend}-09-viewer`);
    });

    step('10 a reload keeps everything', async () => {
      const before = await A.doc();
      await A.page.reload();
      await A.waitSynced();
      assert.deepEqual(
        (await A.doc()).elements,
        before.elements,
        'the board is the same after a reload',
      );
      const exported = await api.exportJson(accounts.a.token, board);
      assert.deepEqual(Object.keys(exported.elements).sort(), [...drawn.keys()].sort());
      await A.shot(`${backend}-10-reloaded`);
    });

    step(
      '11 A draws offline, reloads offline, comes back, and B sees the offline stroke',
      async () => {
        await A.page.evaluate(async () => {
          await navigator.serviceWorker.ready;
        });
        const aBefore = await A.canvasPng();
        const bBefore = await B.canvasPng();

        await A.context.setOffline(true);
        await A.waitConnection('offline');
        const penId = await addedBy(A, 'pen', async () => {
          await A.press('p');
          await A.drag(AT.offlinePen);
        });
        const penGeom = (await A.doc()).elements[penId]!.geom!;
        await A.shot(`${backend}-11-a-drew-offline`);

        await A.page.reload();
        await A.canvas.waitFor();
        await A.waitConnection('offline');
        await until("the offline stroke on A's canvas after an offline reload", async () => {
          const now = await A.canvasPng();
          return changedPixels(aBefore, now, grow(regionOf(penGeom), STROKE_MARGIN)) >= DRAWN_PIXELS
            ? true
            : undefined;
        });
        await A.shot(`${backend}-11-a-reloaded-offline`);

        await A.context.setOffline(false);
        await A.waitSynced();
        const bDoc = await B.waitForDoc('the offline stroke arrives', (doc) =>
          doc.elements[penId] ? doc : undefined,
        );
        assert.deepEqual(bDoc.elements[penId]!.geom, penGeom);
        await expectDrawn(B, bBefore, [{ geom: penGeom }]);
        drawn.set(penId, 'pen');
        ids['offlinePen'] = penId;
        await B.shot(`${backend}-11-b-sees-offline-stroke`);
      },
    );

    step("12 A's undo never undoes B's work", async () => {
      const rect2 = await addedBy(A, 'rect', async () => {
        await A.press('r');
        await A.drag(AT.rect2);
      });
      await B.waitForDoc("A's second rectangle arrives", (doc) =>
        doc.elements[rect2] ? true : undefined,
      );
      const ellipse = await addedBy(B, 'ellipse', async () => {
        await B.press('o');
        await B.drag(AT.ellipse);
      });
      await A.waitForDoc("B's ellipse arrives", (doc) =>
        doc.elements[ellipse] ? true : undefined,
      );

      await A.press('Control+z');
      await A.waitForDoc("A's undo removes A's rectangle", (doc) =>
        doc.elements[rect2] ? undefined : true,
      );
      await A.press('Control+z');
      await A.press('Control+z');
      const aDoc = await A.doc();
      assert.ok(aDoc.elements[ellipse], "B's ellipse survives A's undos");
      assert.deepEqual(aDoc.elements[ids['rect']!]!.geom, movedRect, "B's move survives A's undos");
      assert.ok(aDoc.elements[ids['offlinePen']!], 'the offline stroke survives');
      await B.waitForDoc("A's undo reaches B", (doc) => (doc.elements[rect2] ? undefined : true));
      await A.shot(`${backend}-12-a-undid`);

      await A.press('Control+Shift+z');
      await A.waitForDoc("A's redo (Ctrl+Shift+Z) brings the rectangle back", (doc) =>
        doc.elements[rect2] ? true : undefined,
      );
      await A.press('Control+z');
      await A.waitForDoc('A undoes it again', (doc) => (doc.elements[rect2] ? undefined : true));
      await A.press('Control+y');
      await A.waitForDoc("A's redo (Ctrl+Y) brings the rectangle back", (doc) =>
        doc.elements[rect2] ? true : undefined,
      );
      const bDoc = await B.waitForDoc("A's redo reaches B", (doc) =>
        doc.elements[rect2] ? doc : undefined,
      );
      assert.ok(bDoc.elements[ellipse], "B's ellipse is still there");
      drawn.set(rect2, 'rect');
      drawn.set(ellipse, 'ellipse');
      ids['rect2'] = rect2;
      ids['ellipse'] = ellipse;
      await B.shot(`${backend}-12-b-after-undo-redo`);
    });

    step('13 an image pasted by A is shown to B and served by the assets route', async () => {
      const imageBytes = makePng();
      const hash = createHash('sha256').update(imageBytes).digest('hex');
      const bBefore = await B.canvasPng();
      await A.press('v');
      await A.hover(AT.pasteAt);
      const imageId = await addedBy(A, 'image', () =>
        A.page.evaluate((base64) => {
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], 'e2e.png', { type: 'image/png' }));
          const target =
            document.querySelector('canvas[aria-label="Board canvas"]') ?? document.body;
          target.dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
          );
        }, imageBytes.toString('base64')),
      );
      const aDoc = await A.doc();
      const assetId = String(aDoc.elements[imageId]!['assetId']);
      assert.equal(assetId, hash, "the asset id is the SHA-256 of the image's bytes");
      assert.deepEqual(aDoc.assets[assetId], { mime: 'image/png', w: IMAGE.w, h: IMAGE.h, hash });

      const bDoc = await B.waitForDoc('the image arrives', (doc) =>
        doc.elements[imageId] && doc.assets[assetId] ? doc : undefined,
      );
      const region = regionOf(bDoc.elements[imageId]!.geom!);
      await until("the image's pixels on B's canvas", async () => {
        const now = await B.canvasPng();
        const orange = pixelsNear(now, region, IMAGE.orange);
        return changedPixels(bBefore, now, region) >= DRAWN_PIXELS &&
          orange >= 0.3 * region.w * region.h
          ? true
          : undefined;
      });
      await B.shot(`${backend}-13-b-sees-image`);

      const response = await api.asset(accounts.b.token, board, assetId);
      assert.equal(response.status, 200, 'an editor may read the asset');
      assert.equal(response.headers.get('content-type'), 'image/png');
      assert.match(response.headers.get('cache-control') ?? '', /immutable/);
      assert.ok(
        Buffer.from(await response.arrayBuffer()).equals(imageBytes),
        'the bytes are served as pasted',
      );
      drawn.set(imageId, 'image');
      ids['image'] = imageId;
    });

    step("14 the server's JSON export holds exactly what was drawn", async () => {
      const exported = await api.exportJson(accounts.a.token, board);
      const aDoc = await A.doc();
      assert.equal(exported.schema, 1);
      assert.deepEqual(
        Object.fromEntries(Object.entries(exported.elements).map(([id, el]) => [id, el['type']])),
        Object.fromEntries(drawn),
        'the export has every drawn element, with its type, and nothing else',
      );
      for (const [id, element] of Object.entries(exported.elements)) {
        assert.deepEqual(
          element['geom'],
          aDoc.elements[id]!.geom,
          `${id}'s geometry matches the browser's`,
        );
      }
      assert.equal(exported.elements[ids['sticky']!]!['text'], STICKY_TEXT);
      assert.deepEqual(exported.elements[ids['rect']!]!['geom'], movedRect);
      const points = exported.elements[ids['pen']!]!['points'];
      assert.deepEqual(points, aDoc.elements[ids['pen']!]!['points'], 'the pen keeps its points');
      assert.deepEqual(exported.bindings, aDoc.bindings, 'the bindings are exported as drawn');
      assert.deepEqual(exported.assets, aDoc.assets);
      const imageAssets = [...drawn]
        .filter(([, type]) => type === 'image')
        .map(([id]) => String(aDoc.elements[id]!['assetId']));
      assert.deepEqual(Object.keys(exported.assets), imageAssets, 'one asset per pasted image');
      await A.shot(`${backend}-14-a-board-as-exported`);
    });

    step('15 A exports the board as SVG and PNG from the menu, in the browser', async () => {
      const exported = async (item: string) => {
        await A.page.getByRole('button', { name: 'Menu', exact: true }).click();
        const [download] = await Promise.all([
          A.page.waitForEvent('download'),
          A.page.getByRole('menuitem', { name: item, exact: true }).click(),
        ]);
        const path = await download.path();
        return { name: download.suggestedFilename(), bytes: await readFile(path) };
      };
      const svg = await exported('Export board as SVG');
      assert.match(svg.name, /\.svg$/);
      const text = svg.bytes.toString('utf8');
      assert.match(text, /^(<\?xml[^>]*>\s*)?<svg[\s>]/, 'an SVG document');
      assert.ok(text.includes(STICKY_TEXT), "the SVG holds the sticky note's text");
      assert.ok(text.includes('<image'), 'the SVG holds the pasted image');

      const png = await exported('Export board as PNG');
      assert.match(png.name, /\.png$/);
      const image = decodePng(png.bytes);
      assert.ok(
        image.width >= 400 && image.height >= 300,
        `a picture of the whole board (${image.width}x${image.height})`,
      );
      const orange = pixelsNear(
        image,
        { x: 0, y: 0, w: image.width, h: image.height },
        IMAGE.orange,
      );
      assert.ok(orange >= IMAGE.w * IMAGE.h * 0.3, 'the PNG shows the pasted image');
      await mkdir(artifactsDir, { recursive: true });
      await writeFile(join(artifactsDir, `${backend}-15-exported.png`), png.bytes);
      await writeFile(join(artifactsDir, `${backend}-15-exported.svg`), svg.bytes);
      await A.press('Escape');
    });

    step(
      '16 on a 360 px touch screen in dark mode, B draws a rectangle with a finger',
      async () => {
        const phone = await Person.create(browser, server.url, accounts.b, true, PHONE);
        try {
          await phone.openBoard(board);
          assert.ok(
            await phone.page.evaluate(
              () => document.documentElement.scrollWidth <= window.innerWidth,
            ),
            'nothing sticks out sideways at 360 px',
          );
          assert.ok(
            medianLuminance(await phone.canvasPng()) < 90,
            'the board is dark when the system is in dark mode',
          );
          const before = await phone.canvasPng();
          const rect = await addedBy(phone, 'rect', async () => {
            await phone.page.getByRole('button', { name: 'Rectangle', exact: true }).tap();
            await phone.touchDrag(AT.phoneRect);
          });
          // Without the selection outline on top, the ink itself must show on the dark board.
          await phone.press('Escape');
          const geom = (await phone.doc()).elements[rect]!.geom!;
          await expectDrawn(phone, before, [{ geom }]);
          await A.waitForDoc("the phone's rectangle arrives", (doc) =>
            doc.elements[rect] ? true : undefined,
          );
          await phone.shot(`${backend}-16-phone`);
        } catch (e) {
          await phone.shot(`${backend}-FAILED-16-phone`);
          throw e;
        } finally {
          await phone.close();
        }
      },
    );

    step(
      '17 an expired session cookie sends the person to /signin with the board as next',
      async () => {
        const expired = { ...accounts.a, token: expiredToken(accounts.a.id, accounts.a.name) };
        const stale = await Person.create(browser, server.url, expired, true);
        try {
          await stale.page.goto(`/boards/${board}`);
          await stale.page.waitForURL((url) => url.pathname === '/signin');
          assert.equal(new URL(stale.page.url()).searchParams.get('next'), `/boards/${board}`);
          await stale.shot(`${backend}-17-expired-cookie`);
        } finally {
          await stale.close();
        }
      },
    );

    step('18 removing B from the board shows B "You no longer have access"', async () => {
      await api.removeMember(accounts.a.token, board, accounts.b.id);
      await B.page.getByText('You no longer have access').first().waitFor();
      await B.shot(`${backend}-18-b-revoked`);
    });

    step('19 a revoked session sends C to /signin with the board as next', async () => {
      await api.signOut(accounts.c.token);
      await C.page.waitForURL((url) => url.pathname === '/signin');
      assert.equal(new URL(C.page.url()).searchParams.get('next'), `/boards/${board}`);
      await C.shot(`${backend}-19-c-signed-out`);
    });

    step('20 deleting the board shows A "This board was deleted"', async () => {
      await api.deleteBoard(accounts.a.token, board);
      await A.page.getByText('This board was deleted').first().waitFor();
      await A.shot(`${backend}-20-a-board-deleted`);
    });

    // One backend takes it: the two runs go in parallel and would both write the file.
    if (process.env['EASEL_E2E_README_SHOT'] === '1' && backend === 'sqlite') {
      step('21 two people drawing on a fresh board (the README screenshot)', async () => {
        await readmeScreenshot(browser, server.url, api, accounts.a, accounts.b);
      });
    }
  });
}

/** A binding of the board document: the `anchor` end of `from` is attached to `to`. */
interface Binding {
  from: string;
  to: string;
  anchor: string;
}

function isBinding(value: unknown): value is Binding {
  const b = value as Partial<Binding> | null;
  return typeof b?.from === 'string' && typeof b.to === 'string' && typeof b.anchor === 'string';
}

/** Runs a gesture and returns the id of the one element of `type` it added to `person`'s board. */
async function addedBy(
  person: Person,
  type: string,
  gesture: () => Promise<void>,
): Promise<string> {
  const known = new Set(Object.keys((await person.doc()).elements));
  await gesture();
  return person.waitForDoc(`a new ${type}`, (doc) => {
    const added = Object.keys(doc.elements).filter((id) => !known.has(id));
    if (added.length === 0) return undefined;
    assert.equal(added.length, 1, `one gesture adds one element (added ${JSON.stringify(added)})`);
    assert.equal(doc.elements[added[0]!]!.type, type, `the gesture adds a ${type}`);
    return added[0];
  });
}

/** Waits until `person`'s canvas shows pixels changed since `before` inside each element's box. */
async function expectDrawn(
  person: Person,
  before: PNG,
  elements: Array<{ geom?: Geom | undefined }>,
): Promise<void> {
  for (const [n, element] of elements.entries()) {
    const geom = element.geom;
    assert.ok(geom, `element ${n} has a geometry`);
    const region = grow(regionOf(geom), STROKE_MARGIN);
    let changed = 0;
    await until(`${person.name}'s canvas to change inside ${JSON.stringify(region)}`, async () => {
      changed = changedPixels(before, await person.canvasPng(), region);
      return changed >= DRAWN_PIXELS ? true : undefined;
    }).catch((e: unknown) => {
      throw new Error(`${String(e)} (last count: ${changed} changed pixels)`);
    });
  }
}

/** The median luminance (0 to 255) of an image's pixels. */
function medianLuminance(image: PNG): number {
  const values: number[] = [];
  for (let offset = 0; offset < image.data.length; offset += 4) {
    const [r, g, b] = [image.data[offset]!, image.data[offset + 1]!, image.data[offset + 2]!];
    values.push(0.2126 * r + 0.7152 * g + 0.0722 * b);
  }
  values.sort((x, y) => x - y);
  return values[Math.floor(values.length / 2)] ?? 0;
}

function geomNear(
  actual: Geom,
  expected: Omit<Geom, 'rot'> & { rot?: number },
  slack = 2,
): boolean {
  return (
    Math.abs(actual.x - expected.x) <= slack &&
    Math.abs(actual.y - expected.y) <= slack &&
    Math.abs(actual.w - expected.w) <= slack &&
    Math.abs(actual.h - expected.h) <= slack &&
    (actual.rot ?? 0) === (expected.rot ?? 0)
  );
}

function assertGeomNear(
  actual: Geom | undefined,
  expected: Omit<Geom, 'rot'>,
  message: string,
): void {
  assert.ok(
    actual && geomNear(actual, expected),
    `${message}: ${JSON.stringify(actual)} ≈ ${JSON.stringify(expected)}`,
  );
}

/** An 80 x 60 PNG: an orange field with a blue square in the middle. */
function makePng(): Buffer {
  const png = new PNG({ width: IMAGE.w, height: IMAGE.h });
  for (let y = 0; y < IMAGE.h; y++) {
    for (let x = 0; x < IMAGE.w; x++) {
      const blue = x >= 30 && x < 50 && y >= 20 && y < 40;
      const [r, g, b] = blue ? [36, 99, 235] : IMAGE.orange;
      png.data.set([r, g, b, 255], (y * IMAGE.w + x) * 4);
    }
  }
  return PNG.sync.write(png);
}
