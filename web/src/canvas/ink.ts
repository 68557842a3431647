// Dark-mode colours for what the board draws: the document keeps its light-paper colours
// (dark ink, pale stickies) and dark mode shows each colour inverted in lightness with its
// hue kept — the same look as the CSS `invert(93%) hue-rotate(180deg)` filter Excalidraw
// uses, but applied per colour, so images keep their true colours and exports are never
// touched. Owns the colour mapping only; the renderer decides when to apply it.

/** Maps a document colour to the one drawn on screen. */
export type Ink = (colour: string) => string;

/** The identity ink: light mode and every export. */
export const lightInk: Ink = (colour) => colour;

const AMOUNT = 0.93;
/** The CSS `hue-rotate(180deg)` matrix (Filter Effects 1, §hue-rotate), in sRGB. */
const HUE_180 = [
  [-0.574, 1.43, 0.144],
  [0.426, 0.43, 0.144],
  [0.426, 1.43, -0.856],
] as const;

function parse(colour: string): [number, number, number, number] | null {
  const c = colour.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(c)?.[1];
  if (hex) {
    const full = hex.length <= 4 ? [...hex].map((d) => d + d).join('') : hex;
    const n = (i: number) => parseInt(full.slice(i * 2, i * 2 + 2), 16);
    return [n(0), n(1), n(2), full.length === 8 ? n(3) / 255 : 1];
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(
    c,
  );
  if (fn) {
    const alpha = fn[4] === undefined ? 1 : fn[4].endsWith('%') ? parseFloat(fn[4]) / 100 : +fn[4];
    return [+(fn[1] ?? 0), +(fn[2] ?? 0), +(fn[3] ?? 0), alpha];
  }
  return null;
}

function hex2(v: number): string {
  return Math.round(Math.min(255, Math.max(0, v)))
    .toString(16)
    .padStart(2, '0');
}

/** `colour` as dark mode shows it; colours it cannot read (names, `none`) pass through. */
export function toDark(colour: string): string {
  const rgba = parse(colour);
  if (!rgba) return colour;
  const inv = rgba.slice(0, 3).map((v) => AMOUNT + (v / 255) * (1 - 2 * AMOUNT));
  const out = HUE_180.map((row) => row.reduce((sum, k, i) => sum + k * (inv[i] ?? 0), 0) * 255);
  const alpha = rgba[3] < 1 ? hex2(rgba[3] * 255) : '';
  return `#${out.map(hex2).join('')}${alpha}`;
}

const darkCache = new Map<string, string>();

/** The dark-mode ink, memoised (a board uses few distinct colours). */
export const darkInk: Ink = (colour) => {
  let out = darkCache.get(colour);
  if (out === undefined) {
    out = toDark(colour);
    if (darkCache.size < 1024) darkCache.set(colour, out);
  }
  return out;
};
