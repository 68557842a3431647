// The in-place text editor: a <textarea> laid exactly over a text or sticky note.
//
// Owns editing one element's text: it follows the camera, writes each change to the
// element's Y.Text through the model (only the differing middle, so concurrent typing
// merges), grows a text element's box to its content and a sticky note to fit its text,
// and on close (Escape, a click outside, blur) deletes an element left empty. Nothing else
// in the document.

import type { BoardModel } from '../board/model';
import { centre } from '../board/geometry';
import { FONT_FAMILY, LINE_HEIGHT, STICKY_FILL, STICKY_PADDING } from '../board/types';
import { boardToScreen, type Camera } from '../canvas/camera';
import { lightInk, type Ink } from '../canvas/ink';
import { measureText, textLines } from '../canvas/shapes';

/** The open editor of one element. */
export class TextEditor {
  readonly id: string;
  private readonly area: HTMLTextAreaElement;
  private readonly measure: CanvasRenderingContext2D | null;
  private closed = false;

  constructor(
    host: HTMLElement,
    private readonly model: BoardModel,
    id: string,
    private readonly isNew: boolean,
    private readonly onClose: () => void,
    /** The renderer's current ink, so the text shows in the colours the canvas draws. */
    private readonly ink: () => Ink = () => lightInk,
  ) {
    this.id = id;
    this.measure = document.createElement('canvas').getContext('2d');
    const area = document.createElement('textarea');
    area.setAttribute('aria-label', 'Text editor');
    area.className = 'easel-text-editor';
    area.spellcheck = true;
    area.wrap = model.get(id)?.type === 'sticky' ? 'soft' : 'off';
    area.style.cssText =
      'position:absolute;left:0;top:0;margin:0;border:0;outline:none;resize:none;overflow:hidden;background:transparent;transform-origin:0 0;z-index:4;white-space:pre;box-sizing:border-box;';
    area.value = model.get(id)?.text ?? '';
    area.addEventListener('input', () => this.write());
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.close();
      }
      e.stopPropagation();
    });
    area.addEventListener('blur', () => this.close());
    host.append(area);
    this.area = area;
  }

  /** Focuses the textarea with the caret at the end. */
  focus(): void {
    this.area.focus();
    const end = this.area.value.length;
    this.area.setSelectionRange(end, end);
  }

  /** Lays the textarea over the element for the camera; closes if the element is gone. */
  place(camera: Camera): void {
    const el = this.model.get(this.id);
    if (!el) {
      this.close();
      return;
    }
    if (document.activeElement !== this.area && el.text !== this.area.value)
      this.area.value = el.text ?? '';
    const sticky = el.type === 'sticky';
    const g = el.geom;
    const pad = sticky ? STICKY_PADDING : 0;
    const s = boardToScreen(camera, { x: g.x, y: g.y });
    const c = centre(g);
    const a = this.area.style;
    const ink = this.ink();
    a.width = `${Math.max(Math.abs(g.w), el.fontSize) + (sticky ? 0 : el.fontSize)}px`;
    a.height = `${Math.max(Math.abs(g.h), el.fontSize * LINE_HEIGHT)}px`;
    a.padding = `${pad}px`;
    a.font = `${el.fontSize}px ${FONT_FAMILY}`;
    a.lineHeight = String(LINE_HEIGHT);
    a.color = ink(el.stroke);
    a.whiteSpace = sticky ? 'pre-wrap' : 'pre';
    a.background = sticky ? ink(el.fill === 'none' ? STICKY_FILL : el.fill) : 'transparent';
    a.borderRadius = sticky ? '4px' : '0';
    a.opacity = String(el.opacity);
    a.caretColor = ink(el.stroke);
    const ox = (c.x - g.x) * camera.zoom;
    const oy = (c.y - g.y) * camera.zoom;
    a.transform = `translate(${s.x}px, ${s.y}px) translate(${ox}px, ${oy}px) rotate(${g.rot}deg) translate(${-ox}px, ${-oy}px) scale(${camera.zoom})`;
  }

  private write(): void {
    const el = this.model.get(this.id);
    if (!el) return;
    const text = this.area.value;
    this.model.transact(() => {
      this.model.setText(this.id, text);
      if (el.type === 'text' && this.measure) {
        const size = measureText(this.measure, text, el.fontSize);
        this.model.setGeoms(new Map([[this.id, { ...el.geom, w: size.w, h: size.h }]]));
      } else if (el.type === 'sticky' && this.measure) {
        const lines = textLines(this.measure, { ...el, text }).length;
        const needed = Math.ceil(lines * el.fontSize * LINE_HEIGHT + 2 * STICKY_PADDING);
        if (needed > Math.abs(el.geom.h)) {
          this.model.setGeoms(new Map([[this.id, { ...el.geom, h: needed }]]));
        }
      }
    });
  }

  /** Ends editing; an element left empty is deleted. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const el = this.model.get(this.id);
    if (el && (el.text ?? '').trim() === '' && (this.isNew || el.type === 'text'))
      this.model.delete([this.id]);
    this.model.stopCapturing();
    this.area.remove();
    this.onClose();
  }
}
