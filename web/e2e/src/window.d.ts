/**
 * The test hook the board page sets once connected (web client contract):
 * `window.easel = { doc, provider, undoManager }`. Only the parts the suite reads are typed,
 * structurally, so the suite does not depend on yjs.
 *
 * Owns this declaration only; nothing here runs.
 */

/** The part of a `Y.Map` the suite reads. */
interface EaselYMap {
  toJSON(): Record<string, unknown>;
}

declare global {
  interface Window {
    easel?: {
      doc: { getMap(name: string): EaselYMap };
      provider: unknown;
      undoManager: unknown;
    };
  }
}

export {};
