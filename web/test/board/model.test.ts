import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { BoardModel } from '../../src/board/model';
import { lineEnds } from '../../src/board/geometry';
import { element, syncedPair } from './helpers';

describe('board model', () => {
  it('sees remote changes by id and keeps paint order', () => {
    const [a, b] = syncedPair();
    const ma = new BoardModel(a);
    const mb = new BoardModel(b);
    const seen: string[][] = [];
    mb.onChange((c) => seen.push([...c.elements]));
    ma.add([element('one', 'rect'), element('two', 'ellipse')]);
    expect(mb.ordered().map((e) => e.id)).toEqual(['one', 'two']);
    expect(seen).toEqual([['one', 'two']]);
    ma.setGeoms(new Map([['one', { x: 5, y: 6, w: 7, h: 8, rot: 0 }]]));
    expect(mb.get('one')!.geom).toEqual({ x: 5, y: 6, w: 7, h: 8, rot: 0 });
    ma.toEdge(['one'], true);
    expect(mb.ordered().map((e) => e.id)).toEqual(['two', 'one']);
  });

  it('moves a bound arrow end with its shape in the same transaction', () => {
    const doc = new Y.Doc();
    const m = new BoardModel(doc);
    m.add([
      element('box', 'rect', { x: 200, y: 0, w: 100, h: 100 }),
      element('arr', 'arrow', { x: 0, y: 50, w: 200, h: 0 }),
    ]);
    m.bind('arr', 'end', 'box');
    let transactions = 0;
    doc.on('afterTransaction', () => transactions++);
    m.setGeoms(new Map([['box', { x: 200, y: 100, w: 100, h: 100, rot: 0 }]]));
    expect(transactions).toBe(1);
    const [start, end] = lineEnds(m.get('arr')!.geom);
    expect(start).toEqual({ x: 0, y: 50 });
    expect(end).toEqual({ x: 200, y: 150 });
    m.setGeoms(new Map([['box', { x: 200, y: 100, w: 200, h: 200, rot: 0 }]]));
    expect(lineEnds(m.get('arr')!.geom)[1]).toEqual({ x: 200, y: 200 });
  });

  it('deletes the bindings of a deleted shape, and leaves locked elements alone', () => {
    const m = new BoardModel(new Y.Doc());
    m.add([
      element('box', 'rect'),
      element('arr', 'arrow'),
      { ...element('lock', 'rect'), locked: true },
    ]);
    m.bind('arr', 'start', 'box');
    expect(m.bindings()).toHaveLength(1);
    m.delete(['box', 'lock']);
    expect(m.roots.bindings.size).toBe(0);
    expect(m.get('lock')).toBeDefined();
    m.setGeoms(new Map([['lock', { x: 9, y: 9, w: 1, h: 1, rot: 0 }]]));
    expect(m.get('lock')!.geom.x).toBe(0);
  });

  it('edits text by its differing middle so concurrent edits both survive', () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const ma = new BoardModel(a);
    const mb = new BoardModel(b);
    ma.add([{ ...element('t', 'text'), text: 'hello world' }]);
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    ma.setText('t', 'hello brave world');
    mb.setText('t', 'hello world!');
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    expect(ma.get('t')!.text).toBe('hello brave world!');
    expect(mb.get('t')!.text).toBe('hello brave world!');
  });

  it('undoes only this client’s work, one gesture at a time', () => {
    const [a, b] = syncedPair();
    const ma = new BoardModel(a);
    const mb = new BoardModel(b);
    ma.add([element('mine', 'rect')]);
    ma.stopCapturing();
    mb.add([element('theirs', 'ellipse')]);
    mb.setGeoms(new Map([['mine', { x: 50, y: 50, w: 100, h: 50, rot: 0 }]]));
    ma.setGeoms(new Map([['theirs', { x: 300, y: 0, w: 100, h: 50, rot: 0 }]]));
    ma.stopCapturing();
    ma.undoManager.undo();
    expect(mb.get('theirs')!.geom.x).toBe(0);
    expect(mb.get('mine')!.geom.x).toBe(50);
    ma.undoManager.undo();
    expect(mb.get('mine')).toBeUndefined();
    expect(mb.get('theirs')).toBeDefined();
    expect(mb.undoManager.canUndo()).toBe(true);
    ma.undoManager.redo();
    expect(mb.get('mine')).toBeDefined();
  });
});
