import { describe, expect, it } from 'vitest';
import { compareOrder, edgeKeys, keyBetween, sortByOrder, stepKeys } from '../../src/board/order';

function order(items: { id: string; index: string }[]): string[] {
  return sortByOrder(items).map((e) => e.id);
}

describe('fractional z-order', () => {
  it('breaks ties by id', () => {
    expect(compareOrder({ id: 'a', index: 'a0' }, { id: 'b', index: 'a0' })).toBeLessThan(0);
    expect(
      order([
        { id: 'z', index: 'a0' },
        { id: 'a', index: 'a1' },
        { id: 'b', index: 'a0' },
      ]),
    ).toEqual(['b', 'z', 'a']);
  });

  it('makes keys between neighbours, and above when they are out of order', () => {
    const k = keyBetween('a0', 'a1');
    expect(k > 'a0' && k < 'a1').toBe(true);
    const above = keyBetween('a1', 'a1');
    expect(above > 'a1').toBe(true);
    expect(keyBetween(null, null)).toBe('a0');
  });

  it('steps the selection one place up past the next element, keeping its order', () => {
    const all = [
      { id: 'a', index: 'a0' },
      { id: 'b', index: 'a1' },
      { id: 'c', index: 'a2' },
      { id: 'd', index: 'a3' },
    ];
    const keys = stepKeys(all, new Set(['a', 'b']), 1);
    const after = all.map((e) => ({ ...e, index: keys.get(e.id) ?? e.index }));
    expect(order(after)).toEqual(['c', 'a', 'b', 'd']);
    const down = stepKeys(all, new Set(['d']), -1);
    expect(order(all.map((e) => ({ ...e, index: down.get(e.id) ?? e.index })))).toEqual([
      'a',
      'b',
      'd',
      'c',
    ]);
    expect(stepKeys(all, new Set(['d']), 1).size).toBe(0);
  });

  it('sends to the front and to the back', () => {
    const all = [
      { id: 'a', index: 'a0' },
      { id: 'b', index: 'a1' },
      { id: 'c', index: 'a2' },
    ];
    const front = edgeKeys(all, new Set(['a']), true);
    expect(order(all.map((e) => ({ ...e, index: front.get(e.id) ?? e.index })))).toEqual([
      'b',
      'c',
      'a',
    ]);
    const back = edgeKeys(all, new Set(['c']), false);
    expect(order(all.map((e) => ({ ...e, index: back.get(e.id) ?? e.index })))).toEqual([
      'c',
      'a',
      'b',
    ]);
  });
});
