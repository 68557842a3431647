// Unit tests of the empty-board hint: hidden until the board has loaded, shown while it is
// empty, gone as soon as anyone draws, back when everything is deleted.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createEmptyHint } from '../../src/ui/empty-hint';

describe('createEmptyHint', () => {
  it('follows the element count once the board has loaded', () => {
    const doc = new Y.Doc();
    const elements = doc.getMap<Y.Map<unknown>>('elements');
    const hint = createEmptyHint(elements, false);
    expect(hint.el.hidden).toBe(true);
    hint.ready();
    expect(hint.el.hidden).toBe(false);
    expect(hint.el.textContent).toContain('Start drawing');
    elements.set('a', new Y.Map());
    expect(hint.el.hidden).toBe(true);
    elements.delete('a');
    expect(hint.el.hidden).toBe(false);
    hint.destroy();
    elements.set('b', new Y.Map());
    expect(hint.el.hidden).toBe(false);
  });

  it('tells a viewer that the board is empty, with no drawing instructions', () => {
    const elements = new Y.Doc().getMap<Y.Map<unknown>>('elements');
    const hint = createEmptyHint(elements, true);
    hint.ready();
    expect(hint.el.textContent).toContain('This board is empty');
    expect(hint.el.textContent).not.toContain('press R');
  });
});
