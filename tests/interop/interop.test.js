// Interoperability tests: stock `yjs` + `y-websocket` clients (clients we did not write)
// against the real `easel` server binary, over real WebSockets.
//
// Every test starts its own server process on a fresh data directory (and, when
// EASEL_TEST_DATABASE_URL is set, the whole suite runs a second time against a fresh
// Postgres database per test). Board, grants and tokens come from the `easel` CLI.
//
// Run with `node --test` in this folder after `cargo build -p easel --bin easel`
// (scripts/test-interop does both).
'use strict'

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, execFile, execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const WebSocket = require('ws')
const pg = require('pg')

const REPO_ROOT = path.resolve(__dirname, '../..')
const EASEL_BIN = path.join(process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target'), 'debug', 'easel')
const JWT_SECRET = 'interop-test-secret-0123456789abcdefghijklmnop'
const WAIT_MS = 10_000
const TEST_TIMEOUT_MS = 120_000
const SHAPES = 100
const COLOURS = ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2', '#f08c00']

/** Every server process still alive, so that nothing outlives this file even on a crash. */
const liveChildren = new Set()
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL')
})

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Makes a self-signed certificate for localhost and 127.0.0.1 with openssl, in a folder
 * removed after test `t`; returns the paths of its PEM files.
 */
function makeCertificate (t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-interop-tls-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const cert = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-days', '1', '-keyout', key, '-out', cert
  ], { stdio: 'pipe' })
  return { cert, key }
}

/** Polls `predicate` every 20 ms until it is truthy; fails after `timeoutMs` naming `what`. */
async function waitFor (what, predicate, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = predicate()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Whether `GET /healthz` answers 200; over HTTPS trusting `ca` (PEM) alone when given. */
function healthz (port, ca = null) {
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }
    const req = (ca ? https.get({ ...options, ca }, onResponse) : http.get(options, onResponse))
    function onResponse (res) {
      res.resume()
      resolve(res.statusCode === 200)
    }
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}

// ---------------------------------------------------------------------------------------
// Backends: SQLite always; Postgres too when EASEL_TEST_DATABASE_URL is set.

const backends = [{ name: 'sqlite', createDatabase: async () => null }]
if (process.env.EASEL_TEST_DATABASE_URL) {
  const adminUrl = process.env.EASEL_TEST_DATABASE_URL
  backends.push({
    name: 'postgres',
    /** Creates a fresh database; returns its URL and a function that drops it. */
    async createDatabase () {
      const name = `easel_interop_${crypto.randomBytes(6).toString('hex')}`
      const admin = new pg.Client({ connectionString: adminUrl })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE "${name}"`)
      } finally {
        await admin.end()
      }
      const url = new URL(adminUrl)
      url.pathname = `/${name}`
      return {
        url: url.toString(),
        async drop () {
          const c = new pg.Client({ connectionString: adminUrl })
          await c.connect()
          try {
            await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
          } finally {
            await c.end()
          }
        }
      }
    }
  })
}

// ---------------------------------------------------------------------------------------
// One server process (restartable on the same data dir, database and port).

class EaselServer {
  constructor ({ port, dataDir, databaseUrl, env = {} }) {
    this.port = port
    this.env = { ...process.env, EASEL_BIND: `127.0.0.1:${port}`, EASEL_DATA_DIR: dataDir, EASEL_JWT_SECRET: JWT_SECRET, EASEL_LOG: 'warn', ...env }
    delete this.env.DATABASE_URL
    if (databaseUrl) this.env.DATABASE_URL = databaseUrl
    this.child = null
    this.exited = null
    this.stderr = ''
  }

  /** The certificate (PEM) the server serves HTTPS and WSS with, or null for plain HTTP. */
  get ca () {
    return this.env.EASEL_TLS_CERT ? fs.readFileSync(this.env.EASEL_TLS_CERT) : null
  }

  /** `ws` or `wss`, for WebSocket URLs. */
  get wsScheme () {
    return this.env.EASEL_TLS_CERT ? 'wss' : 'ws'
  }

  async start () {
    assert.equal(this.child, null, 'server already running')
    this.stderr = ''
    const child = spawn(EASEL_BIN, ['serve'], { cwd: REPO_ROOT, env: this.env, stdio: ['ignore', 'ignore', 'pipe'] })
    liveChildren.add(child)
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk) => { this.stderr = (this.stderr + chunk).slice(-8000) })
    this.child = child
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        liveChildren.delete(child)
        resolve({ code, signal })
      })
    })
    let gone = null
    this.exited.then((status) => { gone = status })
    const deadline = Date.now() + 20_000
    const ca = this.ca
    while (!(await healthz(this.port, ca))) {
      if (gone) throw new Error(`easel serve exited early (${JSON.stringify(gone)}):\n${this.stderr}`)
      if (Date.now() > deadline) throw new Error(`easel serve not healthy after 20 s:\n${this.stderr}`)
      await sleep(50)
    }
  }

  /** Sends `signal` and waits for the process to exit; SIGKILLs it if it takes over 20 s. */
  async stop (signal = 'SIGTERM') {
    const child = this.child
    if (!child) return null
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const status = await this.exited
    clearTimeout(timer)
    this.child = null
    return status
  }

  /** Runs `easel ARGS...` with this server's settings; resolves to its trimmed stdout. */
  cli (...args) {
    return new Promise((resolve, reject) => {
      execFile(EASEL_BIN, args, { cwd: REPO_ROOT, env: this.env, timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`easel ${args.join(' ')} failed: ${err.message}\n${stderr}`))
        else resolve(stdout.trim())
      })
    })
  }
}

// ---------------------------------------------------------------------------------------
// Per-test context: a server (or several `processes` on one database, each with its own
// data directory and `env`), a board with members, and clients to clean up.

async function setup (t, backend, { processes = 1, env = {} } = {}) {
  const db = await backend.createDatabase()
  const servers = []
  for (let i = 0; i < processes; i++) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-interop-'))
    servers.push(new EaselServer({ port: await freePort(), dataDir, databaseUrl: db && db.url, env }))
  }
  const server = servers[0]
  const clients = []
  t.after(async () => {
    for (const c of clients) c.close()
    for (const s of servers) await s.stop('SIGKILL')
    if (db) await db.drop()
    for (const s of servers) fs.rmSync(s.env.EASEL_DATA_DIR, { recursive: true, force: true })
  })
  for (const s of servers) await s.start()

  const board = await server.cli('board', 'create', '--name', 'Interop board', '--owner', 'alice')
  assert.match(board, /^\S+$/, 'board create prints one id')
  await server.cli('board', 'grant', board, 'bob', 'editor')
  await server.cli('board', 'grant', board, 'carol', 'editor')
  await server.cli('board', 'grant', board, 'victor', 'viewer')
  const tokens = {}
  for (const [user, name] of [['alice', 'Alice'], ['bob', 'Bob'], ['carol', 'Carol'], ['victor', 'Victor']]) {
    tokens[user] = await server.cli('token', '--user', user, '--name', name, '--ttl', '1h')
  }

  /** A stock y-websocket client for `user` on the board (through server `on`); records its events. */
  function connect (user, on = server) {
    const doc = new Y.Doc()
    const ca = on.ca
    // Over wss://, a stock `ws` socket that trusts the test's certificate and nothing else.
    const Socket = ca
      ? class extends WebSocket { constructor (url, protocols) { super(url, protocols, { ca }) } }
      : WebSocket
    const provider = new WebsocketProvider(`${on.wsScheme}://127.0.0.1:${on.port}/ws/boards`, board, doc, {
      params: { token: tokens[user] },
      WebSocketPolyfill: Socket,
      // Node has a global BroadcastChannel: without this, clients in this one process would
      // sync with each other directly, bypassing the server under test.
      disableBc: true,
      connect: false // connected below, once every event is recorded
    })
    const client = {
      user,
      doc,
      provider,
      elements: doc.getMap('elements'),
      statuses: [],
      connectionCloses: [],
      closed: [],
      close () {
        provider.destroy()
        doc.destroy()
      }
    }
    provider.on('status', ({ status }) => client.statuses.push(status))
    provider.on('connection-close', (event) => client.connectionCloses.push(event ? { code: event.code, reason: event.reason } : null))
    provider.on('closed', (event) => client.closed.push(event))
    clients.push(client)
    provider.connect()
    return client
  }

  async function connectSynced (user, on = server) {
    const client = connect(user, on)
    await waitFor(`${user} to sync`, () => client.provider.synced)
    return client
  }

  return { server, servers, board, connect, connectSynced }
}

// ---------------------------------------------------------------------------------------
// Shapes.

function shapeFields (i) {
  return {
    type: 'rect',
    geom: { x: 10 * i, y: 5 * i + 0.5, w: 40 + i, h: 30 + (i % 7), rot: (i % 4) * 0.25 },
    stroke: COLOURS[i % COLOURS.length]
  }
}

const shapeId = (i) => `shape-${String(i).padStart(3, '0')}`

/** Draws one rect the way a whiteboard client would: one transaction per shape. */
function drawShape (client, id, fields) {
  client.doc.transact(() => {
    const el = new Y.Map()
    client.elements.set(id, el)
    for (const [k, v] of Object.entries(fields)) el.set(k, v)
  })
}

function drawShapes (client, n = SHAPES) {
  for (let i = 0; i < n; i++) drawShape(client, shapeId(i), shapeFields(i))
}

/** Asserts that `client` has exactly shapes 0..n-1 (plus `extra` ids), each with its fields. */
function assertShapes (client, n = SHAPES, extra = []) {
  const ids = [...client.elements.keys()].sort()
  const expected = [...Array.from({ length: n }, (_, i) => shapeId(i)), ...extra].sort()
  assert.deepEqual(ids, expected)
  for (let i = 0; i < n; i++) {
    const el = client.elements.get(shapeId(i))
    assert.ok(el instanceof Y.Map, `${shapeId(i)} is a Y.Map`)
    assert.deepEqual(el.toJSON(), shapeFields(i), `${shapeId(i)} fields`)
  }
}

const hasAllShapes = (client, n = SHAPES) => {
  if (client.elements.size < n) return false
  for (let i = 0; i < n; i++) {
    const el = client.elements.get(shapeId(i))
    if (!(el instanceof Y.Map) || el.get('stroke') === undefined) return false
  }
  return true
}

/** A (alice) draws 100 shapes; B (bob, live) sees all of them. Edits reach B only after the store. */
async function drawAndConfirm (ctx) {
  const a = await ctx.connectSynced('alice')
  const b = await ctx.connectSynced('bob')
  drawShapes(a)
  await waitFor(`bob to see ${SHAPES} shapes`, () => hasAllShapes(b))
  assertShapes(b)
  return { a, b }
}

// ---------------------------------------------------------------------------------------

for (const backend of backends) {
  describe(`stock yjs + y-websocket clients (${backend.name})`, { timeout: TEST_TIMEOUT_MS * 8 }, () => {
    test('an editor sees all 100 shapes another member draws, and edits flow both ways', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, backend)
      const { a, b } = await drawAndConfirm(ctx)

      // B moves a shape; A sees it (the server relays the other way as well).
      b.doc.transact(() => b.elements.get(shapeId(7)).set('geom', { x: 1, y: 2, w: 3, h: 4, rot: 0.5 }))
      await waitFor('alice to see the moved shape', () => a.elements.get(shapeId(7)).get('geom').x === 1)
      assert.deepEqual(a.elements.get(shapeId(7)).toJSON(), { ...shapeFields(7), geom: { x: 1, y: 2, w: 3, h: 4, rot: 0.5 } })
      // A third client joining now gets the whole board by sync step 2 alone.
      const c = await ctx.connectSynced('carol')
      await waitFor('carol to see every shape', () => c.elements.size === SHAPES && c.elements.get(shapeId(7)).get('geom').x === 1)
    })

    test('over wss:// (EASEL_TLS_CERT, EASEL_TLS_KEY) an editor sees all 100 shapes another member draws', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { cert, key } = makeCertificate(t)
      const ctx = await setup(t, backend, { env: { EASEL_TLS_CERT: cert, EASEL_TLS_KEY: key } })
      assert.equal(await healthz(ctx.server.port), false, 'plain HTTP is not answered on the TLS port')
      const { a, b } = await drawAndConfirm(ctx)
      assert.match(a.provider.url, /^wss:\/\/127\.0\.0\.1:/)
      assert.match(b.provider.url, /^wss:\/\//)
      drawShape(b, 'from-bob', shapeFields(3))
      await waitFor('alice to see bob\'s shape over wss://', () => a.elements.get('from-bob')?.get('stroke') !== undefined)
    })

    test('awareness: a member sees another one\'s presence, and its removal when it leaves', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, backend)
      const a = await ctx.connectSynced('alice')
      const b = await ctx.connectSynced('bob')
      const aId = a.doc.clientID
      a.provider.awareness.setLocalStateField('user', { name: 'A' })
      await waitFor('bob to see alice\'s presence', () => b.provider.awareness.getStates().get(aId)?.user?.name === 'A')
      assert.deepEqual(b.provider.awareness.getStates().get(aId), { user: { name: 'A' } })

      // A leaves cleanly (y-websocket sends a null awareness state, then closes).
      a.close()
      await waitFor('alice\'s presence to be removed at bob', () => !b.provider.awareness.getStates().has(aId), 5000)

      // C vanishes without a goodbye (TCP torn down, no null state sent): the server must
      // remove its presence on its own, well before y-protocols' 30 s outdated timeout.
      const c = await ctx.connectSynced('carol')
      const cId = c.doc.clientID
      c.provider.awareness.setLocalStateField('user', { name: 'C' })
      await waitFor('bob to see carol\'s presence', () => b.provider.awareness.getStates().get(cId)?.user?.name === 'C')
      c.provider.shouldConnect = false
      c.provider.ws.terminate()
      await waitFor('carol\'s presence to be removed at bob after her socket died', () => !b.provider.awareness.getStates().has(cId), 5000)
    })

    test('a graceful restart (SIGTERM) keeps all 100 shapes for a fresh client', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, backend)
      const { a, b } = await drawAndConfirm(ctx)
      // Close the old clients first: on reconnect they would push their own copy back to
      // the server and hide a store that lost the edits.
      a.close()
      b.close()
      const status = await ctx.server.stop('SIGTERM')
      assert.deepEqual(status, { code: 0, signal: null }, `easel serve exit after SIGTERM; stderr:\n${ctx.server.stderr}`)
      await ctx.server.start()
      const c = await ctx.connectSynced('carol')
      assertShapes(c)
    })

    test('a crash (SIGKILL) right after the edits were relayed keeps all 100 shapes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, backend)
      const { a, b } = await drawAndConfirm(ctx)
      a.close()
      b.close()
      const status = await ctx.server.stop('SIGKILL')
      assert.equal(status.signal, 'SIGKILL')
      await ctx.server.start()
      const c = await ctx.connectSynced('carol')
      assertShapes(c)
    })

    test('a viewer receives the board, is closed with 4403 when it writes, and its write goes nowhere', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, backend)
      const a = await ctx.connectSynced('alice')
      drawShapes(a, 5)
      const b = await ctx.connectSynced('bob')
      await waitFor('bob to see 5 shapes', () => hasAllShapes(b, 5))

      const v = await ctx.connectSynced('victor')
      await waitFor('the viewer to receive 5 shapes', () => hasAllShapes(v, 5))
      assertShapes(v, 5)
      // Viewers may show presence.
      const vId = v.doc.clientID
      v.provider.awareness.setLocalStateField('user', { name: 'V' })
      await waitFor('bob to see the viewer\'s presence', () => b.provider.awareness.getStates().get(vId)?.user?.name === 'V')
      assert.deepEqual(v.connectionCloses, [], 'the viewer was not closed for reading and presence')

      drawShape(v, 'viewer-shape', shapeFields(99))
      await waitFor('the viewer\'s socket to be closed', () => v.connectionCloses.length > 0)
      assert.equal(v.connectionCloses[0]?.code, 4403, `close: ${JSON.stringify(v.connectionCloses)}`)
      // y-websocket treats 4400-4499 as permanent: it reports `closed` and stops reconnecting.
      await waitFor('the provider\'s closed event', () => v.closed.length > 0)
      assert.equal(v.closed[0].code, 4403)
      assert.equal(v.provider.shouldConnect, false)
      await waitFor('bob to see the viewer\'s presence removed', () => !b.provider.awareness.getStates().has(vId), 5000)
      await sleep(1000) // longer than y-websocket's first reconnect back-off
      assert.deepEqual(v.statuses.filter((s) => s === 'connecting'), ['connecting'], 'the viewer did not reconnect')
      assert.equal(v.connectionCloses.length, 1)

      // The room handles frames in order: once bob sees an edit made after the viewer was
      // closed, the viewer's edit would already have reached him if it had been relayed.
      drawShape(a, 'marker', shapeFields(5))
      await waitFor('bob to see the marker', () => b.elements.has('marker'))
      assert.equal(b.elements.has('viewer-shape'), false, 'bob never gets the viewer\'s shape')
      assert.equal(a.elements.has('viewer-shape'), false, 'alice never gets the viewer\'s shape')

      // Nor did it reach the store.
      a.close()
      b.close()
      v.close()
      const status = await ctx.server.stop('SIGTERM')
      assert.deepEqual(status, { code: 0, signal: null }, `easel serve exit after SIGTERM; stderr:\n${ctx.server.stderr}`)
      await ctx.server.start()
      const c = await ctx.connectSynced('carol')
      assertShapes(c, 5, ['marker'])
      assert.equal(c.elements.has('viewer-shape'), false)
    })
  })
}

// Several processes on one Postgres: what an operator running two replicas behind a load
// balancer sees with stock clients.
for (const backend of backends.filter((b) => b.name === 'postgres')) {
  describe('stock yjs + y-websocket clients on two processes sharing one Postgres', { timeout: TEST_TIMEOUT_MS * 2 }, () => {
    test('600 shapes written through each process are seen by both writers and all 1,200 survive a restart', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, backend, { processes: 2, env: { EASEL_COMPACT_EVERY: '50' } })
      const [one, two] = ctx.servers
      const a = await ctx.connectSynced('alice', one)
      const b = await ctx.connectSynced('bob', two)
      const ids = (prefix) => Array.from({ length: 600 }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`)
      const all = [...ids('a'), ...ids('b')]
      for (let i = 0; i < 600; i++) {
        drawShape(a, ids('a')[i], shapeFields(i))
        drawShape(b, ids('b')[i], shapeFields(i))
        if (i % 50 === 49) await sleep(10)
      }
      const holdsAll = (c) => all.every((id) => c.elements.get(id)?.get('stroke') !== undefined)
      await waitFor('alice (on one process) to see both writers\' 1,200 shapes', () => holdsAll(a), 30_000)
      await waitFor('bob (on the other) to see both writers\' 1,200 shapes', () => holdsAll(b), 30_000)

      // Presence crosses processes too.
      a.provider.awareness.setLocalStateField('user', { name: 'A' })
      await waitFor('bob to see alice\'s presence from the other process', () => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'A')

      // Both stop gracefully; one comes back; a fresh client gets everything.
      a.close()
      b.close()
      for (const s of ctx.servers) {
        const status = await s.stop('SIGTERM')
        assert.deepEqual(status, { code: 0, signal: null }, `easel serve exit after SIGTERM; stderr:\n${s.stderr}`)
      }
      await two.start()
      const c = await ctx.connectSynced('carol', two)
      assert.deepEqual([...c.elements.keys()].sort(), all.sort())
    })
  })
}
