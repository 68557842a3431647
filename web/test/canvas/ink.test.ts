// Unit tests of the dark-mode colour mapping: lightness inverted, hue kept, alpha kept,
// unknown colours untouched.
import { describe, expect, it } from 'vitest';
import { darkInk, lightInk, toDark } from '../../src/canvas/ink';

function rgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

describe('toDark', () => {
  it('turns dark ink light and white paper near-black', () => {
    expect(Math.min(...rgb(toDark('#1e1e1e')))).toBeGreaterThan(200);
    expect(Math.max(...rgb(toDark('#ffffff')))).toBeLessThan(30);
  });
  it('keeps the hue of a colour', () => {
    const [r, g, b] = rgb(toDark('#e03131'));
    expect(r).toBeGreaterThan(g ?? 0);
    expect(r).toBeGreaterThan(b ?? 0);
    const [r2, g2, b2] = rgb(toDark('#1971c2'));
    expect(b2).toBeGreaterThan(r2 ?? 0);
    expect(b2).toBeGreaterThanOrEqual(g2 ?? 0);
  });
  it('reads short hex and rgba, keeping alpha', () => {
    expect(toDark('#000')).toBe(toDark('#000000'));
    expect(toDark('rgba(0, 0, 0, 0.5)')).toBe(`${toDark('#000000')}80`);
    expect(toDark('#00000080')).toBe(`${toDark('#000000')}80`);
  });
  it('passes through what it cannot read', () => {
    expect(toDark('none')).toBe('none');
    expect(toDark('transparent')).toBe('transparent');
  });
});

describe('inks', () => {
  it('the light ink is the identity and the dark ink memoises toDark', () => {
    expect(lightInk('#123456')).toBe('#123456');
    expect(darkInk('#123456')).toBe(toDark('#123456'));
    expect(darkInk('#123456')).toBe(darkInk('#123456'));
  });
});
