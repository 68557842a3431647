// Light/dark theme: follows `prefers-color-scheme` until the user picks one with the toggle,
// which is remembered in localStorage. Owns the `data-theme` attribute of <html> only.

/** The theme the user chose, or `system` to follow the operating system. */
export type ThemeChoice = 'light' | 'dark' | 'system';

const KEY = 'easel.theme';

/** The stored choice (`system` when none). */
export function storedTheme(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

/** Whether the page is dark right now (the choice, or the system's preference). */
export function isDark(): boolean {
  const c = storedTheme();
  if (c !== 'system') return c === 'dark';
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
}

/** Applies the stored choice to <html data-theme>. */
export function applyStoredTheme(): void {
  document.documentElement.dataset.theme = isDark() ? 'dark' : 'light';
}

/**
 * Applies the stored choice now and again whenever the system's preference changes (it
 * only matters while the choice is `system`), so an open board follows the OS at once.
 */
export function followTheme(): void {
  applyStoredTheme();
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', applyStoredTheme);
}

/** Flips between light and dark and remembers it; returns whether the page is now dark. */
export function toggleTheme(): boolean {
  const dark = !isDark();
  localStorage.setItem(KEY, dark ? 'dark' : 'light');
  applyStoredTheme();
  return dark;
}
