// A lightweight y-sync client over `ws`, for load generation.
//
// It speaks the standard y-sync protocol (y-protocols: sync + awareness, one message per
// frame) the way y-websocket's WebsocketProvider does, without the provider's timers,
// reconnect logic and BroadcastChannel, so that a single Node process can drive hundreds
// of clients (or thousands of idle ones) without becoming the bottleneck.
//
// Two wire flavours:
//   'ysync'      — plain y-sync frames (Easel, @y/websocket-server): [type][payload]
//   'hocuspocus' — Hocuspocus framing: [varString documentName][type][payload], opened by an
//                  Auth/Token message; server sends SyncReply (4), SyncStatus (8), Ping (9).
//
// With a Y.Doc the client applies everything it receives (as a real client does); without
// one ("idle" mode) it answers the server's step 1 with the step 2 of an empty document and
// only records what arrives.
'use strict'

const WebSocket = require('ws')
const Y = require('yjs')
const syncProtocol = require('y-protocols/sync')
const encoding = require('lib0/encoding')
const decoding = require('lib0/decoding')

const MSG_SYNC = 0
const MSG_AWARENESS = 1
const MSG_AUTH = 2
const MSG_QUERY_AWARENESS = 3
const HP_SYNC_REPLY = 4
const HP_SYNC_STATUS = 8
const HP_PING = 9
const HP_PONG = 10
const HP_AUTH_TOKEN = 0
const HP_AUTH_DENIED = 1

const EMPTY_STATE_VECTOR = new Uint8Array([0])
const EMPTY_UPDATE = new Uint8Array([0, 0])

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
const now = () => performance.timeOrigin + performance.now()

/** A shape as a whiteboard stores it (~150 bytes as a Y.Map entry). */
function makeShape (i, t) {
  return {
    type: (i & 1) ? 'rect' : 'ellipse',
    geom: { x: 100 + (i * 37) % 1900 + 0.5, y: 80 + (i * 53) % 1100 + 0.25, w: 160, h: 90, rot: 0 },
    stroke: '#1e1e1e',
    fill: '#a5d8ff',
    strokeWidth: 2,
    opacity: 1,
    z: i,
    t
  }
}

/** An awareness update (y-protocols/awareness encoding) with one client's state. */
function encodeAwarenessState (clientID, clock, state) {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 1)
  encoding.writeVarUint(enc, clientID)
  encoding.writeVarUint(enc, clock)
  encoding.writeVarString(enc, JSON.stringify(state))
  return encoding.toUint8Array(enc)
}

/** Decodes an awareness update's client ids with non-null states. */
function awarenessClients (update) {
  const dec = decoding.createDecoder(update)
  const n = decoding.readVarUint(dec)
  const ids = []
  for (let i = 0; i < n; i++) {
    const id = decoding.readVarUint(dec)
    decoding.readVarUint(dec)
    const json = decoding.readVarString(dec)
    if (json !== 'null') ids.push(id)
  }
  return ids
}

class Client {
  /**
   * @param {object} o
   * @param {string} o.url WebSocket URL
   * @param {'ysync'|'hocuspocus'} o.flavor
   * @param {string} [o.docName] Hocuspocus document name
   * @param {string} [o.token] Hocuspocus auth token
   * @param {boolean} [o.withDoc] keep a Y.Doc and apply what arrives
   * @param {object|null} [o.awareness] local awareness state to announce on open
   * @param {string} [o.localAddress] source address (spreads ephemeral ports over 127.0.0.x)
   * @param {boolean} [o.keepAwareness] decode awareness updates and keep client ids seen
   * @param {function} [o.onUpdate] (client, authorClientID, clock) for every update message
   *   received, read from its first struct without decoding the rest
   */
  constructor (o) {
    this.o = o
    this.hocus = o.flavor === 'hocuspocus'
    this.doc = o.withDoc ? new Y.Doc() : null
    this.shapes = this.doc ? this.doc.getMap('shapes') : null
    this.clientID = this.doc ? this.doc.clientID : Math.floor(Math.random() * 0xffffffff)
    this.ws = null
    this.tStart = 0
    this.tOpen = 0
    this.tSynced = 0
    this.tStep2 = 0
    this.synced = false
    this.closed = false
    this.closing = false
    this.closeCode = null
    this.closeReason = ''
    this.error = null
    this.msgsIn = 0
    this.bytesIn = 0
    this.updatesIn = 0
    this.awarenessIn = 0
    // Document bytes received by the time the client synced: its step 2 and any updates
    // before it (a server may send a fresh client the latest updates, then the step 2).
    this.syncBytes = 0
    this.awarenessSeen = o.keepAwareness ? new Set() : null
    this._onSynced = []
    this._onClosed = []
    if (this.doc) {
      this.doc.on('update', (update, origin) => {
        if (origin !== this) this.sendUpdate(update)
      })
    }
  }

  _frame (type, write) {
    const enc = encoding.createEncoder()
    if (this.hocus) encoding.writeVarString(enc, this.o.docName)
    encoding.writeVarUint(enc, type)
    if (write) write(enc)
    return encoding.toUint8Array(enc)
  }

  send (bytes) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes)
  }

  sendUpdate (update) {
    this.send(this._frame(MSG_SYNC, (enc) => syncProtocol.writeUpdate(enc, update)))
  }

  sendAwareness (state, clock = 1) {
    const update = encodeAwarenessState(this.clientID, clock, state)
    this.send(this._frame(MSG_AWARENESS, (enc) => encoding.writeVarUint8Array(enc, update)))
  }

  /** Opens the socket; resolves when it is open (rejects on error before open). */
  open () {
    this.tStart = now()
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.o.url, {
        perMessageDeflate: false,
        handshakeTimeout: 30_000,
        localAddress: this.o.localAddress
      })
      this.ws = ws
      let opened = false
      ws.on('open', () => {
        opened = true
        this.tOpen = now()
        if (this.hocus) {
          this.send(this._frame(MSG_AUTH, (enc) => {
            encoding.writeVarUint(enc, HP_AUTH_TOKEN)
            encoding.writeVarString(enc, this.o.token || '')
          }))
        }
        this.send(this._frame(MSG_SYNC, (enc) => {
          encoding.writeVarUint(enc, syncProtocol.messageYjsSyncStep1)
          encoding.writeVarUint8Array(enc, this.doc ? Y.encodeStateVector(this.doc) : EMPTY_STATE_VECTOR)
        }))
        if (this.o.awareness) this.sendAwareness(this.o.awareness)
        resolve(this)
      })
      ws.on('message', (data) => this._onMessage(data))
      ws.on('error', (e) => {
        this.error = e
        if (!opened) reject(e)
      })
      ws.on('close', (code, reason) => {
        this.closed = true
        this.closeCode = code
        this.closeReason = reason.toString()
        if (!opened) reject(new Error(`closed before open: ${code} ${this.closeReason}`))
        for (const f of this._onClosed) f(this)
        this._onClosed = []
      })
    })
  }

  /** Resolves when sync step 2 has arrived; rejects on close or after `ms`. */
  whenSynced (ms) {
    if (this.synced) return Promise.resolve(this)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not synced after ${ms} ms`)), ms)
      this._onSynced.push(() => { clearTimeout(timer); resolve(this) })
      this._onClosed.push(() => { clearTimeout(timer); reject(new Error(`closed before sync: ${this.closeCode} ${this.closeReason}`)) })
    })
  }

  /** Closes the socket; resolves once it is closed (forcibly after `ms`). */
  close (ms = 5000) {
    this.closing = true
    if (!this.ws || this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.ws.terminate(); resolve() }, ms)
      this._onClosed.push(() => { clearTimeout(timer); resolve() })
      try { this.ws.close() } catch { this.ws.terminate() }
    })
  }

  get unexpectedlyClosed () {
    return this.closed && !this.closing
  }

  _markSynced () {
    if (this.synced) return
    this.synced = true
    this.tSynced = now()
    for (const f of this._onSynced) f(this)
    this._onSynced = []
  }

  _onMessage (data) {
    this.msgsIn++
    this.bytesIn += data.length
    if (this.hocus && data.length === 1 && data[0] === HP_PING) {
      this.send(new Uint8Array([HP_PONG]))
      return
    }
    const dec = decoding.createDecoder(data)
    if (this.hocus) decoding.readVarString(dec)
    const type = decoding.readVarUint(dec)
    switch (type) {
      case MSG_SYNC:
      case HP_SYNC_REPLY:
        if (!this.tStep2) this._noteStep2(dec)
        this._onSync(dec)
        break
      case MSG_AWARENESS: {
        this.awarenessIn++
        if (this.awarenessSeen) {
          for (const id of awarenessClients(decoding.readVarUint8Array(dec))) this.awarenessSeen.add(id)
        }
        break
      }
      case MSG_AUTH:
        if (this.hocus && decoding.readVarUint(dec) === HP_AUTH_DENIED) {
          this.error = new Error('hocuspocus: permission denied')
        }
        break
      case MSG_QUERY_AWARENESS:
        if (this.o.awareness) this.sendAwareness(this.o.awareness)
        break
      case HP_SYNC_STATUS:
      default:
        break
    }
  }

  /**
   * Records when the first sync step 2 has fully arrived on the socket (`ws` emits a
   * message once all of its frame is in), before anything decodes its payload: the
   * server's part of a join, apart from the client's work of applying the state.
   */
  _noteStep2 (dec) {
    const pos = dec.pos
    if (decoding.readVarUint(dec) === syncProtocol.messageYjsSyncStep2) this.tStep2 = now()
    dec.pos = pos
  }

  /** Reports the first struct (client, clock) of an update message to `o.onUpdate`. */
  _peekUpdate (dec) {
    const pos = dec.pos
    if (decoding.readVarUint(dec) === syncProtocol.messageYjsUpdate) {
      // Update v1: [clients][structs of the first client][client][clock]...
      const bytes = decoding.readVarUint8Array(dec)
      const u = decoding.createDecoder(bytes)
      const clients = decoding.readVarUint(u)
      const structs = clients === 1 ? decoding.readVarUint(u) : 0
      if (clients === 1 && structs === 1) {
        const client = decoding.readVarUint(u)
        const clock = decoding.readVarUint(u)
        if (client !== this.clientID) this.o.onUpdate(this, client, clock)
      } else if (clients > 0) {
        // A server that merges updates (several authors or several structs in one
        // message): decode it to find every struct.
        for (const struct of Y.decodeUpdate(bytes).structs) {
          if (struct.id.client === this.clientID || struct.constructor.name === 'Skip') continue
          for (let i = 0; i < struct.length; i++) this.o.onUpdate(this, struct.id.client, struct.id.clock + i)
        }
      }
    }
    dec.pos = pos
  }

  _onSync (dec) {
    if (this.o.onUpdate) this._peekUpdate(dec)
    if (this.doc) {
      const enc = encoding.createEncoder()
      if (this.hocus) encoding.writeVarString(enc, this.o.docName)
      encoding.writeVarUint(enc, MSG_SYNC)
      const before = encoding.length(enc)
      const sub = syncProtocol.readSyncMessage(dec, enc, this.doc, this)
      if (encoding.length(enc) > before) this.send(encoding.toUint8Array(enc))
      if (sub === syncProtocol.messageYjsSyncStep2) this._markSynced()
      else if (sub === syncProtocol.messageYjsUpdate) this.updatesIn++
      return
    }
    const sub = decoding.readVarUint(dec)
    if (sub === syncProtocol.messageYjsSyncStep1) {
      this.send(this._frame(MSG_SYNC, (enc) => {
        encoding.writeVarUint(enc, syncProtocol.messageYjsSyncStep2)
        encoding.writeVarUint8Array(enc, EMPTY_UPDATE)
      }))
    } else if (sub === syncProtocol.messageYjsSyncStep2) {
      this.syncBytes += decoding.readVarUint8Array(dec).length
      this._markSynced()
    } else {
      if (!this.synced) this.syncBytes += decoding.readVarUint8Array(dec).length
      this.updatesIn++
    }
  }
}

module.exports = { Client, now, makeShape, encodeAwarenessState, awarenessClients }
