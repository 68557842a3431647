// Unit tests of the theme: the stored choice wins, `system` follows the OS preference,
// also when it changes while the page is open.
import { afterEach, describe, expect, it } from 'vitest';
import { followTheme, toggleTheme } from '../src/ui/theme';

/** A `prefers-color-scheme: dark` query whose answer the test flips. */
function systemPreference(dark: boolean) {
  const listeners: (() => void)[] = [];
  const query = {
    matches: dark,
    addEventListener: (_: string, cb: () => void) => listeners.push(cb),
  };
  window.matchMedia = (() => query) as unknown as typeof window.matchMedia;
  return (next: boolean) => {
    query.matches = next;
    for (const cb of listeners) cb();
  };
}

afterEach(() => localStorage.clear());

describe('theme', () => {
  it('follows the system preference live while no choice is stored', () => {
    const setDark = systemPreference(false);
    followTheme();
    expect(document.documentElement.dataset.theme).toBe('light');
    setDark(true);
    expect(document.documentElement.dataset.theme).toBe('dark');
  });
  it('keeps the stored choice when the system preference changes', () => {
    const setDark = systemPreference(false);
    followTheme();
    expect(toggleTheme()).toBe(true);
    setDark(false);
    expect(document.documentElement.dataset.theme).toBe('dark');
  });
});
