// Unit tests of the keyboard shortcut map: the shortcuts reach the right actions and
// typing in fields is left alone.
import { describe, expect, it } from 'vitest';
import { actionForKey, isTextInput, TOOLS, type KeyLike } from '../src/ui/actions';

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe('actionForKey', () => {
  it('maps the tool letters of the issue', () => {
    const want: Record<string, string> = {
      v: 'tool:select',
      h: 'tool:hand',
      p: 'tool:pen',
      r: 'tool:rect',
      o: 'tool:ellipse',
      l: 'tool:line',
      a: 'tool:arrow',
      t: 'tool:text',
      n: 'tool:sticky',
      e: 'tool:eraser',
      k: 'tool:laser',
    };
    for (const [k, action] of Object.entries(want)) {
      expect(actionForKey(key(k))).toBe(action);
      expect(actionForKey(key(k.toUpperCase()))).toBe(action);
    }
  });
  it('maps edit shortcuts with Ctrl and Cmd', () => {
    for (const mod of [{ ctrlKey: true }, { metaKey: true }]) {
      expect(actionForKey(key('z', mod))).toBe('undo');
      expect(actionForKey(key('Z', { ...mod, shiftKey: true }))).toBe('redo');
      expect(actionForKey(key('y', mod))).toBe('redo');
      expect(actionForKey(key('d', mod))).toBe('duplicate');
      expect(actionForKey(key('a', mod))).toBe('selectAll');
    }
  });
  it('maps deletion, escape and help', () => {
    expect(actionForKey(key('Delete'))).toBe('delete');
    expect(actionForKey(key('Backspace'))).toBe('delete');
    expect(actionForKey(key('Escape'))).toBe('escape');
    expect(actionForKey(key('?', { shiftKey: true }))).toBe('help');
  });
  it('leaves other keys and chords alone', () => {
    expect(actionForKey(key('x'))).toBeNull();
    expect(actionForKey(key('r', { altKey: true }))).toBeNull();
    expect(actionForKey(key('c', { ctrlKey: true }))).toBeNull();
    expect(actionForKey(key('R', { shiftKey: true }))).toBeNull();
  });
  it('names every tool exactly as the contract says', () => {
    expect(TOOLS.map((t) => t.label)).toEqual([
      'Select',
      'Hand',
      'Pen',
      'Rectangle',
      'Ellipse',
      'Line',
      'Arrow',
      'Text',
      'Sticky note',
      'Eraser',
      'Laser',
      'Image',
    ]);
  });
});

describe('isTextInput', () => {
  it('recognises fields that take typing', () => {
    expect(isTextInput(document.createElement('textarea'))).toBe(true);
    expect(isTextInput(document.createElement('input'))).toBe(true);
    const range = document.createElement('input');
    range.type = 'range';
    expect(isTextInput(range)).toBe(false);
    expect(isTextInput(document.createElement('button'))).toBe(false);
    expect(isTextInput(null)).toBe(false);
  });
});
