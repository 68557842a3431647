// Unit tests of drawing one element through an ink: colours go through it, images never
// do, and without an ink (exports) colours are drawn as the document holds them.
import { describe, expect, it } from 'vitest';
import { darkInk } from '../../src/canvas/ink';
import { drawElement, type DrawEnv } from '../../src/canvas/shapes';
import { element } from '../board/helpers';

/** A 2D context that records the colours set and the images drawn, and ignores the rest. */
function recordingContext() {
  const colours: string[] = [];
  const images: unknown[] = [];
  const filters: string[] = [];
  const target: Record<string, unknown> = {};
  const ctx = new Proxy(target, {
    get(t, key: string) {
      if (key === 'drawImage') return (img: unknown) => images.push(img);
      if (key === 'measureText') return (s: string) => ({ width: s.length * 8 });
      if (key === 'getTransform') return () => new DOMMatrix();
      if (key in t) return t[key];
      return () => undefined;
    },
    set(t, key: string, value: unknown) {
      if (key === 'fillStyle' || key === 'strokeStyle') colours.push(String(value));
      if (key === 'filter') filters.push(String(value));
      t[key] = value;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
  return { ctx, colours, images, filters };
}

const picture = { width: 10, height: 10 } as unknown as CanvasImageSource;
const env = (ink?: DrawEnv['ink']): DrawEnv => ({
  zoom: 1,
  images: { get: () => picture },
  ...(ink ? { ink } : {}),
});

describe('drawElement inks', () => {
  it('draws the document colours as they are without an ink (exports)', () => {
    const r = recordingContext();
    const rect = { ...element('r', 'rect'), stroke: '#1e1e1e', fill: '#a5d8ff' };
    drawElement(r.ctx, rect, env());
    expect(r.colours).toContain('#1e1e1e');
    expect(r.colours).toContain('#a5d8ff');
  });
  it('maps every colour through the dark ink', () => {
    const r = recordingContext();
    const rect = { ...element('r', 'rect'), stroke: '#1e1e1e', fill: '#a5d8ff' };
    drawElement(r.ctx, rect, env(darkInk));
    expect(r.colours).toEqual(expect.arrayContaining([darkInk('#1e1e1e'), darkInk('#a5d8ff')]));
    expect(r.colours).not.toContain('#1e1e1e');
    const sticky = recordingContext();
    drawElement(sticky.ctx, element('s', 'sticky'), env(darkInk));
    expect(sticky.colours.every((c) => c.startsWith('#'))).toBe(true);
  });
  it('draws images untouched in dark mode: no filter, no colour', () => {
    const r = recordingContext();
    drawElement(r.ctx, { ...element('i', 'image'), assetId: 'a' }, env(darkInk));
    expect(r.images).toEqual([picture]);
    expect(r.filters).toEqual([]);
    expect(r.colours).toEqual([]);
  });
});
