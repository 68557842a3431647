import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { hitTest, type Point } from '../../src/board/geometry';
import { BoardModel } from '../../src/board/model';
import { DEFAULT_STYLE } from '../../src/board/types';
import type { Renderer } from '../../src/canvas/renderer';
import { createTools } from '../../src/tools';
import type { Preview, ToolContext, ToolName, ToolPointer } from '../../src/tools/types';

/** A tool context over a real model; hit-testing as the renderer does it, without a canvas. */
function setup() {
  const doc = new Y.Doc();
  const model = new BoardModel(doc);
  const previews: (Preview | null)[] = [];
  let selection = new Set<string>();
  let tool: ToolName = 'select';
  const tools = createTools();
  const renderer = {
    elementsAt: (p: Point, tol: number) =>
      [...model.ordered()].reverse().filter((el) => hitTest(el, p, tol)),
    elementsIn: () => [...model.ordered()],
  } as unknown as Renderer;
  const ctx: ToolContext = {
    model,
    renderer,
    camera: { x: 0, y: 0, zoom: 1 },
    style: DEFAULT_STYLE,
    userId: 'me',
    readOnly: false,
    get selection() {
      return selection;
    },
    setSelection: (ids) => (selection = new Set(ids)),
    setPreview: (p) => previews.push(p),
    setCamera: () => undefined,
    setTool: (t) => (tool = t),
    editText: () => undefined,
    laser: () => undefined,
    pickImage: () => undefined,
    tolerance: (px) => px,
    repaint: () => undefined,
  };
  const at = (x: number, y: number): ToolPointer => ({
    board: { x, y },
    screen: { x, y },
    shift: false,
    alt: false,
    mod: false,
    pressure: undefined,
    pointerType: 'mouse',
    samples: [],
  });
  const drag = (name: ToolName, from: [number, number], to: [number, number]) => {
    const t = tools[name];
    t.down(ctx, at(...from));
    for (let i = 1; i <= 5; i++) {
      t.move(ctx, at(from[0] + ((to[0] - from[0]) * i) / 5, from[1] + ((to[1] - from[1]) * i) / 5));
    }
    t.up(ctx, at(...to));
  };
  let transactions = 0;
  doc.on('afterTransaction', (txn: Y.Transaction) => {
    if (txn.changed.size > 0) transactions++;
  });
  return { model, previews, drag, ctx, tool: () => tool, transactions: () => transactions };
}

describe('gestures', () => {
  it('draws a rectangle in one transaction, previewing meanwhile, then returns to select', () => {
    const s = setup();
    s.drag('rect', [10, 20], [110, 70]);
    const [rect] = s.model.ordered();
    expect(rect?.geom).toEqual({ x: 10, y: 20, w: 100, h: 50, rot: 0 });
    expect(rect?.createdBy).toBe('me');
    expect(s.transactions()).toBe(1);
    expect(s.previews.some((p) => p?.elements?.[0]?.type === 'rect')).toBe(true);
    expect(s.previews.at(-1)).toBeNull();
    expect(s.tool()).toBe('select');
    expect(s.ctx.selection.has(rect!.id)).toBe(true);
  });

  it('moves a shape with one change that one undo takes back', () => {
    const s = setup();
    s.drag('rect', [0, 0], [100, 100]);
    s.drag('select', [0, 25], [200, 225]);
    expect(s.model.ordered()[0]?.geom).toMatchObject({ x: 200, y: 200 });
    expect(s.transactions()).toBe(2);
    s.model.undoManager.undo();
    expect(s.model.ordered()[0]?.geom).toMatchObject({ x: 0, y: 0 });
  });

  it('writes a pen stroke once, at pen-up', () => {
    const s = setup();
    s.drag('pen', [0, 0], [50, 50]);
    expect(s.transactions()).toBe(1);
    const [pen] = s.model.ordered();
    expect(pen?.type).toBe('pen');
    expect(pen?.points?.length).toBeGreaterThanOrEqual(4);
  });

  it('erases what the eraser crosses in one undoable step, sparing locked shapes', () => {
    const s = setup();
    s.drag('rect', [0, 0], [100, 100]);
    s.drag('ellipse', [200, 0], [300, 100]);
    const [, ellipse] = s.model.ordered();
    s.model.setLocked([ellipse!.id], true);
    s.drag('eraser', [-20, 50], [320, 50]);
    expect(s.model.ordered().map((e) => e.type)).toEqual(['ellipse']);
    s.model.undoManager.undo();
    expect(s.model.ordered()).toHaveLength(2);
  });

  it('binds an arrow drawn from one shape onto another', () => {
    const s = setup();
    s.drag('rect', [0, 0], [100, 100]);
    s.drag('rect', [300, 0], [400, 100]);
    s.drag('arrow', [50, 50], [350, 50]);
    expect(
      s.model
        .bindings()
        .map((b) => b.anchor)
        .sort(),
    ).toEqual(['end', 'start']);
  });
});
