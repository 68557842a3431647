/**
 * The picture at the top of the README (`docs/screenshot.png`): two people drawing on one
 * board, taken from the second one's screen while both are in the middle of a stroke, so
 * it shows the other's cursor with their name and their stroke arriving live.
 *
 * Owns that scene and nothing else: it makes its own board and browser contexts, and
 * asserts only what the picture needs (the cursor is there). Run with
 * `EASEL_E2E_README_SHOT=1`.
 */
import { writeFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import type { Account, Api } from './api.ts';
import { Person, waitCursorNear, type Point } from './browser.ts';
import { readmeShot } from './paths.ts';

/** Draws the scene as A and B and saves B's screen to `docs/screenshot.png`. */
export async function readmeScreenshot(
  browser: Browser,
  baseUrl: string,
  api: Api,
  a: Account,
  b: Account,
): Promise<void> {
  const board = await api.createBoard(a.token, 'Launch plan');
  await api.setMember(a.token, board, b.id, 'editor');
  const A = await Person.create(browser, baseUrl, a, true);
  const B = await Person.create(browser, baseUrl, b, true);
  try {
    await Promise.all([A.openBoard(board), B.openBoard(board)]);

    await sticky(A, { x: 400, y: 190 }, 'Ship the board on Friday');
    await sticky(A, { x: 640, y: 190 }, 'Invite the design team', 'Fill #b2f2bb');
    await shape(B, 'r', 'Stroke #1971c2', 'Fill #a5d8ff', [
      { x: 330, y: 420 },
      { x: 560, y: 560 },
    ]);
    await shape(B, 'o', 'Stroke #2f9e44', 'Fill #b2f2bb', [
      { x: 660, y: 430 },
      { x: 860, y: 570 },
    ]);
    await shape(A, 'a', 'Stroke #e03131', null, [
      { x: 420, y: 300 },
      { x: 440, y: 416 },
    ]);
    await shape(A, 'a', 'Stroke #e03131', null, [
      { x: 660, y: 300 },
      { x: 720, y: 426 },
    ]);

    // Both in the middle of a stroke: A's arrives on B's screen through awareness.
    await choose(A, 'p', 'Stroke #9c36b5', 'Stroke width medium');
    await choose(B, 'p', 'Stroke #f08c00', 'Stroke width medium');
    const aPath = wave({ x: 900, y: 200 }, 260, 40, 14);
    const bPath = wave({ x: 900, y: 660 }, 280, 30, 14);
    await A.hover(aPath[0]!);
    await A.page.mouse.down();
    await B.hover(bPath[0]!);
    await B.page.mouse.down();
    for (let i = 1; i < aPath.length; i++) {
      await A.hover(aPath[i]!, 2);
      await B.hover(bPath[i]!, 2);
    }
    await waitCursorNear(B, A.name, aPath.at(-1)!);
    await writeFile(readmeShot, await B.page.screenshot());
    await A.page.mouse.up();
    await B.page.mouse.up();
  } finally {
    await A.close();
    await B.close();
  }
}

/**
 * Clears the selection (a style pick would restyle it), takes a tool and presses the style
 * panel's buttons named in `styles` (`null` skips one).
 */
async function choose(
  person: Person,
  toolKey: string,
  ...styles: (string | null)[]
): Promise<void> {
  await person.press('Escape');
  await person.press('v');
  await person.click({ x: 1200, y: 420 });
  await person.press(toolKey);
  for (const style of styles) {
    if (style) await person.page.getByRole('button', { name: style, exact: true }).click();
  }
}

async function shape(
  person: Person,
  toolKey: string,
  stroke: string,
  fill: string | null,
  path: Point[],
): Promise<void> {
  await choose(person, toolKey, stroke, fill);
  await person.drag(path);
}

async function sticky(person: Person, at: Point, text: string, fill?: string): Promise<void> {
  await choose(person, 'n', fill ?? null);
  await person.click(at);
  await person.page.getByLabel('Text editor').waitFor();
  await person.page.keyboard.type(text);
  await person.press('Escape');
}

function wave(from: Point, length: number, amplitude: number, points: number): Point[] {
  return Array.from({ length: points }, (_, i) => ({
    x: from.x + (length * i) / (points - 1),
    y: from.y + amplitude * Math.sin((i / (points - 1)) * Math.PI * 2),
  }));
}
