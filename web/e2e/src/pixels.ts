/**
 * Pixel checks on screenshots: decode a PNG and count the pixels of a region that differ
 * between two shots, or that differ from a colour.
 *
 * Owns image comparison only; it must not take screenshots or drive a browser.
 */
import { PNG } from 'pngjs';

/** A rectangle in image pixels. */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** How far apart two channel values must be to count as a change (antialiasing noise is less). */
const CHANNEL_TOLERANCE = 24;

/** Decodes a PNG. */
export function decodePng(bytes: Buffer): PNG {
  return PNG.sync.read(bytes);
}

/** How many pixels of `region` (clipped to both images) differ between `before` and `after`. */
export function changedPixels(before: PNG, after: PNG, region: Region): number {
  if (before.width !== after.width || before.height !== after.height) {
    throw new Error(
      `screenshots differ in size: ${before.width}x${before.height} and ${after.width}x${after.height}`,
    );
  }
  let changed = 0;
  forEachPixel(before, region, (offset) => {
    for (let channel = 0; channel < 4; channel++) {
      const a = before.data[offset + channel] ?? 0;
      const b = after.data[offset + channel] ?? 0;
      if (Math.abs(a - b) > CHANNEL_TOLERANCE) {
        changed++;
        return;
      }
    }
  });
  return changed;
}

/** How many pixels of `region` are close to the colour `[r, g, b]`. */
export function pixelsNear(image: PNG, region: Region, rgb: [number, number, number]): number {
  let count = 0;
  forEachPixel(image, region, (offset) => {
    const close = rgb.every(
      (value, channel) =>
        Math.abs((image.data[offset + channel] ?? 0) - value) <= CHANNEL_TOLERANCE,
    );
    if (close) count++;
  });
  return count;
}

/** Grows a region by `margin` pixels on every side. */
export function grow(region: Region, margin: number): Region {
  return {
    x: region.x - margin,
    y: region.y - margin,
    w: region.w + 2 * margin,
    h: region.h + 2 * margin,
  };
}

function forEachPixel(image: PNG, region: Region, visit: (offset: number) => void): void {
  const x0 = Math.max(0, Math.floor(region.x));
  const y0 = Math.max(0, Math.floor(region.y));
  const x1 = Math.min(image.width, Math.ceil(region.x + region.w));
  const y1 = Math.min(image.height, Math.ceil(region.y + region.h));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      visit((y * image.width + x) * 4);
    }
  }
}
