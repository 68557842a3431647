// The scenarios. Each starts a fresh server of the target (fresh store, fresh process;
// two processes on one store for cross-process), drives it, reads the server's CPU and memory from /proc, stops it and reports.
//
//   fanout — R rooms × C clients, S senders per room each writing one shape at U/s
//   idle   — N idle, synced connections, all in one room or each in its own room
//   storm  — N clients with awareness join one room at once, then all leave
//   board  — fill a board with N shapes in 100-shape transactions, then fresh joins
//   cross-process — two Easel processes on one Postgres database: a writer on one, readers
//            on both; delivery latency across processes and the CPU of following the log
'use strict'

const path = require('node:path')
const readline = require('node:readline')
const { fork, spawn } = require('node:child_process')
const Y = require('yjs')
const { Client, now, makeShape } = require('./proto')
const { procStats, cpuPercent, cpuMs, sleep } = require('./targets')

const MB = 1024

function pct (sorted, p) {
  if (sorted.length === 0) return null
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

function summary (values) {
  const s = Float64Array.from(values).sort()
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s.length ? s[s.length - 1] : null }
}

function countBy (items, key) {
  const out = {}
  for (const it of items) {
    const k = key(it)
    if (k !== undefined) out[k] = (out[k] || 0) + 1
  }
  return out
}

function closeCodes (clients) {
  return countBy(clients.filter((c) => c.unexpectedlyClosed), (c) => `${c.closeCode} ${c.closeReason}`.trim())
}

/** Opens clients with at most `concurrency` handshakes in flight; waits for each to sync. */
async function openAll (clients, concurrency, syncTimeoutMs) {
  let next = 0
  const errors = []
  async function lane () {
    while (next < clients.length) {
      const c = clients[next++]
      try {
        await c.open()
        await c.whenSynced(syncTimeoutMs)
      } catch (e) {
        errors.push(e.message)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane))
  return errors
}

/** Polls `pred` every `every` ms until true or `ms` passed; returns whether it became true. */
async function until (pred, ms, every = 20) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (pred()) return true
    await sleep(every)
  }
  return pred()
}

/** Samples a server's RSS every `every` ms; `stop()` returns the peak seen (KiB). */
function rssSampler (server, every = 50) {
  let peak = 0
  const timer = setInterval(() => {
    const s = server.stats()
    if (s && s.rssKb > peak) peak = s.rssKb
  }, every)
  return () => { clearInterval(timer); return peak }
}

/**
 * Runs `fn` against a fresh server of `target` with `boards` rooms, then stops it.
 * The result gets `crashed` (the process died by itself), `alive` and the stop outcome.
 */
async function withServer (target, label, boards, fn) {
  const { server, rooms } = await target.prepare(label, boards)
  const result = { target: target.name }
  try {
    await server.start()
    Object.assign(result, await fn({ server, rooms, port: server.port }))
  } catch (e) {
    result.error = e.message
  } finally {
    result.aliveAtEnd = server.alive && (await server.healthy())
    const stop = await server.stop()
    result.stopMs = stop.ms
    result.stopKilled = !!stop.killed
    if (server.crashed) result.crashed = server.crashed
    await target.cleanup()
  }
  return result
}

// ---------------------------------------------------------------------------------------

async function fanout (target, cfg) {
  const { rooms: R, clients: C, senders: S, rate: U, warmupMs, measureMs, drainMs } = cfg
  return withServer(target, 'fanout', R, async ({ server, rooms, port }) => {
    // Every delivery is recognised by its author's client id and clock, read from the
    // update's first struct: receivers need not decode or apply it, so that 200 clients in
    // one Node process stay far from saturating it. Senders and one verifier per room keep
    // a real Y.Doc that applies everything (for the convergence check).
    const sent = new Map()
    const latencies = []
    const onUpdate = (c, client, clock) => {
      const e = sent.get(`${client}:${clock}`)
      if (e) {
        e.recv++
        const l = now() - e.t
        latencies.push(l)
        if (l > 50 && slow.length < 2000) slow.push([Math.round(e.t - t0), Math.round(l)])
      }
    }
    const slow = []
    let t0 = now()
    const all = []
    const byRoom = rooms.map((room) => Array.from({ length: C }, (_, i) => {
      const c = new Client({ ...target.clientOpts(port, room), withDoc: i < S || i === C - 1, onUpdate })
      all.push(c)
      return c
    }))
    const openErrors = await openAll(all, 50, 30_000)
    if (openErrors.length) throw new Error(`${openErrors.length} of ${all.length} clients did not sync: ${openErrors[0]}`)

    t0 = now()
    const mStart = t0 + warmupMs
    const mEnd = mStart + measureMs
    let measured = 0
    let sentTotal = 0
    const roomSent = rooms.map(() => 0)
    const timers = []
    byRoom.forEach((clients, r) => {
      for (let s = 0; s < S; s++) {
        const c = clients[s]
        let seq = 0
        const tick = () => {
          const t = now()
          if (t >= mEnd) return
          const clock = Y.getState(c.doc.store, c.doc.clientID)
          if (t >= mStart) { sent.set(`${c.doc.clientID}:${clock}`, { t, recv: 0 }); measured++ }
          c.doc.transact(() => c.shapes.set(`${c.doc.clientID}-${seq}`, makeShape(seq, t)))
          seq++
          sentTotal++
          roomSent[r]++
        }
        const phase = Math.random() * (1000 / U)
        timers.push(setTimeout(() => { tick(); timers.push(setInterval(tick, 1000 / U)) }, phase))
      }
    })
    await sleep(mStart - now())
    const s0 = server.stats()
    const c0 = process.cpuUsage()
    const w0 = now()
    await sleep(mEnd - now())
    const s1 = server.stats()
    const c1 = process.cpuUsage(c0)
    const w1 = now()
    for (const t of timers) { clearTimeout(t); clearInterval(t) }
    const expected = measured * (C - 1)
    const docsOf = (clients) => clients.filter((c) => c.doc)
    const converged = () => byRoom.every((clients, r) => docsOf(clients).every((c) => c.shapes.size === roomSent[r]))
    const drained = await until(() => {
      let got = 0
      for (const e of sent.values()) got += Math.min(e.recv, C - 1)
      return got >= expected && converged()
    }, drainMs, 50)
    let received = 0
    let duplicates = 0
    for (const e of sent.values()) {
      received += Math.min(e.recv, C - 1)
      duplicates += Math.max(0, e.recv - (C - 1))
    }
    // Convergence: every full client of a room holds every shape written in the room.
    const diverged = byRoom.filter((clients, r) => !docsOf(clients).every((c) => c.shapes.size === roomSent[r])).length
    const lat = summary(latencies)
    const dropped = all.filter((c) => c.unexpectedlyClosed).length
    const codes = closeCodes(all)
    await Promise.all(all.map((c) => c.close()))
    const windowMs = w1 - w0
    return {
      config: `${R} rooms × ${C} clients, ${S} senders/room @ ${U}/s, ${measureMs / 1000} s`,
      sentTotal,
      measured,
      expected,
      received,
      duplicates,
      lost: expected - received,
      drained,
      divergedRooms: diverged,
      dropped,
      closeCodes: codes,
      latency: { p50: lat.p50, p99: lat.p99, max: lat.max, n: lat.n },
      // Deliveries slower than 50 ms: [ms since the senders started, latency ms].
      slow,
      serverCpu: cpuPercent(s0, s1, windowMs),
      serverRssKb: s1 && s1.rssKb,
      loadgenCpu: ((c1.user + c1.system) / 1000) / windowMs * 100
    }
  })
}

// ---------------------------------------------------------------------------------------

/** Spreads `list` over helper processes of at most `perWorker` clients each. */
async function idleWorkers (list, perWorker, syncTimeoutMs) {
  const n = Math.ceil(list.length / perWorker)
  const workers = []
  for (let w = 0; w < n; w++) {
    const child = fork(path.join(__dirname, 'idle-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const inbox = []
    const waiters = []
    child.on('message', (m) => { const f = waiters.shift(); if (f) f(m); else inbox.push(m) })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    const ask = (msg, ms) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`idle worker did not answer ${msg.cmd} in ${ms} ms`)), ms)
      const done = (m) => { clearTimeout(timer); m.type === 'error' ? reject(new Error(m.message)) : resolve(m) }
      if (inbox.length) done(inbox.shift()); else waiters.push(done)
      child.send(msg)
    })
    workers.push({ child, ask, exited, share: list.slice(w * perWorker, (w + 1) * perWorker) })
  }
  // Source addresses 127.0.0.2-9 spread the client ports so that TIME_WAIT left by one
  // scenario cannot exhaust the ephemeral ports of the next.
  const localAddresses = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`)
  return {
    async open () {
      const rs = await Promise.all(workers.map((w) => w.ask({ cmd: 'open', list: w.share, concurrency: 128, syncTimeoutMs, localAddresses }, 600_000)))
      const errors = {}
      for (const r of rs) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] || 0) + v
      return {
        ok: rs.reduce((a, r) => a + r.ok, 0),
        failed: rs.reduce((a, r) => a + r.failed, 0),
        errors,
        ms: Math.max(...rs.map((r) => r.ms)),
        sync: summary(rs.flatMap((r) => r.syncMs))
      }
    },
    async check () {
      const rs = await Promise.all(workers.map((w) => w.ask({ cmd: 'check' }, 60_000)))
      const codes = {}
      for (const r of rs) for (const [k, v] of Object.entries(r.closeCodes)) codes[k] = (codes[k] || 0) + v
      return { open: rs.reduce((a, r) => a + r.open, 0), unexpectedlyClosed: rs.reduce((a, r) => a + r.unexpectedlyClosed, 0), closeCodes: codes }
    },
    async close () {
      await Promise.all(workers.map((w) => w.ask({ cmd: 'close' }, 120_000).catch(() => w.child.kill('SIGKILL'))))
      await Promise.all(workers.map((w) => Promise.race([w.exited, sleep(10_000).then(() => w.child.kill('SIGKILL'))])))
    },
    kill () { for (const w of workers) { try { w.child.kill('SIGKILL') } catch {} } }
  }
}

async function idle (target, cfg) {
  const { n: N, mode, perWorker = 9000, settleMs = 3000 } = cfg
  const boards = mode === 'own' ? N : 1
  return withServer(target, `idle-${mode}`, boards, async ({ server, rooms, port }) => {
    await sleep(Math.min(1000, settleMs))
    const before = server.stats()
    const list = Array.from({ length: N }, (_, i) => target.clientOpts(port, rooms[mode === 'own' ? i : 0]))
    const pool = await idleWorkers(list, perWorker, 60_000)
    try {
      const opened = await pool.open()
      await sleep(settleMs)
      const after = server.stats()
      const state = await pool.check()
      const t = Date.now()
      await pool.close()
      const closeMs = Date.now() - t
      await sleep(settleMs)
      const afterClose = server.stats()
      return {
        config: `${N} idle connections, ${mode === 'own' ? 'each in its own room' : 'all in one room'}`,
        n: N,
        mode,
        connected: opened.ok,
        failed: opened.failed,
        errors: opened.errors,
        connectMs: opened.ms,
        connectRate: opened.ok / (opened.ms / 1000),
        syncP50: opened.sync.p50,
        syncP99: opened.sync.p99,
        stillOpen: state.open,
        dropped: state.unexpectedlyClosed,
        closeCodes: state.closeCodes,
        closeMs,
        rssBeforeKb: before.rssKb,
        rssAfterKb: after && after.rssKb,
        rssAfterCloseKb: afterClose && afterClose.rssKb,
        kbPerConn: after && opened.ok ? (after.rssKb - before.rssKb) / opened.ok : null
      }
    } finally {
      pool.kill()
    }
  })
}

// ---------------------------------------------------------------------------------------

/**
 * The storm's N joiners, each sending step 1 and an awareness state on open:
 * `{ kind, joined, awarenessFrames(), leave() }`. `joined` resolves once every client synced
 * or gave up, to `{ syncMs, syncBytes, failures, allSyncedMs }` (sync time: socket created →
 * step 2 received); `awarenessFrames()` counts the awareness messages all have received;
 * `leave()` closes every socket and resolves to `{ leaveMs, dropped, closeCodes }`.
 *
 * With EASEL_STORM_CLIENTS_BIN (bench/run builds it from bench/clients) they are one Rust
 * process on one thread: from one Node thread, 1,000 handshakes alone cost the load
 * generator more than the storm's target. Without it, they are `Client`s in this process.
 */
function stormJoiners (opts, n, syncTimeoutMs) {
  const bin = process.env.EASEL_STORM_CLIENTS_BIN
  return bin ? rustJoiners(bin, opts, n, syncTimeoutMs) : nodeJoiners(opts, n, syncTimeoutMs)
}

function rustJoiners (bin, opts, n, syncTimeoutMs) {
  const args = ['--url', opts.url, '--flavor', opts.flavor, '--clients', String(n), '--sync-timeout-ms', String(syncTimeoutMs)]
  if (opts.docName) args.push('--doc-name', opts.docName)
  if (opts.token) args.push('--token', opts.token)
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const answers = []
  const waiting = []
  let exit = null
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line)
    const w = waiting.shift()
    if (w) w.resolve(answer)
    else answers.push(answer)
  })
  const exited = new Promise((resolve) => {
    const fail = (why) => {
      exit = exit || new Error(`storm-clients: ${why}`)
      for (const w of waiting.splice(0)) w.reject(exit)
      resolve()
    }
    child.on('error', (e) => fail(e.message))
    child.on('exit', (code, signal) => fail(`exited (${signal || code})`))
  })
  const next = () => {
    if (answers.length) return Promise.resolve(answers.shift())
    if (exit) return Promise.reject(exit)
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
  }
  const ask = (command) => { child.stdin.write(`${command}\n`); return next() }
  return {
    kind: 'rust',
    joined: next(),
    awarenessFrames: async () => (await ask('awareness')).awarenessFrames,
    leave: async () => { const left = await ask('leave'); await exited; return left }
  }
}

function nodeJoiners (opts, n, syncTimeoutMs) {
  const clients = Array.from({ length: n }, (_, i) => new Client({
    ...opts,
    withDoc: false,
    awareness: { user: { name: `user ${i}`, color: '#1971c2' }, cursor: { x: i % 1000, y: Math.floor(i / 1000) } }
  }))
  const t0 = now()
  const joined = Promise.allSettled(clients.map((c) => c.open().then(() => c.whenSynced(syncTimeoutMs)))).then((results) => {
    const synced = clients.filter((c) => c.synced)
    return {
      syncMs: synced.map((c) => c.tSynced - c.tStart),
      syncBytes: synced.map((c) => c.syncBytes),
      failures: countBy(results.filter((r) => r.status === 'rejected'), (r) => String(r.reason.message).slice(0, 100)),
      allSyncedMs: now() - t0,
      cpuMs: null
    }
  })
  return {
    kind: 'node',
    joined,
    awarenessFrames: async () => clients.reduce((a, c) => a + c.awarenessIn, 0),
    leave: async () => {
      const dropped = clients.filter((c) => c.unexpectedlyClosed).length
      const codes = closeCodes(clients)
      const tL = now()
      await Promise.all(clients.map((c) => c.close(10_000)))
      return { leaveMs: now() - tL, dropped, closeCodes: codes }
    }
  }
}

async function storm (target, cfg) {
  const { clients: N, seedShapes = 100, syncTimeoutMs = 60_000, leaveSettleMs = 5000 } = cfg
  return withServer(target, 'storm', 1, async ({ server, rooms, port }) => {
    const opts = target.clientOpts(port, rooms[0])
    // An existing user who drew a little and stays for the whole storm.
    const seeder = new Client({ ...opts, withDoc: true, awareness: { user: { name: 'seeder', color: '#e03131' } } })
    await seeder.open()
    await seeder.whenSynced(10_000)
    seeder.doc.transact(() => { for (let i = 0; i < seedShapes; i++) seeder.shapes.set(`seed-${i}`, makeShape(i, now())) })
    const probe = new Client({ ...opts, withDoc: true })
    await probe.open()
    await probe.whenSynced(10_000)
    const seeded = await until(() => probe.shapes.size >= seedShapes, 10_000, 20)
    const seedBytes = Y.encodeStateAsUpdate(seeder.doc).length
    await probe.close()
    await sleep(500)
    const before = server.stats()
    const stopSampling = rssSampler(server)

    const joiners = stormJoiners(opts, N, syncTimeoutMs)
    const joined = await joiners.joined
    const atJoined = server.stats()
    const sync = summary(joined.syncMs)
    const incomplete = joined.syncBytes.filter((b) => b < seedBytes * 0.9).length
    // Let the awareness traffic settle (bounded), then ask a newcomer whom it sees.
    let last = -1
    let settled = 0
    const tA = Date.now()
    while (Date.now() - tA < 30_000 && settled < 4) {
      const total = await joiners.awarenessFrames()
      settled = total === last ? settled + 1 : 0
      last = total
      await sleep(250)
    }
    const awarenessFrames = await joiners.awarenessFrames()
    const newcomer = new Client({ ...opts, withDoc: false, keepAwareness: true })
    let seen = null
    try {
      await newcomer.open()
      await newcomer.whenSynced(10_000)
      await sleep(500)
      seen = newcomer.awarenessSeen.size
    } catch {}
    await newcomer.close()
    const peakSampled = stopSampling()
    const peakStats = server.stats()
    // Everyone leaves.
    const left = await joiners.leave()
    await sleep(leaveSettleMs)
    const after = server.stats()
    const seederOk = !seeder.closed
    await seeder.close()
    return {
      config: `${N} clients with awareness join one room at once (board of ${seedShapes} shapes), then leave`,
      n: N,
      joiners: joiners.kind,
      seeded,
      synced: joined.syncMs.length,
      failures: joined.failures,
      incomplete,
      syncP50: sync.p50,
      syncP99: sync.p99,
      syncMax: sync.max,
      allSyncedMs: joined.allSyncedMs,
      serverCpuMs: cpuMs(before, atJoined),
      joinersCpuMs: joined.cpuMs,
      awarenessFrames,
      newcomerSeesAwareness: seen,
      awarenessExpected: N + 1,
      dropped: left.dropped,
      closeCodes: left.closeCodes,
      seederSurvived: seederOk,
      leaveMs: left.leaveMs,
      rssBeforeKb: before.rssKb,
      rssPeakKb: Math.max(peakSampled, peakStats ? peakStats.rssKb : 0),
      rssHwmKb: peakStats && peakStats.hwmKb,
      rssAfterLeaveKb: after && after.rssKb
    }
  })
}

/**
 * The storm's clients against bench/servers/floor.cjs, which only answers step 1: the sync
 * times the load generator and this machine allow at best, to read the storm rows against.
 */
async function stormFloor (target, cfg) {
  const { clients: N, syncTimeoutMs = 60_000 } = cfg
  return withServer(target, 'storm-floor', 1, async ({ port, rooms }) => {
    const joiners = stormJoiners(target.clientOpts(port, rooms[0]), N, syncTimeoutMs)
    const joined = await joiners.joined
    const sync = summary(joined.syncMs)
    await joiners.leave()
    return { n: N, joiners: joiners.kind, synced: joined.syncMs.length, syncP50: sync.p50, syncP99: sync.p99, allSyncedMs: joined.allSyncedMs, joinersCpuMs: joined.cpuMs }
  })
}

// ---------------------------------------------------------------------------------------

async function board (target, cfg) {
  const { shapes: N, batch = 100, joins = 3, coldJoin = false } = cfg
  return withServer(target, `board-${N}`, 1, async ({ server, rooms, port }) => {
    const opts = target.clientOpts(port, rooms[0])
    const filler = new Client({ ...opts, withDoc: true })
    const observer = new Client({ ...opts, withDoc: true })
    let observed = 0
    observer.shapes.observe((ev) => { if (ev.transaction.origin === observer) observed += ev.keysChanged.size })
    for (const c of [filler, observer]) { await c.open(); await c.whenSynced(10_000) }
    const rss0 = server.stats()
    const t0 = now()
    const fillDeadline = Date.now() + 300_000
    for (let i = 0; i < N; i += batch) {
      if (Date.now() > fillDeadline) throw new Error(`filling took over 300 s (stopped at shape ${i})`)
      const t = now()
      filler.doc.transact(() => {
        for (let j = i; j < Math.min(N, i + batch); j++) filler.shapes.set(`shape-${j}`, makeShape(j, t))
      })
      // Send as a client would: as fast as the socket drains.
      while (filler.ws.bufferedAmount > (1 << 20) && Date.now() < fillDeadline && !filler.closed) await sleep(2)
      if (filler.closed) throw new Error(`filler closed at shape ${i}: ${filler.closeCode} ${filler.closeReason}`)
    }
    const tSent = now()
    const complete = await until(() => observed >= N || observer.closed, 180_000, 10)
    const tFill = now()
    const stored = Y.encodeStateAsUpdate(filler.doc).length
    const afterFill = server.stats()
    const joinMs = []
    const step2Ms = []
    const joinSizes = []
    for (let j = 0; j < joins; j++) {
      const c = new Client({ ...opts, withDoc: true })
      try {
        await c.open()
        await c.whenSynced(120_000)
        joinMs.push(c.tSynced - c.tStart)
        step2Ms.push(c.tStep2 - c.tStart)
        joinSizes.push(c.shapes.size)
      } catch (e) {
        joinSizes.push(`error: ${e.message}`)
      }
      await c.close()
    }
    const afterJoins = server.stats()
    const fillerOk = !filler.closed && !observer.closed
    await filler.close()
    await observer.close()
    const out = {
      config: `${N} shapes in ${batch}-shape transactions, then ${joins} fresh joins`,
      n: N,
      observed,
      complete: complete && observed >= N,
      sendMs: tSent - t0,
      fillMs: tFill - t0,
      fillRate: N / ((tFill - t0) / 1000),
      docBytes: stored,
      joinMs: joinMs.length ? summary(joinMs).p50 : null,
      joinMsAll: joinMs,
      step2Ms: step2Ms.length ? summary(step2Ms).p50 : null,
      step2MsAll: step2Ms,
      joinSizes,
      joinsComplete: joinSizes.every((s) => s === N),
      writersSurvived: fillerOk,
      rssBeforeKb: rss0.rssKb,
      rssAfterFillKb: afterFill && afterFill.rssKb,
      rssAfterJoinsKb: afterJoins && afterJoins.rssKb
    }
    if (coldJoin) {
      // Easel keeps the board in its store: restart the server and time a join that has to
      // load the board from the store.
      await server.stop()
      await server.start()
      const c = new Client({ ...opts, withDoc: true })
      try {
        await c.open()
        await c.whenSynced(120_000)
        out.coldJoinMs = c.tSynced - c.tStart
        out.coldStep2Ms = c.tStep2 - c.tStart
        out.coldJoinSize = c.shapes.size
      } catch (e) {
        out.coldJoinSize = `error: ${e.message}`
      }
      await c.close()
      const cold = server.stats()
      out.rssAfterColdJoinKb = cold && cold.rssKb
    }
    return out
  })
}

// ---------------------------------------------------------------------------------------

/**
 * cross-process — two Easel processes, A and B, on one fresh Postgres database, one board.
 * A writer on A sends `updates` one-shape updates at `rate` per second; a reader on B (the
 * other process: the update reaches it through the log and NOTIFY) and a reader on A (the
 * same process) note when each arrives. Before the writes, both processes sit idle with
 * the same three clients connected for as long as the writes take, so that the CPU they
 * spend following the log stands apart from what they spend doing nothing.
 */
async function crossProcess (target, cfg) {
  const { updates: N, rate: U, warmup: W, drainMs } = cfg
  const { servers, rooms: [room] } = await target.prepare('cross', 1, { processes: 2 })
  const [a, b] = servers
  const result = { target: target.name, updates: N, rate: U, warmup: W }
  const clients = []
  try {
    await Promise.all([a.start(), b.start()])
    // Each measured update is known by its author's client id and clock (see fanout);
    // an entry notes when it was sent and when each reader received it.
    const sent = new Map()
    let duplicates = 0
    const reader = (server, which) => new Client({
      ...target.clientOpts(server.port, room),
      withDoc: true,
      onUpdate: (c, client, clock) => {
        const e = sent.get(`${client}:${clock}`)
        if (!e) return
        if (e[which] == null) e[which] = now()
        else duplicates++
      }
    })
    const writer = new Client({ ...target.clientOpts(a.port, room), withDoc: true })
    const onA = reader(a, 'a')
    const onB = reader(b, 'b')
    clients.push(writer, onA, onB)
    const openErrors = await openAll(clients, 3, 30_000)
    if (openErrors.length) throw new Error(`${openErrors.length} of 3 clients did not sync: ${openErrors[0]}`)

    const write = (seq, measured) => {
      const t = now()
      const clock = Y.getState(writer.doc.store, writer.doc.clientID)
      if (measured) sent.set(`${writer.doc.clientID}:${clock}`, { t, a: null, b: null })
      writer.doc.transact(() => writer.shapes.set(`s-${seq}`, makeShape(seq, t)))
    }
    /** Writes `count` updates from `first`, one every 1000 / U ms on a fixed schedule. */
    const writeSteadily = async (first, count, measured) => {
      const start = now()
      for (let i = 0; i < count; i++) {
        await sleep(start + (i * 1000) / U - now())
        write(first + i, measured)
      }
    }
    // Warm-up: the pools' connections open and the rooms settle; not measured.
    await writeSteadily(0, W, false)
    const warmed = await until(() => onA.shapes.size >= W && onB.shapes.size >= W, drainMs)
    if (!warmed) throw new Error(`the warm-up's ${W} updates did not reach both readers (A ${onA.shapes.size}, B ${onB.shapes.size})`)
    await sleep(1000)

    // Idle baseline: as long as the writes will take, nothing written.
    const idleMs = (N * 1000) / U
    const ia0 = a.stats()
    const ib0 = b.stats()
    const iw0 = now()
    await sleep(idleMs)
    const ia1 = a.stats()
    const ib1 = b.stats()
    const idleWindowMs = now() - iw0

    // The writes, measured until the reader on B holds them all (or the drain ran out).
    const wa0 = a.stats()
    const wb0 = b.stats()
    const ww0 = now()
    await writeSteadily(W, N, true)
    const all = [...sent.values()]
    const drained = await until(() => all.every((e) => e.b != null && e.a != null), drainMs, 5)
    const wa1 = a.stats()
    const wb1 = b.stats()
    const writeWindowMs = now() - ww0

    const total = W + N
    await until(() => onA.shapes.size >= total && onB.shapes.size >= total, drainMs)
    const cpu = (s0, s1, i0, i1) => {
      const writes = cpuMs(s0, s1)
      // The idle stretch lasted about as long as the writes; scaled to exactly as long.
      const idle = cpuMs(i0, i1) * (writeWindowMs / idleWindowMs)
      // A process that died during the writes has no figures.
      if (writes == null) return {}
      return {
        writesMs: writes,
        idleMs: idle,
        usPerUpdate: (writes * 1000) / N,
        idleUsPerUpdate: (idle * 1000) / N,
        aboveIdleUsPerUpdate: ((writes - idle) * 1000) / N
      }
    }
    Object.assign(result, {
      drained,
      writeWindowMs,
      idleWindowMs,
      cross: summary(all.filter((e) => e.b != null).map((e) => e.b - e.t)),
      same: summary(all.filter((e) => e.a != null).map((e) => e.a - e.t)),
      // What crossing processes adds to each update: B's receipt after A's.
      behindA: summary(all.filter((e) => e.a != null && e.b != null).map((e) => e.b - e.a)),
      // The slow deliveries: [update's index, ms after the first send, latency on A, on B].
      slow: all.flatMap((e, i) => (e.b ?? Infinity) - e.t > 50 || (e.a ?? Infinity) - e.t > 50
        ? [[i, Math.round(e.t - ww0), e.a == null ? null : Math.round(e.a - e.t), e.b == null ? null : Math.round(e.b - e.t)]]
        : []).slice(0, 500),
      lostB: all.filter((e) => e.b == null).length,
      lostA: all.filter((e) => e.a == null).length,
      duplicates,
      shapes: { expected: total, writer: writer.shapes.size, a: onA.shapes.size, b: onB.shapes.size },
      diverged: onA.shapes.size !== total || onB.shapes.size !== total,
      dropped: clients.filter((c) => c.unexpectedlyClosed).length,
      closeCodes: closeCodes(clients),
      cpuB: cpu(wb0, wb1, ib0, ib1),
      cpuA: cpu(wa0, wa1, ia0, ia1)
    })
  } catch (e) {
    result.error = e.message
  } finally {
    await Promise.all(clients.map((c) => c.close()))
    result.aliveAtEnd = a.alive && b.alive && (await a.healthy()) && (await b.healthy())
    for (const server of servers) {
      const stop = await server.stop()
      if (stop.killed) result.stopKilled = true
      if (server.crashed) result.crashed = { process: server.name, ...server.crashed }
    }
    await target.cleanup()
  }
  return result
}

module.exports = { fanout, idle, storm, stormFloor, board, crossProcess, summary, MB }
