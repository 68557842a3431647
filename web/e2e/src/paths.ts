/**
 * Where things are: the repository root and the artifacts folder of the end-to-end suite.
 *
 * Owns path computation only; it must not create or delete anything.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository's root directory. */
export const repoRoot = resolve(here, '../../..');

/** Screenshots of every step and of failures (ignored by git). */
export const artifactsDir = resolve(here, '../artifacts');

/** The README's screenshot of a board with two people drawing. */
export const readmeShot = join(repoRoot, 'docs/screenshot.png');
