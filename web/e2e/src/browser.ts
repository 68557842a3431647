/**
 * Drives Debian's Chromium for the end-to-end suite: one browser, one context per person
 * (each with its own cookie jar, IndexedDB and service worker), and the gestures, reads
 * and screenshots a test needs, all in board coordinates.
 *
 * Owns the browser and the web client's test contract as seen from outside (routes, the
 * sign-in form, `canvas[aria-label="Board canvas"]`, `data-testid="connection"`,
 * `body[data-synced]`, `window.easel`). It must not reach the server except through the
 * page, and holds no assertion about what a scenario expects.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import type { Account } from './api.ts';
import { artifactsDir } from './paths.ts';
import { decodePng, type Region } from './pixels.ts';
import type { PNG } from 'pngjs';

/** Debian's Chromium (`scripts/ensure-chromium` installs it); `EASEL_CHROMIUM` overrides. */
const CHROMIUM = process.env['EASEL_CHROMIUM'] ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long a condition may take to come true (generous: 2 shared cores, two runs at once). */
export const WAIT_MS = 20_000;

/** How far (in pixels) a remote cursor may sit from where its owner's mouse is. */
const CURSOR_SLACK = 40;

/** The viewport every person gets. */
const VIEWPORT = { width: 1280, height: 800 };

/** The connection indicator's states (its `data-state`). */
export type ConnectionState = 'connected' | 'reconnecting' | 'offline';

/** What the connection indicator says in each state. */
const CONNECTION_WORDS: Record<ConnectionState, string> = {
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** A point in board coordinates. */
export interface Point {
  x: number;
  y: number;
}

/** An element's atomic geometry, as the schema stores it. */
export interface Geom {
  x: number;
  y: number;
  w: number;
  h: number;
  rot: number;
}

/** One element of the board document as plain JSON (`Y.Map#toJSON()`). */
export type ElementJson = Record<string, unknown> & { type?: string; geom?: Geom };

/** The board document as plain JSON, read from `window.easel.doc`. */
export interface DocJson {
  elements: Record<string, ElementJson>;
  bindings: Record<string, unknown>;
  assets: Record<string, unknown>;
}

/** Launches Chromium headless. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** One person at one browser context and page. */
export class Person {
  private constructor(
    readonly name: string,
    readonly account: Account,
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly consoleLog: string[],
  ) {}

  /** Opens a fresh context; with `signedIn`, it carries the account's `easel_token` cookie. */
  static async create(
    browser: Browser,
    baseUrl: string,
    account: Account,
    signedIn: boolean,
    device: BrowserContextOptions = { viewport: VIEWPORT },
  ): Promise<Person> {
    const context = await browser.newContext({ ...device, baseURL: baseUrl });
    context.setDefaultTimeout(WAIT_MS);
    if (signedIn) {
      await context.addCookies([
        {
          name: 'easel_token',
          value: account.token,
          url: baseUrl,
          httpOnly: true,
          sameSite: 'Lax',
        },
      ]);
    }
    const page = await context.newPage();
    const consoleLog: string[] = [];
    page.on('console', (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLog.push(`[pageerror] ${e.message}`));
    return new Person(account.name, account, context, page, consoleLog);
  }

  /** The last lines the page logged, for failure reports. */
  consoleTail(lines = 30): string {
    return this.consoleLog.slice(-lines).join('\n');
  }

  /** Signs in through the real `/signin` form (the page must be showing it). */
  async signInThroughForm(): Promise<void> {
    await this.page.getByLabel('Email').fill(this.account.email);
    await this.page.getByLabel('Password').fill(this.account.password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Opens `/boards/{id}` and waits until it is connected and synced. */
  async openBoard(boardId: string): Promise<void> {
    await this.page.goto(`/boards/${boardId}`);
    await this.waitSynced();
  }

  /** Waits for the first sync, the "Connected" state and `window.easel`. */
  async waitSynced(): Promise<void> {
    await this.page.locator('body[data-synced="true"]').waitFor({ state: 'attached' });
    await this.waitConnection('connected');
    await this.page.waitForFunction(() => window.easel !== undefined);
  }

  /**
   * Waits until the connection indicator (`role="status"`) is in `state`, by its
   * `data-state` and by the words people read.
   */
  async waitConnection(state: ConnectionState): Promise<void> {
    await this.page.waitForFunction(
      ([wanted, words]) => {
        const el = document.querySelector('[role="status"][data-testid="connection"]');
        return (
          el !== null &&
          el.getAttribute('data-state') === wanted &&
          (el.textContent ?? '').includes(words)
        );
      },
      [state, CONNECTION_WORDS[state]] as const,
      { timeout: WAIT_MS },
    );
  }

  /** The board canvas. */
  get canvas() {
    return this.page.locator('canvas[aria-label="Board canvas"]');
  }

  /** A board point in page coordinates (zoom 1, board (0, 0) at the canvas's top-left). */
  async toPage(p: Point): Promise<Point> {
    const box = await this.canvas.boundingBox();
    if (!box) throw new Error(`${this.name}: the board canvas is not visible`);
    return { x: box.x + p.x, y: box.y + p.y };
  }

  /** Presses a key (or chord, e.g. `Control+z`) with focus on the page, not in a field. */
  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  /** Moves the mouse to a board point. */
  async hover(p: Point, steps = 5): Promise<void> {
    const at = await this.toPage(p);
    await this.page.mouse.move(at.x, at.y, { steps });
  }

  /** Presses the mouse at `path[0]`, moves through the rest of `path`, releases at the end. */
  async drag(path: Point[], stepsBetween = 4): Promise<void> {
    const [first, ...rest] = path;
    if (!first) throw new Error('a drag needs at least one point');
    await this.hover(first, 2);
    await this.page.mouse.down();
    for (const p of rest) await this.hover(p, stepsBetween);
    await this.page.mouse.up();
  }

  /**
   * Drags one finger along `path` (board points) with real touch events, as on a phone or
   * tablet; the context must have `hasTouch`.
   */
  async touchDrag(path: Point[]): Promise<void> {
    const session = await this.context.newCDPSession(this.page);
    const points = await Promise.all(path.map((p) => this.toPage(p)));
    const send = (type: 'touchStart' | 'touchMove' | 'touchEnd', at: Point[]) =>
      session.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: at.map((p) => ({ x: p.x, y: p.y, id: 1 })),
      });
    const [first, ...rest] = points;
    if (!first) throw new Error('a touch drag needs at least one point');
    await send('touchStart', [first]);
    for (const p of rest) await send('touchMove', [p]);
    await send('touchEnd', []);
    await session.detach();
  }

  /** Clicks a board point. */
  async click(p: Point): Promise<void> {
    await this.hover(p, 2);
    await this.page.mouse.down();
    await this.page.mouse.up();
  }

  /** The board document as plain JSON. */
  async doc(): Promise<DocJson> {
    return this.page.evaluate(() => {
      const easel = window.easel;
      if (!easel) throw new Error('window.easel is not set: the board is not open or not synced');
      return {
        elements: easel.doc.getMap('elements').toJSON() as Record<string, ElementJson>,
        bindings: easel.doc.getMap('bindings').toJSON(),
        assets: easel.doc.getMap('assets').toJSON(),
      };
    });
  }

  /** Polls the document until `accept` returns a value other than `undefined`, and returns it. */
  async waitForDoc<T>(what: string, accept: (doc: DocJson) => T | undefined): Promise<T> {
    let last: DocJson | null = null;
    return until(`${this.name}'s board: ${what}`, async () => {
      last = await this.doc();
      return accept(last);
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}\nlast document: ${JSON.stringify(last)}`);
    });
  }

  /** A screenshot of the board canvas, remote cursors hidden (they move between shots). */
  async canvasPng(): Promise<PNG> {
    const bytes = await this.canvas.screenshot({
      style: '[data-testid="remote-cursor"] { visibility: hidden !important; }',
      animations: 'disabled',
    });
    return decodePng(bytes);
  }

  /** Saves a screenshot of the whole page to `artifacts/<name>.png`. */
  async shot(name: string): Promise<void> {
    await mkdir(artifactsDir, { recursive: true });
    await writeFile(join(artifactsDir, `${name}.png`), await this.page.screenshot());
  }

  /**
   * Waits until everything this person's client sent before now has reached `other`: puts
   * a fresh marker into this person's awareness and waits for `other` to hear it. The
   * marker travels on the same socket, after any document update sent before it.
   */
  async flushTo(other: Person): Promise<void> {
    const marker = `${this.name}-${Date.now()}-${Math.random()}`;
    // The page functions are serialized into the browser: they cannot call helpers here.
    await this.page.evaluate((value) => {
      const provider = window.easel?.provider as { awareness?: AwarenessLike } | undefined;
      if (!provider?.awareness) throw new Error('window.easel.provider has no awareness');
      provider.awareness.setLocalStateField('e2eMarker', value);
    }, marker);
    await other.page.waitForFunction((value) => {
      const provider = window.easel?.provider as { awareness?: AwarenessLike } | undefined;
      const states = provider?.awareness?.getStates() ?? new Map<number, Record<string, unknown>>();
      return [...states.values()].some((state) => state['e2eMarker'] === value);
    }, marker);
  }

  /** Closes the context. */
  async close(): Promise<void> {
    await this.context.close();
  }
}

/** The awareness of a `WebsocketProvider` (`provider.awareness`, y-protocols). */
interface AwarenessLike {
  setLocalStateField(field: string, value: unknown): void;
  getStates(): Map<number, Record<string, unknown>>;
}

/** The pixel region an element covers on a canvas at zoom 1 (lines may have negative w/h). */
export function regionOf(geom: Geom): Region {
  return {
    x: Math.min(geom.x, geom.x + geom.w),
    y: Math.min(geom.y, geom.y + geom.h),
    w: Math.abs(geom.w),
    h: Math.abs(geom.h),
  };
}

/** Polls `probe` every 100 ms until it returns something other than `undefined`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until `observer` shows `name`'s remote cursor near the board point `at`. */
export async function waitCursorNear(observer: Person, name: string, at: Point): Promise<void> {
  const cursor = observer.page.locator('[data-testid="remote-cursor"]', { hasText: name });
  const target = await observer.toPage(at);
  await until(
    `${name}'s cursor on ${observer.name}'s screen near ${JSON.stringify(at)}`,
    async () => {
      const box = await cursor.first().boundingBox();
      if (!box) return undefined;
      return Math.abs(box.x - target.x) <= CURSOR_SLACK &&
        Math.abs(box.y - target.y) <= CURSOR_SLACK
        ? true
        : undefined;
    },
  );
}
