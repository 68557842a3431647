// The Editor: the one object the UI drives a board through (the seam with src/ui and src/pages).
//
// Owns wiring the board model, the renderer, the tools, presence and the text editor to a
// container element: it creates the `<canvas aria-label="Board canvas">` and its overlays,
// turns pointer, wheel, touch, paste and drop input into tool calls and camera moves,
// keeps the selection, the current style, follow mode and the undo state, and tells the
// UI when any of them changed. It never builds toolbar or menu DOM (the UI does) and
// never talks to the server except through the `uploadImage` and `assetUrl` it is given.

import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { boxFromPoints, elementBounds, unionBox, type Box, type Point } from '../board/geometry';
import { BoardModel } from '../board/model';
import { compareOrder } from '../board/order';
import { newId } from '../board/schema';
import { DEFAULT_STYLE, isTextLike, type BoardElement, type Style } from '../board/types';
import {
  boardToScreen,
  fitBox,
  panBy,
  screenToBoard,
  stepZoom,
  zoomAt,
  type Camera,
} from '../canvas/camera';
import { dataUrl, exportPng as renderPng, exportSvg as renderSvg } from '../canvas/export';
import { createRenderer, type Renderer } from '../canvas/renderer';
import { drawElement } from '../canvas/shapes';
import { createTools, VIEWER_TOOLS } from '../tools';
import type { Preview, Tool, ToolContext, ToolName, ToolPointer } from '../tools/types';
import { resolveColours } from '../sync/identity';
import { CursorLayer, LASER_MS, Publisher, readPeer, type Peer } from './presence';
import { TextEditor } from './text-editor';

export type { ToolName } from '../tools/types';

/** The style panel's values (the document's style keys): applied to the selection and to new shapes. */
export type StyleValues = Style;

/** What the page gives the editor. */
export interface EditorOptions {
  /** The editor creates its canvas and overlays inside, filling it. */
  container: HTMLElement;
  doc: Y.Doc;
  awareness: Awareness;
  /** Viewers: only the hand and the laser; nothing they do changes the document. */
  readOnly: boolean;
  user: { id: string; name: string; colour: string };
  uploadImage(
    file: Blob,
  ): Promise<{ id: string; mime: string; w: number; h: number; hash: string }>;
  assetUrl(assetId: string): string;
}

/** See the module comment; the UI's keymap calls these methods. */
export interface Editor {
  readonly tool: ToolName;
  setTool(t: ToolName): void;
  readonly selection: readonly string[];
  selectAll(): void;
  clearSelection(): void;
  readonly style: StyleValues;
  /** Applies to the selection (one undo step) and to new shapes. */
  setStyle(patch: Partial<StyleValues>): void;
  deleteSelection(): void;
  duplicateSelection(): void;
  bringForward(): void;
  sendBackward(): void;
  bringToFront(): void;
  sendToBack(): void;
  toggleLock(): void;
  undo(): void;
  redo(): void;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  /** This person's undo history (local origin only); exposed for the test hook. */
  readonly undoManager: Y.UndoManager;
  readonly zoom: number;
  zoomIn(): void;
  zoomOut(): void;
  zoomTo(z: number): void;
  zoomToFit(): void;
  zoomToSelection(): void;
  gridVisible: boolean;
  follow(clientId: number | null): void;
  readonly following: number | null;
  exportPng(opts?: { selectionOnly?: boolean; scale?: number }): Promise<Blob>;
  exportSvg(opts?: { selectionOnly?: boolean }): Promise<string>;
  /** Tool-level keys (Escape, Delete/Backspace, arrows nudge); true when handled. */
  handleKey(e: KeyboardEvent): boolean;
  /** Tool, selection, style, zoom, undo state or following changed. */
  on(event: 'change', cb: () => void): () => void;
  destroy(): void;
}

const WHEEL_ZOOM_SPEED = 0.0045;
/** Past this many elements a gesture is shown to others only when it ends (awareness stays small). */
const MAX_SHARED_PREVIEW = 200;

function isTypingTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return (
    t.isContentEditable ||
    t.tagName === 'INPUT' ||
    t.tagName === 'TEXTAREA' ||
    t.tagName === 'SELECT'
  );
}

/** Creates the editor for one board inside `opts.container`. */
export function createEditor(opts: EditorOptions): Editor {
  const { container, awareness, readOnly } = opts;
  const model = new BoardModel(opts.doc);
  if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('aria-label', 'Board canvas');
  canvas.setAttribute('role', 'img');
  canvas.tabIndex = -1;
  canvas.style.cssText =
    'position:absolute;inset:0;width:100%;height:100%;display:block;touch-action:none;outline:none;';
  container.append(canvas);
  const renderer: Renderer = createRenderer(canvas, model, { assetUrl: opts.assetUrl });
  renderer.resize();
  // Dark mode follows the page's theme (`data-theme` on <html>, which the UI sets).
  const pageIsDark = () => document.documentElement.dataset.theme === 'dark';
  renderer.dark = pageIsDark();
  const themeObserver = new MutationObserver(() => {
    renderer.dark = pageIsDark();
    textEditor?.place(renderer.camera);
  });
  themeObserver.observe(document.documentElement, {
    attributes: true,
    attributeFilter: ['data-theme'],
  });
  const cursors = new CursorLayer(container);
  const publisher = new Publisher(awareness);
  const tools = createTools();
  const listeners = new Set<() => void>();

  let toolName: ToolName = readOnly ? 'hand' : 'select';
  let selection = new Set<string>();
  let style: StyleValues = { ...DEFAULT_STYLE };
  let preview: Preview | null = null;
  let peers: Peer[] = [];
  /** This person's colour as others see it (resolved against everyone present). */
  let ownColour = opts.user.colour;
  let following: number | null = null;
  let textEditor: TextEditor | null = null;
  let laserTrail: [number, number, number][] = [];
  let activePointer: number | null = null;
  let panning: { last: Point } | null = null;
  let spaceDown = false;
  const touches = new Map<number, Point>();
  let pinch: { dist: number; mid: Point } | null = null;
  let lastCursor: Point | null = null;
  let destroyed = false;

  function emit(): void {
    for (const cb of listeners) cb();
  }

  function current(): Tool {
    return tools[toolName];
  }

  function setCamera(c: Camera, userMoved = true): void {
    if (userMoved && following !== null) {
      following = null;
      emit();
    }
    const zoomChanged = c.zoom !== renderer.camera.zoom;
    renderer.setCamera(c);
    afterCamera();
    if (zoomChanged) emit();
  }

  function afterCamera(): void {
    const c = renderer.camera;
    cursors.update(peers, c);
    textEditor?.place(c);
    publisher.set('viewport', {
      x: c.x,
      y: c.y,
      zoom: c.zoom,
      w: renderer.width,
      h: renderer.height,
    });
  }

  function updateHidden(): void {
    const hidden = new Set<string>(preview?.replaces ?? []);
    for (const p of peers) for (const id of p.gesture?.replaces ?? []) hidden.add(id);
    if (textEditor) hidden.add(textEditor.id);
    renderer.setHidden(hidden);
  }

  function setSelection(ids: Iterable<string>): void {
    const next = new Set([...ids].filter((id) => model.get(id)));
    const same = next.size === selection.size && [...next].every((id) => selection.has(id));
    if (same) return;
    selection = next;
    publisher.set('selection', [...selection]);
    renderer.requestFrame();
    emit();
  }

  function setPreview(p: Preview | null): void {
    preview = p;
    const big = (p?.elements?.length ?? 0) > MAX_SHARED_PREVIEW;
    publisher.set('gesture', big ? { marquee: p?.marquee } : p);
    updateHidden();
    renderer.requestFrame();
  }

  function openText(id: string, isNew: boolean): void {
    textEditor?.close();
    const ed = new TextEditor(
      container,
      model,
      id,
      isNew,
      () => {
        if (textEditor === ed) textEditor = null;
        updateHidden();
        renderer.requestFrame();
        emit();
      },
      () => renderer.ink,
    );
    textEditor = ed;
    ed.place(renderer.camera);
    updateHidden();
    requestAnimationFrame(() => ed.focus());
    ed.focus();
  }

  async function insertImage(file: Blob, at: Point): Promise<void> {
    if (readOnly) return;
    const asset = await opts.uploadImage(file);
    const c = renderer.camera;
    const maxW = (renderer.width / c.zoom) * 0.6;
    const maxH = (renderer.height / c.zoom) * 0.6;
    const s = Math.min(1, maxW / Math.max(asset.w, 1), maxH / Math.max(asset.h, 1));
    const w = Math.round(Math.max(asset.w, 1) * s);
    const h = Math.round(Math.max(asset.h, 1) * s);
    const el: BoardElement = {
      ...style,
      fill: 'none',
      id: newId(),
      type: 'image',
      index: model.nextIndex(),
      geom: { x: Math.round(at.x - w / 2), y: Math.round(at.y - h / 2), w, h, rot: 0 },
      assetId: asset.id,
      locked: false,
      createdBy: opts.user.id,
    };
    model.transact(() => {
      model.addAsset(asset.id, { mime: asset.mime, w: asset.w, h: asset.h, hash: asset.hash });
      model.add([el]);
    });
    model.stopCapturing();
    setSelection([el.id]);
  }

  function viewportCentre(): Point {
    return screenToBoard(renderer.camera, { x: renderer.width / 2, y: renderer.height / 2 });
  }

  function pickImage(at: Point): void {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = 'image/png,image/jpeg,image/gif,image/webp';
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (file) void insertImage(file, at).catch(reportError);
    });
    input.click();
  }

  function laser(p: Point): void {
    const now = Date.now();
    laserTrail = laserTrail.filter((q) => now - q[2] < LASER_MS);
    laserTrail.push([Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10, now]);
    publisher.set('laser', laserTrail);
    renderer.requestFrame();
  }

  const ctx: ToolContext = {
    model,
    renderer,
    get camera() {
      return renderer.camera;
    },
    get style() {
      return style;
    },
    userId: opts.user.id,
    readOnly,
    get selection() {
      return selection;
    },
    setSelection,
    setPreview,
    setCamera: (c) => setCamera(c),
    setTool: (t) => editor.setTool(t),
    editText: openText,
    laser,
    pickImage,
    tolerance: (px) => px / renderer.camera.zoom,
    repaint: () => renderer.requestFrame(),
  };

  // Overlay: remote selections and gestures, the local preview, tool chrome, lasers.
  renderer.setOverlay((g, camera) => {
    const env = { zoom: camera.zoom, images: renderer.images, ink: renderer.ink };
    const now = Date.now();
    let animating = false;
    g.save();
    g.setTransform(
      g.getTransform().scale(camera.zoom, camera.zoom).translate(-camera.x, -camera.y),
    );
    for (const peer of peers) {
      g.globalAlpha = 1;
      for (const el of peer.gesture?.elements ?? []) drawElement(g, el, env);
    }
    for (const el of preview?.elements ?? []) drawElement(g, el, env);
    g.restore();
    for (const peer of peers) {
      g.strokeStyle = peer.user.colour;
      g.lineWidth = 1.5;
      const moving = new Map((peer.gesture?.elements ?? []).map((el) => [el.id, el]));
      for (const id of peer.selection) {
        const el = moving.get(id) ?? model.get(id);
        if (el) strokeBox(g, camera, elementBounds(el), 4);
      }
      if (peer.gesture?.marquee) marquee(g, camera, peer.gesture.marquee, peer.user.colour);
      if (peer.laser.length > 0) {
        const newest = Math.max(...peer.laser.map((p) => p[2]));
        const seen = peerLaserSeen.get(peer.clientId);
        const since = seen && seen.newest === newest ? now - seen.at : 0;
        if (!seen || seen.newest !== newest) peerLaserSeen.set(peer.clientId, { newest, at: now });
        animating = drawLaser(g, camera, peer.laser, newest + since, peer.user.colour) || animating;
      }
    }
    if (preview?.marquee) marquee(g, camera, preview.marquee, '#4c6ef5');
    if (!textEditor) current().overlay?.(ctx, g, camera);
    if (laserTrail.length > 0)
      animating = drawLaser(g, camera, laserTrail, now, ownColour) || animating;
    if (animating) renderer.requestFrame();
  });
  const peerLaserSeen = new Map<number, { newest: number; at: number }>();

  // Presence.
  function readPeers(): void {
    const states = awareness.getStates() as Map<number, Record<string, unknown>>;
    const colours = resolveColours(states);
    ownColour = colours.get(awareness.clientID) ?? opts.user.colour;
    const next: Peer[] = [];
    states.forEach((state, clientId) => {
      if (clientId === awareness.clientID) return;
      const peer = readPeer(clientId, state);
      if (!peer) return;
      peer.user.colour = colours.get(clientId) ?? peer.user.colour;
      next.push(peer);
    });
    peers = next;
    cursors.update(peers, renderer.camera);
    updateHidden();
    if (following !== null) {
      const f = peers.find((p) => p.clientId === following);
      if (!f) {
        following = null;
        emit();
      } else if (f.viewport) {
        const v = f.viewport;
        const cx = v.x + v.w / 2 / v.zoom;
        const cy = v.y + v.h / 2 / v.zoom;
        const z = v.zoom;
        setCamera(
          { x: cx - renderer.width / 2 / z, y: cy - renderer.height / 2 / z, zoom: z },
          false,
        );
      }
    }
    renderer.requestFrame();
  }
  const onAwareness = () => readPeers();
  awareness.on('change', onAwareness);
  const local = awareness.getLocalState() ?? {};
  awareness.setLocalState({
    ...local,
    user: (local as Record<string, unknown>).user ?? opts.user,
    cursor: null,
    selection: [],
    gesture: null,
    laser: [],
  });
  readPeers();

  // Model changes: drop vanished ids from the selection; undo state for the UI.
  const offModel = model.onChange((c) => {
    let gone = false;
    for (const id of c.elements) if (selection.has(id) && !model.get(id)) gone = true;
    if (gone) setSelection([...selection]);
    if (textEditor) textEditor.place(renderer.camera);
    renderer.requestFrame();
  });
  const onStack = () => emit();
  model.undoManager.on('stack-item-added', onStack);
  model.undoManager.on('stack-item-popped', onStack);

  // Pointer input.
  function pointer(e: PointerEvent): ToolPointer {
    const rect = canvas.getBoundingClientRect();
    const screen = { x: e.clientX - rect.left, y: e.clientY - rect.top };
    const samples =
      typeof e.getCoalescedEvents === 'function'
        ? e
            .getCoalescedEvents()
            .slice(0, -1)
            .map((s) =>
              screenToBoard(renderer.camera, { x: s.clientX - rect.left, y: s.clientY - rect.top }),
            )
        : [];
    return {
      board: screenToBoard(renderer.camera, screen),
      screen,
      shift: e.shiftKey,
      alt: e.altKey,
      mod: e.ctrlKey || e.metaKey,
      pressure: e.pointerType === 'pen' ? e.pressure : undefined,
      pointerType: e.pointerType,
      samples,
    };
  }

  function updateCursor(p: Point | null): void {
    canvas.style.cursor =
      panning || spaceDown ? (panning ? 'grabbing' : 'grab') : current().cursor(ctx, p);
  }

  function onPointerDown(e: PointerEvent): void {
    if (textEditor) {
      textEditor.close();
      if (toolName === 'select') return;
    }
    canvas.focus({ preventScroll: true });
    const p = pointer(e);
    if (e.pointerType === 'touch') {
      touches.set(e.pointerId, p.screen);
      if (touches.size === 2) {
        if (activePointer !== null) current().cancel(ctx);
        activePointer = null;
        const [a, b] = [...touches.values()];
        if (a && b)
          pinch = {
            dist: Math.hypot(a.x - b.x, a.y - b.y),
            mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 },
          };
        return;
      }
    }
    if (activePointer !== null) return;
    canvas.setPointerCapture(e.pointerId);
    activePointer = e.pointerId;
    if (e.button === 1 || spaceDown || (e.button === 0 && toolName === 'hand')) {
      panning = { last: p.screen };
      updateCursor(p.board);
      e.preventDefault();
      return;
    }
    if (e.button !== 0) {
      activePointer = null;
      return;
    }
    current().down(ctx, p);
    renderer.requestFrame();
  }

  function onPointerMove(e: PointerEvent): void {
    const p = pointer(e);
    if (e.pointerType === 'touch' && touches.has(e.pointerId)) {
      touches.set(e.pointerId, p.screen);
      if (pinch && touches.size >= 2) {
        const [a, b] = [...touches.values()];
        if (a && b) {
          const dist = Math.hypot(a.x - b.x, a.y - b.y);
          const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
          let c = panBy(renderer.camera, mid.x - pinch.mid.x, mid.y - pinch.mid.y);
          c = zoomAt(c, c.zoom * (dist / Math.max(pinch.dist, 1)), mid);
          pinch = { dist, mid };
          setCamera(c);
        }
        return;
      }
    }
    if (e.pointerType !== 'touch') {
      lastCursor = p.board;
      publisher.set('cursor', {
        x: Math.round(p.board.x * 10) / 10,
        y: Math.round(p.board.y * 10) / 10,
      });
    }
    if (e.pointerId !== activePointer) {
      updateCursor(p.board);
      if (activePointer === null && e.pointerType !== 'touch') current().hover?.(ctx, p.board);
      return;
    }
    if (panning) {
      setCamera(panBy(renderer.camera, p.screen.x - panning.last.x, p.screen.y - panning.last.y));
      panning.last = p.screen;
      return;
    }
    current().move(ctx, p);
    renderer.requestFrame();
  }

  function onPointerUp(e: PointerEvent): void {
    touches.delete(e.pointerId);
    if (touches.size < 2) pinch = null;
    if (e.pointerId !== activePointer) return;
    activePointer = null;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    if (panning) {
      panning = null;
      updateCursor(null);
      return;
    }
    current().up(ctx, pointer(e));
    updateCursor(pointer(e).board);
    renderer.requestFrame();
    emit();
  }

  function onPointerCancel(e: PointerEvent): void {
    touches.delete(e.pointerId);
    if (touches.size < 2) pinch = null;
    if (e.pointerId !== activePointer) return;
    activePointer = null;
    panning = null;
    current().cancel(ctx);
  }

  function onPointerLeave(e: PointerEvent): void {
    if (e.pointerType !== 'touch' && activePointer === null) {
      lastCursor = null;
      publisher.set('cursor', null);
      current().hover?.(ctx, null);
    }
  }

  function onDoubleClick(e: MouseEvent): void {
    const rect = canvas.getBoundingClientRect();
    const screen = { x: e.clientX - rect.left, y: e.clientY - rect.top };
    const p: ToolPointer = {
      board: screenToBoard(renderer.camera, screen),
      screen,
      shift: e.shiftKey,
      alt: e.altKey,
      mod: e.ctrlKey || e.metaKey,
      pressure: undefined,
      pointerType: 'mouse',
      samples: [],
    };
    current().doubleClick?.(ctx, p);
  }

  function onWheel(e: WheelEvent): void {
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const at = { x: e.clientX - rect.left, y: e.clientY - rect.top };
    const scale = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? renderer.height : 1;
    const dx = e.deltaX * scale;
    const dy = e.deltaY * scale;
    if (e.ctrlKey || e.metaKey) {
      const c = renderer.camera;
      setCamera(zoomAt(c, c.zoom * Math.exp(-dy * WHEEL_ZOOM_SPEED), at));
    } else if (e.shiftKey && dx === 0) setCamera(panBy(renderer.camera, -dy, 0));
    else setCamera(panBy(renderer.camera, -dx, -dy));
  }

  function onKeyDown(e: KeyboardEvent): void {
    if (e.code === 'Space' && !isTypingTarget(e.target) && !e.repeat) {
      spaceDown = true;
      updateCursor(lastCursor);
      if (e.target === document.body || e.target === canvas) e.preventDefault();
    }
  }
  function onKeyUp(e: KeyboardEvent): void {
    if (e.code === 'Space') {
      spaceDown = false;
      updateCursor(lastCursor);
    }
  }

  function onPaste(e: ClipboardEvent): void {
    if (readOnly || isTypingTarget(e.target)) return;
    const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (!file) return;
    e.preventDefault();
    void insertImage(file, lastCursor ?? viewportCentre()).catch(reportError);
  }
  function onDragOver(e: DragEvent): void {
    if (readOnly) return;
    if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault();
  }
  function onDrop(e: DragEvent): void {
    if (readOnly) return;
    const files = [...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (files.length === 0) return;
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const at = screenToBoard(renderer.camera, {
      x: e.clientX - rect.left,
      y: e.clientY - rect.top,
    });
    files.forEach(
      (f, i) => void insertImage(f, { x: at.x + i * 24, y: at.y + i * 24 }).catch(reportError),
    );
  }

  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerCancel);
  canvas.addEventListener('pointerleave', onPointerLeave);
  canvas.addEventListener('dblclick', onDoubleClick);
  canvas.addEventListener('wheel', onWheel, { passive: false });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  container.addEventListener('dragover', onDragOver);
  container.addEventListener('drop', onDrop);
  window.addEventListener('keydown', onKeyDown);
  window.addEventListener('keyup', onKeyUp);
  window.addEventListener('paste', onPaste);
  const resizeObserver = new ResizeObserver(() => {
    renderer.resize();
    afterCamera();
  });
  resizeObserver.observe(container);
  afterCamera();
  updateCursor(null);

  function selectedElements(): BoardElement[] {
    const out: BoardElement[] = [];
    for (const id of selection) {
      const el = model.get(id);
      if (el) out.push(el);
    }
    return out.sort(compareOrder);
  }

  function exportElements(selectionOnly: boolean | undefined): BoardElement[] {
    return selectionOnly && selection.size > 0 ? selectedElements() : [...model.ordered()];
  }

  function loadImage(assetId: string): Promise<CanvasImageSource | null> {
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => resolve(null);
      img.src = opts.assetUrl(assetId);
    });
  }

  function nudge(dx: number, dy: number): void {
    const geoms = new Map(
      selectedElements()
        .filter((e) => !e.locked)
        .map((e) => [e.id, { ...e.geom, x: e.geom.x + dx, y: e.geom.y + dy }]),
    );
    model.setGeoms(geoms);
    model.stopCapturing();
  }

  const editor: Editor = {
    get tool() {
      return toolName;
    },
    setTool(t: ToolName) {
      if (readOnly && !VIEWER_TOOLS.includes(t)) return;
      if (t === toolName) return;
      current().cancel(ctx);
      textEditor?.close();
      toolName = t;
      if (t !== 'select') setSelection([]);
      updateCursor(lastCursor);
      renderer.requestFrame();
      emit();
    },
    get selection() {
      return [...selection];
    },
    selectAll() {
      setSelection(model.ordered().map((e) => e.id));
    },
    clearSelection() {
      setSelection([]);
    },
    get style() {
      return style;
    },
    setStyle(patch: Partial<StyleValues>) {
      style = { ...style, ...patch };
      if (!readOnly && selection.size > 0) {
        const ids = [...selection];
        const { fill, ...rest } = patch;
        model.transact(() => {
          model.setStyle(ids, rest);
          if (fill !== undefined) {
            const fillable = ids.filter((id) => {
              const t = model.get(id)?.type;
              return t === 'rect' || t === 'ellipse' || (t === 'sticky' && fill !== 'none');
            });
            model.setStyle(fillable, { fill });
          }
        });
        model.stopCapturing();
      }
      emit();
    },
    deleteSelection() {
      if (readOnly || selection.size === 0) return;
      model.delete(selection);
      model.stopCapturing();
      setSelection([]);
    },
    duplicateSelection() {
      if (readOnly || selection.size === 0) return;
      const copies = selectedElements().map((el) => ({
        ...el,
        id: newId(),
        locked: false,
        createdBy: opts.user.id,
        geom: { ...el.geom, x: el.geom.x + 16, y: el.geom.y + 16 },
      }));
      model.add(copies);
      model.stopCapturing();
      setSelection(copies.map((c) => c.id));
    },
    bringForward() {
      if (!readOnly) model.step(selection, 1);
    },
    sendBackward() {
      if (!readOnly) model.step(selection, -1);
    },
    bringToFront() {
      if (!readOnly) model.toEdge(selection, true);
    },
    sendToBack() {
      if (!readOnly) model.toEdge(selection, false);
    },
    toggleLock() {
      if (readOnly || selection.size === 0) return;
      const lock = selectedElements().some((e) => !e.locked);
      model.setLocked(selection, lock);
      model.stopCapturing();
      renderer.requestFrame();
      emit();
    },
    undo() {
      if (readOnly) return;
      current().cancel(ctx);
      model.undoManager.undo();
      setSelection([...selection]);
      emit();
    },
    redo() {
      if (readOnly) return;
      current().cancel(ctx);
      model.undoManager.redo();
      setSelection([...selection]);
      emit();
    },
    undoManager: model.undoManager,
    get canUndo() {
      return !readOnly && model.undoManager.canUndo();
    },
    get canRedo() {
      return !readOnly && model.undoManager.canRedo();
    },
    get zoom() {
      return renderer.camera.zoom;
    },
    zoomIn() {
      const c = renderer.camera;
      setCamera(zoomAt(c, stepZoom(c.zoom, 1), { x: renderer.width / 2, y: renderer.height / 2 }));
    },
    zoomOut() {
      const c = renderer.camera;
      setCamera(zoomAt(c, stepZoom(c.zoom, -1), { x: renderer.width / 2, y: renderer.height / 2 }));
    },
    zoomTo(z: number) {
      setCamera(zoomAt(renderer.camera, z, { x: renderer.width / 2, y: renderer.height / 2 }));
    },
    zoomToFit() {
      const box = renderer.index.extent();
      if (box) setCamera(fitBox(box, renderer.width, renderer.height));
    },
    zoomToSelection() {
      let box: Box | null = null;
      for (const el of selectedElements())
        box = box ? unionBox(box, elementBounds(el)) : elementBounds(el);
      if (box) setCamera(fitBox(box, renderer.width, renderer.height, 64, 2));
      else editor.zoomToFit();
    },
    get gridVisible() {
      return renderer.gridVisible;
    },
    set gridVisible(v: boolean) {
      renderer.gridVisible = v;
      emit();
    },
    follow(clientId: number | null) {
      following = clientId;
      readPeers();
      emit();
    },
    get following() {
      return following;
    },
    exportPng(o = {}) {
      return renderPng(exportElements(o.selectionOnly), loadImage, { scale: o.scale ?? 2 });
    },
    exportSvg(o = {}) {
      return renderSvg(exportElements(o.selectionOnly), (id) => dataUrl(opts.assetUrl(id)));
    },
    handleKey(e: KeyboardEvent) {
      if (isTypingTarget(e.target)) return false;
      if (e.key === 'Escape') {
        if (activePointer !== null || preview) {
          current().cancel(ctx);
          activePointer = null;
        } else if (toolName !== (readOnly ? 'hand' : 'select'))
          editor.setTool(readOnly ? 'hand' : 'select');
        else setSelection([]);
        return true;
      }
      if ((e.key === 'Delete' || e.key === 'Backspace') && selection.size > 0) {
        editor.deleteSelection();
        return true;
      }
      const step = e.shiftKey ? 10 : 1;
      const arrows: Record<string, [number, number]> = {
        ArrowLeft: [-step, 0],
        ArrowRight: [step, 0],
        ArrowUp: [0, -step],
        ArrowDown: [0, step],
      };
      const d = arrows[e.key];
      if (d && selection.size > 0 && !readOnly) {
        nudge(d[0], d[1]);
        return true;
      }
      if (e.key === 'Enter' && selection.size === 1 && !readOnly) {
        const [only] = selectedElements();
        if (only && isTextLike(only.type) && !only.locked) {
          openText(only.id, false);
          return true;
        }
      }
      return false;
    },
    on(_event: 'change', cb: () => void) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      themeObserver.disconnect();
      textEditor?.close();
      resizeObserver.disconnect();
      canvas.removeEventListener('pointerdown', onPointerDown);
      canvas.removeEventListener('pointermove', onPointerMove);
      canvas.removeEventListener('pointerup', onPointerUp);
      canvas.removeEventListener('pointercancel', onPointerCancel);
      canvas.removeEventListener('pointerleave', onPointerLeave);
      canvas.removeEventListener('dblclick', onDoubleClick);
      canvas.removeEventListener('wheel', onWheel);
      container.removeEventListener('dragover', onDragOver);
      container.removeEventListener('drop', onDrop);
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('keyup', onKeyUp);
      window.removeEventListener('paste', onPaste);
      awareness.off('change', onAwareness);
      model.undoManager.off('stack-item-added', onStack);
      model.undoManager.off('stack-item-popped', onStack);
      offModel();
      publisher.destroy();
      awareness.setLocalStateField('cursor', null);
      cursors.destroy();
      renderer.destroy();
      model.destroy();
      canvas.remove();
      listeners.clear();
    },
  };
  return editor;
}

function strokeBox(g: CanvasRenderingContext2D, camera: Camera, box: Box, pad: number): void {
  const a = boardToScreen(camera, { x: box.minX, y: box.minY });
  const b = boardToScreen(camera, { x: box.maxX, y: box.maxY });
  g.setLineDash([]);
  g.beginPath();
  g.roundRect(a.x - pad, a.y - pad, b.x - a.x + 2 * pad, b.y - a.y + 2 * pad, 3);
  g.stroke();
}

function marquee(g: CanvasRenderingContext2D, camera: Camera, box: Box, colour: string): void {
  const r = boxFromPoints(
    boardToScreen(camera, { x: box.minX, y: box.minY }),
    boardToScreen(camera, { x: box.maxX, y: box.maxY }),
  );
  g.save();
  g.fillStyle = colour;
  g.globalAlpha = 0.08;
  g.fillRect(r.minX, r.minY, r.maxX - r.minX, r.maxY - r.minY);
  g.globalAlpha = 0.8;
  g.strokeStyle = colour;
  g.lineWidth = 1;
  g.strokeRect(r.minX + 0.5, r.minY + 0.5, r.maxX - r.minX, r.maxY - r.minY);
  g.restore();
}

/** Draws a fading laser trail; answers whether any of it is still visible. */
function drawLaser(
  g: CanvasRenderingContext2D,
  camera: Camera,
  trail: readonly [number, number, number][],
  now: number,
  colour: string,
): boolean {
  const live = trail.filter((p) => now - p[2] < LASER_MS);
  if (live.length === 0) return false;
  g.save();
  g.lineCap = 'round';
  g.lineJoin = 'round';
  g.strokeStyle = colour;
  g.shadowColor = colour;
  g.shadowBlur = 8;
  for (let i = 1; i < live.length; i++) {
    const a = live[i - 1];
    const b = live[i];
    if (!a || !b) continue;
    const life = 1 - (now - b[2]) / LASER_MS;
    g.globalAlpha = Math.max(0, life);
    g.lineWidth = 2 + 3 * life;
    const sa = boardToScreen(camera, { x: a[0], y: a[1] });
    const sb = boardToScreen(camera, { x: b[0], y: b[1] });
    g.beginPath();
    g.moveTo(sa.x, sa.y);
    g.lineTo(sb.x, sb.y);
    g.stroke();
  }
  const head = live[live.length - 1];
  if (head) {
    const s = boardToScreen(camera, { x: head[0], y: head[1] });
    g.globalAlpha = Math.max(0, 1 - (now - head[2]) / LASER_MS);
    g.fillStyle = colour;
    g.beginPath();
    g.arc(s.x, s.y, 4, 0, Math.PI * 2);
    g.fill();
  }
  g.restore();
  return true;
}
