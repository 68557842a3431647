// Test helpers for the board model: element builders and in-memory synced documents.
//
// Owns nothing the app uses; only tests import it.

import * as Y from 'yjs';
import { DEFAULT_STYLE, type BoardElement, type ElementType } from '../../src/board/types';

/** A plain element of `type` with the default style. */
export function element(
  id: string,
  type: ElementType,
  geom: Partial<BoardElement['geom']> = {},
): BoardElement {
  const el: BoardElement = {
    ...DEFAULT_STYLE,
    id,
    type,
    index: 'a0',
    geom: { x: 0, y: 0, w: 100, h: 50, rot: 0, ...geom },
    locked: false,
  };
  if (type === 'pen') el.points = [0, 0, 50, 25, 100, 50];
  if (type === 'text' || type === 'sticky') el.text = 'hello';
  return el;
}

/** Two documents wired to each other in memory, as two browsers behind a server. */
export function syncedPair(): [Y.Doc, Y.Doc] {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') Y.applyUpdate(b, u, 'remote');
  });
  b.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') Y.applyUpdate(a, u, 'remote');
  });
  return [a, b];
}
