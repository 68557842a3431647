import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { elementToYMap, readElement, roots } from '../../src/board/schema';
import { ELEMENT_TYPES } from '../../src/board/types';
import { element } from './helpers';

describe('schema mapping', () => {
  it('round-trips every element type through a Y.Map', () => {
    const doc = new Y.Doc();
    const { elements } = roots(doc);
    for (const type of ELEMENT_TYPES) {
      const el = { ...element(type, type), createdBy: 'u1', index: 'a5' };
      if (type === 'pen') el.pressure = [0.5, 0.6, 0.7];
      if (type === 'image') el.assetId = 'abc';
      elements.set(type, elementToYMap(el));
      expect(readElement(type, elements.get(type)!)).toEqual(el);
    }
  });

  it('writes geom as one atomic value, style per key, text as Y.Text, and only allowed keys', () => {
    const doc = new Y.Doc();
    const { elements } = roots(doc);
    elements.set('r', elementToYMap(element('r', 'rect')));
    elements.set('s', elementToYMap(element('s', 'sticky')));
    const rect = elements.get('r')!;
    expect(rect.get('geom')).toEqual({ x: 0, y: 0, w: 100, h: 50, rot: 0 });
    expect(rect.get('stroke')).toBe('#1e1e1e');
    expect(rect.has('fontSize')).toBe(false);
    expect(rect.has('text')).toBe(false);
    expect(elements.get('s')!.get('text')).toBeInstanceOf(Y.Text);
    expect(doc.getMap('elements').toJSON().s.text).toBe('hello');
  });

  it('reads what a peer may have left incomplete with defaults, and skips what cannot be drawn', () => {
    const doc = new Y.Doc();
    const { elements } = roots(doc);
    const partial = new Y.Map<unknown>();
    elements.set('p', partial);
    partial.set('type', 'ellipse');
    partial.set('geom', { x: 1, y: 2 });
    const read = readElement('p', partial)!;
    expect(read.geom).toEqual({ x: 1, y: 2, w: 0, h: 0, rot: 0 });
    expect(read.dash).toBe('solid');
    const unknown = new Y.Map<unknown>();
    elements.set('u', unknown);
    unknown.set('type', 'hexagon');
    unknown.set('geom', { x: 0, y: 0, w: 1, h: 1, rot: 0 });
    expect(readElement('u', unknown)).toBeNull();
  });
});
