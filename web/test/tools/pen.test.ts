import { describe, expect, it } from 'vitest';
import { penElement } from '../../src/tools/pen';
import { DEFAULT_STYLE } from '../../src/board/types';

describe('pen strokes', () => {
  it('stores points relative to the stroke box, pressure apart', () => {
    const el = penElement(
      's',
      [110, 220, 130, 200, 150, 260],
      [0.2, 0.5, 0.9],
      { style: DEFAULT_STYLE, userId: 'u' },
      'a0',
    );
    expect(el.geom).toEqual({ x: 110, y: 200, w: 40, h: 60, rot: 0 });
    expect(el.points).toEqual([0, 20, 20, 0, 40, 60]);
    expect(el.pressure).toEqual([0.2, 0.5, 0.9]);
    expect(el.createdBy).toBe('u');
    expect(el.fill).toBe('none');
  });

  it('leaves pressure out for a mouse', () => {
    const el = penElement('s', [0, 0, 1, 1], null, { style: DEFAULT_STYLE, userId: 'u' }, 'a0');
    expect(el.pressure).toBeUndefined();
  });
});
