// The servers under test: how to give each a fresh store, start it on a free port, address
// its rooms, watch its CPU and memory through /proc, and stop it (noticing crashes).
//
//   easel-sqlite   target/release/easel serve on a fresh data directory (SQLite)
//   easel-postgres the same binary on a fresh Postgres database (dropped afterwards)
//   y-websocket    @y/websocket-server's stock server entry (src/server.js), no persistence
//   hocuspocus     @hocuspocus/server (bench/servers/hocuspocus.cjs), no extensions
'use strict'

const { spawn, execFile } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const BENCH_DIR = path.resolve(__dirname, '..')
const REPO_ROOT = path.resolve(BENCH_DIR, '..')
const EASEL_BIN = process.env.EASEL_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target'), 'release', 'easel')
const JWT_SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'
const CLK_TCK = 100 // Linux USER_HZ on every supported architecture

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every server process still alive, killed if this process dies. */
const live = new Set()
process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL') } catch {} } })

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

function httpOk (port, p) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}

function run (cmd, args, env, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${err.message}\n${stderr}`))
      else resolve(stdout.trim())
    })
    if (input !== undefined) child.stdin.end(input)
  })
}

/** RSS and peak RSS (KiB) and CPU ticks of a process, from /proc. */
function procStats (pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k) => Number((status.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1] || 0)
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    const ticks = Number(fields[11]) + Number(fields[12])
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), ticks, threads: kb('Threads') }
  } catch {
    return null
  }
}

/** CPU use in % of one core between two procStats samples taken `ms` apart. */
function cpuPercent (a, b, ms) {
  if (!a || !b || ms <= 0) return null
  return ((b.ticks - a.ticks) / CLK_TCK) * 1000 / ms * 100
}

/** CPU time in ms between two procStats samples. */
function cpuMs (a, b) {
  if (!a || !b) return null
  return ((b.ticks - a.ticks) / CLK_TCK) * 1000
}

/** One server process of a target, with crash detection. */
class ServerProcess {
  constructor ({ name, cmd, args, env, port, readyPath, logFile }) {
    Object.assign(this, { name, cmd, args, env, port, readyPath, logFile })
    this.child = null
    this.exit = null
    this.stopping = false
    this.crashed = null
  }

  async start () {
    this.stopping = false
    this.exit = null
    const log = fs.openSync(this.logFile, 'a')
    const child = spawn(this.cmd, this.args, { cwd: REPO_ROOT, env: this.env, stdio: ['ignore', log, log] })
    fs.closeSync(log)
    live.add(child)
    this.child = child
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        live.delete(child)
        this.exit = { code, signal }
        if (!this.stopping) this.crashed = this.crashed || { code, signal, log: this.tail() }
        resolve(this.exit)
      })
    })
    const deadline = Date.now() + 30_000
    while (!(await httpOk(this.port, this.readyPath))) {
      if (this.exit) throw new Error(`${this.name} exited while starting (${JSON.stringify(this.exit)}):\n${this.tail()}`)
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after 30 s:\n${this.tail()}`)
      await sleep(50)
    }
  }

  get pid () { return this.child && this.child.pid }
  get alive () { return this.child && !this.exit }
  stats () { return this.alive ? procStats(this.pid) : null }
  healthy () { return this.alive ? httpOk(this.port, this.readyPath) : Promise.resolve(false) }

  tail (n = 30) {
    try { return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-n).join('\n') } catch { return '' }
  }

  /** SIGTERM, then SIGKILL after 20 s. Returns how long the stop took and how it ended. */
  async stop () {
    if (!this.alive) return { ms: 0, exit: this.exit }
    this.stopping = true
    const t0 = Date.now()
    this.child.kill('SIGTERM')
    const killed = await Promise.race([this.exited.then(() => false), sleep(20_000).then(() => true)])
    if (killed) {
      this.child.kill('SIGKILL')
      await this.exited
    }
    return { ms: Date.now() - t0, exit: this.exit, killed }
  }
}

/** The targets bench/clients' relay-floor serves: plain, durable on Postgres, durable on SQLite. */
const RELAY_FLOORS = ['relay-floor', 'durable-floor', 'durable-floor-sqlite']

/** A new, empty Postgres database on the server `adminUrl` names: its URL, and how to drop it. */
async function freshDatabase (adminUrl) {
  const pg = require('pg')
  const dbName = `easel_bench_${crypto.randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try { await admin.query(`CREATE DATABASE "${dbName}"`) } finally { await admin.end() }
  const u = new URL(adminUrl)
  u.pathname = `/${dbName}`
  const drop = async () => {
    const c = new pg.Client({ connectionString: adminUrl })
    await c.connect()
    try { await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`) } finally { await c.end() }
  }
  return { url: u.toString(), drop }
}

const limitsEnv = {
  EASEL_MAX_CONNECTIONS: '100000',
  EASEL_MAX_ROOM_CONNECTIONS: '100000',
  EASEL_RATE_LIMIT: '100000',
  EASEL_RATE_BURST: '100000'
}

/** Easel on SQLite or Postgres. */
class EaselTarget {
  constructor ({ backend, adminUrl, workDir }) {
    this.name = `easel-${backend}`
    this.kind = 'easel'
    this.backend = backend
    this.adminUrl = adminUrl
    this.workDir = workDir
    this.flavor = 'ysync'
    this.token = null
  }

  async available () {
    if (!fs.existsSync(EASEL_BIN)) return `missing ${EASEL_BIN}`
    if (this.backend === 'postgres' && !this.adminUrl) return 'no Postgres URL (EASEL_TEST_DATABASE_URL)'
    return null
  }

  baseEnv (dataDir, dbUrl) {
    const env = { ...process.env, ...limitsEnv, EASEL_DATA_DIR: dataDir, EASEL_JWT_SECRET: JWT_SECRET, EASEL_LOG: 'warn' }
    delete env.DATABASE_URL
    if (dbUrl) env.DATABASE_URL = dbUrl
    return env
  }

  /**
   * A fresh store with `boards` empty boards; returns a server ready to start and the room
   * ids. With `processes` > 1 (Postgres only), `servers` holds that many servers on the one
   * database, each with a data directory and a port of its own; `server` is the first.
   */
  async prepare (label, boards, { processes = 1 } = {}) {
    if (processes > 1 && this.backend !== 'postgres') throw new Error('several processes share a store only on Postgres')
    const dataDir = fs.mkdtempSync(path.join(this.workDir, `${this.name}-${label}-`))
    let dbUrl = null
    this.dropDb = null
    if (this.backend === 'postgres') ({ url: dbUrl, drop: this.dropDb } = await freshDatabase(this.adminUrl))
    const env = this.baseEnv(dataDir, dbUrl)
    if (!this.token) this.token = await run(EASEL_BIN, ['token', '--user', 'bench', '--admin', '--ttl', '2h'], env)
    await run(EASEL_BIN, ['migrate'], env)
    const ids = Array.from({ length: boards }, () => crypto.randomUUID())
    const ms = Date.now()
    if (this.backend === 'postgres') {
      const pg = require('pg')
      const c = new pg.Client({ connectionString: dbUrl })
      await c.connect()
      try {
        for (let i = 0; i < ids.length; i += 5000) {
          const chunk = ids.slice(i, i + 5000)
          await c.query(
            `INSERT INTO boards (id, name, owner, created_at, updated_at, archived_at, last_seq)
             SELECT id, 'bench ' || ord, 'bench', $2, $2, NULL, 0 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)`,
            [chunk, ms])
        }
      } finally { await c.end() }
    } else {
      const lines = ['BEGIN;']
      ids.forEach((id, i) => {
        lines.push(`INSERT INTO boards (id, name, owner, created_at, updated_at, archived_at, last_seq) VALUES (X'${id.replace(/-/g, '')}', 'bench ${i}', 'bench', ${ms}, ${ms}, NULL, 0);`)
      })
      lines.push('COMMIT;')
      await run('sqlite3', [path.join(dataDir, 'easel.db')], process.env, lines.join('\n'))
    }
    const servers = []
    for (let i = 0; i < processes; i++) {
      const dir = i === 0 ? dataDir : fs.mkdtempSync(path.join(this.workDir, `${this.name}-${label}-${i}-`))
      const port = await freePort()
      const name = processes > 1 ? `${this.name}-${String.fromCharCode(65 + i)}` : this.name
      servers.push(new ServerProcess({
        name, cmd: EASEL_BIN, args: ['serve'], env: { ...this.baseEnv(dir, dbUrl), EASEL_BIND: `127.0.0.1:${port}` }, port, readyPath: '/healthz', logFile: path.join(dir, 'server.log')
      }))
    }
    return { server: servers[0], servers, rooms: ids }
  }

  url (port, room) { return `ws://127.0.0.1:${port}/ws/boards/${room}?token=${encodeURIComponent(this.token)}` }
  clientOpts (port, room) { return { url: this.url(port, room), flavor: 'ysync' } }

  async cleanup () {
    if (this.dropDb) { try { await this.dropDb() } catch (e) { console.error(`dropping the bench database: ${e.message}`) } }
    this.dropDb = null
  }
}

/**
 * A server that is not Easel, rooms created on demand: a Node competitor (@y/websocket-server
 * or @hocuspocus/server) or one of the floors (bench/clients or servers/floor.cjs).
 */
class NodeTarget {
  constructor ({ name, workDir, adminUrl }) {
    this.name = name
    this.kind = 'competitor'
    this.workDir = workDir
    this.adminUrl = adminUrl
    this.flavor = name === 'hocuspocus' ? 'hocuspocus' : 'ysync'
    this.dropDb = null
  }

  async available () {
    if (this.name === 'actix-floor') {
      const bin = process.env.EASEL_ACTIX_FLOOR_BIN
      return bin && fs.existsSync(bin) ? null : 'EASEL_ACTIX_FLOOR_BIN names no built actix-floor'
    }
    if (RELAY_FLOORS.includes(this.name)) {
      const bin = process.env.EASEL_RELAY_FLOOR_BIN
      if (!bin || !fs.existsSync(bin)) return 'EASEL_RELAY_FLOOR_BIN names no built relay-floor'
      if (this.name === 'durable-floor' && !this.adminUrl) return 'no Postgres URL (EASEL_TEST_DATABASE_URL)'
      return null
    }
    const entry = this.entry()
    return fs.existsSync(entry) ? null : `missing ${entry} (npm ci in bench/)`
  }

  /**
   * The command that runs the server: the storm's floor is bench/clients' `storm-floor` when
   * built; the fan-out floors are always bench/clients' `relay-floor` (the durable ones with
   * a Postgres database or an SQLite file of their own); the idle floor is bench/clients'
   * `actix-floor`.
   */
  command () {
    const floor = process.env.EASEL_STORM_FLOOR_BIN
    if (this.name === 'floor' && floor) return { cmd: floor, args: [] }
    if (this.name === 'actix-floor') return { cmd: process.env.EASEL_ACTIX_FLOOR_BIN, args: [] }
    if (RELAY_FLOORS.includes(this.name)) return { cmd: process.env.EASEL_RELAY_FLOOR_BIN, args: [] }
    return { cmd: process.execPath, args: [this.entry()] }
  }

  entry () {
    if (this.name === 'hocuspocus') return path.join(BENCH_DIR, 'servers', 'hocuspocus.cjs')
    if (this.name === 'floor') return path.join(BENCH_DIR, 'servers', 'floor.cjs')
    return path.join(BENCH_DIR, 'node_modules', '@y', 'websocket-server', 'src', 'server.js')
  }

  async prepare (label, boards) {
    const dir = fs.mkdtempSync(path.join(this.workDir, `${this.name}-${label}-`))
    const port = await freePort()
    const env = { ...process.env, HOST: '127.0.0.1', PORT: String(port), NODE_ENV: 'production' }
    delete env.YPERSISTENCE
    delete env.DATABASE_URL
    if (this.name === 'durable-floor') ({ url: env.DATABASE_URL, drop: this.dropDb } = await freshDatabase(this.adminUrl))
    if (this.name === 'durable-floor-sqlite') env.DATABASE_URL = `sqlite://${path.join(dir, 'floor.db')}`
    const rooms = Array.from({ length: boards }, () => crypto.randomUUID())
    const server = new ServerProcess({
      name: this.name, ...this.command(), env, port, readyPath: '/', logFile: path.join(dir, 'server.log')
    })
    return { server, rooms }
  }

  clientOpts (port, room) {
    if (this.name === 'hocuspocus') {
      return { url: `ws://127.0.0.1:${port}/`, flavor: 'hocuspocus', docName: room, token: 'bench' }
    }
    // @y/websocket-server names the room after the URL path, as y-websocket clients build it.
    return { url: `ws://127.0.0.1:${port}/ws/boards/${room}`, flavor: 'ysync' }
  }

  async cleanup () {
    if (this.dropDb) { try { await this.dropDb() } catch (e) { console.error(`dropping the bench database: ${e.message}`) } }
    this.dropDb = null
  }
}

function makeTargets (names, { adminUrl, workDir }) {
  return names.map((n) => {
    if (n === 'easel-sqlite') return new EaselTarget({ backend: 'sqlite', workDir })
    if (n === 'easel-postgres') return new EaselTarget({ backend: 'postgres', adminUrl, workDir })
    if (['y-websocket', 'hocuspocus', 'floor', 'actix-floor', ...RELAY_FLOORS].includes(n)) return new NodeTarget({ name: n, workDir, adminUrl })
    throw new Error(`unknown target ${n}`)
  })
}

function nofileLimit () {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8')
    const m = limits.match(/^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m)
    if (m) return m[1] === 'unlimited' ? 1 << 20 : Number(m[1])
  } catch {}
  return 1024
}

module.exports = { makeTargets, procStats, cpuPercent, cpuMs, sleep, nofileLimit, EASEL_BIN, os }
