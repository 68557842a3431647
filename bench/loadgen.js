#!/usr/bin/env node
// Easel's load benchmark: drives Easel (SQLite and Postgres) and two competitors
// (@y/websocket-server, @hocuspocus/server) through the same scenarios with the same
// lightweight y-sync clients, then prints one table with Easel's figures next to the
// competitors' and as ratios (Easel ÷ best competitor). See bench/README.md.
//
//   node bench/loadgen.js [--quick] [--targets a,b] [--scenarios fanout,idle,storm,board,cross-process]
//                         [--idle N,N] [--storm N] [--board N,N] [--json FILE]
//
// Exits 1 when a server crashed, when Easel lost updates (fan-out loss, an incomplete
// board, a joiner missing shapes, an update that did not reach the other process) or a
// scenario could not run against Easel; 2 on a bad invocation. Timing figures never fail
// the run.
'use strict'

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { makeTargets, nofileLimit, EASEL_BIN } = require('./lib/targets')
const scenarios = require('./lib/scenarios')

const ALL_TARGETS = ['easel-sqlite', 'easel-postgres', 'y-websocket', 'hocuspocus']
const COMPETITORS = ['y-websocket', 'hocuspocus']
/** The scenarios run against every target, one column each in the table. */
const PER_TARGET = ['fanout', 'idle', 'storm', 'board']

const PROFILES = {
  full: {
    targets: ALL_TARGETS,
    fanout: { rooms: 10, clients: 20, senders: 2, rate: 20, warmupMs: 3000, measureMs: 10_000, drainMs: 5000 },
    idle: [2000, 20_000],
    idleSettleMs: 3000,
    storm: { clients: 1000 },
    board: [10_000, 50_000],
    crossProcess: { updates: 2000, rate: 50, warmup: 20, drainMs: 10_000 }
  },
  quick: {
    targets: ['easel-sqlite', 'easel-postgres', 'y-websocket'],
    fanout: { rooms: 2, clients: 5, senders: 2, rate: 20, warmupMs: 1000, measureMs: 3000, drainMs: 3000 },
    idle: [200],
    idleSettleMs: 1000,
    storm: { clients: 100, leaveSettleMs: 1000 },
    board: [2000],
    crossProcess: { updates: 300, rate: 50, warmup: 20, drainMs: 5000 }
  }
}

function parseArgs (argv) {
  const a = { quick: false, targets: null, scenarios: [...PER_TARGET, 'cross-process'], json: null }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    const v = () => { if (i + 1 >= argv.length) usage(`${k} needs a value`); return argv[++i] }
    if (k === '--quick') a.quick = true
    else if (k === '--targets') a.targets = v().split(',').filter(Boolean)
    else if (k === '--scenarios') a.scenarios = v().split(',').filter(Boolean)
    else if (k === '--json') a.json = v()
    else if (k === '--idle') a.idle = v().split(',').map(Number)
    else if (k === '--storm') a.storm = Number(v())
    else if (k === '--board') a.board = v().split(',').map(Number)
    else if (k === '-h' || k === '--help') usage()
    else usage(`unknown argument ${k}`)
  }
  return a
}

function usage (err) {
  const text = 'usage: loadgen.js [--quick] [--targets easel-sqlite,easel-postgres,y-websocket,hocuspocus] [--scenarios fanout,idle,storm,board,cross-process] [--idle N,N] [--storm N] [--board N,N] [--json FILE]'
  if (err) { console.error(`loadgen: ${err}\n${text}`); process.exit(2) }
  console.log(text)
  process.exit(0)
}

const log = (...m) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...m)

// ---------------------------------------------------------------------------------------
// Formatting

const mb = (kb) => (kb == null ? null : kb / 1024)
function fmtNum (v, digits) {
  if (v == null || Number.isNaN(v)) return '–'
  if (typeof v === 'string') return v
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2)
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
}

/** The rows of the table: label, how to read a value from a target's results, which way is better. */
function tableRows (profile) {
  const rows = []
  const f = profile.fanout
  const sec = (title) => rows.push({ section: title })
  const row = (label, get, better, digits) => rows.push({ label, get, better, digits })
  sec(`Fan-out: ${f.rooms} rooms × ${f.clients} clients, ${f.senders} senders/room @ ${f.rate} updates/s, ${f.measureMs / 1000} s`)
  row('latency p50 (ms)', (r) => r.fanout?.latency?.p50, 'lower')
  row('latency p99 (ms)', (r) => r.fanout?.latency?.p99, 'lower')
  row('latency max (ms)', (r) => r.fanout?.latency?.max, 'lower')
  row('deliveries lost / expected', (r) => r.fanout && r.fanout.expected != null ? `${r.fanout.lost} / ${r.fanout.expected}` : null)
  row('server CPU (% of one core)', (r) => r.fanout?.serverCpu, 'lower', 1)
  row('server RSS (MB)', (r) => mb(r.fanout?.serverRssKb), 'lower', 1)
  row('load generator CPU (% of one core)', (r) => r.fanout?.loadgenCpu, null, 0)
  for (const { n, asked } of profile.idleN) {
    sec(`Idle connections: ${n.toLocaleString('en-US')}${n !== asked ? ` (asked ${asked.toLocaleString('en-US')}; capped by RLIMIT_NOFILE)` : ''}`)
    for (const mode of ['one', 'own']) {
      const key = `idle-${mode}-${n}`
      const where = mode === 'one' ? 'one room' : 'own rooms'
      row(`${where}: KB per connection`, (r) => r[key]?.kbPerConn, 'lower', 1)
      row(`${where}: connected / asked`, (r) => r[key] && r[key].connected != null ? `${r[key].connected} / ${n}` : null)
      row(`${where}: connect + sync all (s)`, (r) => r[key]?.connectMs != null ? r[key].connectMs / 1000 : null, 'lower', 1)
      row(`${where}: RSS before → with conns → after close (MB)`, (r) => r[key] && r[key].rssAfterKb != null
        ? `${fmtNum(mb(r[key].rssBeforeKb), 0)} → ${fmtNum(mb(r[key].rssAfterKb), 0)} → ${fmtNum(mb(r[key].rssAfterCloseKb), 0)}`
        : null)
    }
  }
  const s = profile.storm
  sec(`Join storm: ${s.clients.toLocaleString('en-US')} clients with awareness join one room at once, then leave`)
  row('sync time p50 (ms)', (r) => r.storm?.syncP50, 'lower')
  row('sync time p99 (ms)', (r) => r.storm?.syncP99, 'lower')
  row('all synced after (ms)', (r) => r.storm?.allSyncedMs, 'lower')
  row('CPU until all synced: server / joiners (ms)', (r) => r.storm && r.storm.serverCpuMs != null
    ? `${fmtNum(r.storm.serverCpuMs, 0)} / ${r.storm.joinersCpuMs != null ? fmtNum(r.storm.joinersCpuMs, 0) : '–'}`
    : null)
  row('synced / dropped / crashed', (r) => r.storm && r.storm.synced != null ? `${r.storm.synced} / ${r.storm.dropped} / ${r.storm.crashed ? 'CRASHED' : 'no'}` : null)
  row('newcomer sees awareness states', (r) => r.storm && r.storm.newcomerSeesAwareness != null ? `${r.storm.newcomerSeesAwareness} / ${r.storm.awarenessExpected}` : null)
  row('RSS peak (MB)', (r) => mb(r.storm?.rssPeakKb), 'lower', 1)
  row('RSS before → peak → after leave (MB)', (r) => r.storm && r.storm.rssBeforeKb != null
    ? `${fmtNum(mb(r.storm.rssBeforeKb), 0)} → ${fmtNum(mb(r.storm.rssPeakKb), 0)} → ${fmtNum(mb(r.storm.rssAfterLeaveKb), 0)}`
    : null)
  for (const n of profile.board) {
    const key = `board-${n}`
    sec(`Big board: ${n.toLocaleString('en-US')} shapes, 100 per transaction`)
    row('fill rate (shapes/s)', (r) => r[key]?.fillRate, 'higher', 0)
    row('fresh join → step 2 on the socket (ms, median of 3)', (r) => r[key]?.step2Ms, 'lower')
    row('fresh join → synced (ms, median of 3)', (r) => r[key]?.joinMs, 'lower')
    row('server RSS after fill (MB)', (r) => mb(r[key]?.rssAfterFillKb), 'lower', 1)
    row('complete (observer / joiners)', (r) => r[key] && r[key].observed != null ? `${r[key].complete ? 'yes' : `NO (${r[key].observed})`} / ${r[key].joinsComplete ? 'yes' : 'NO'}` : null)
    row('cold join after restart → step 2 on the socket (ms; Easel only)', (r) => r[key]?.coldStep2Ms, null)
    row('cold join after restart → synced (ms; Easel only)', (r) => r[key]?.coldJoinMs, null)
  }
  sec('Status')
  row('server crashed in', (r) => {
    const crashed = Object.entries(r).filter(([, v]) => v && v.crashed).map(([k]) => k)
    return Object.keys(r).length ? (crashed.length ? `CRASHED: ${crashed.join(', ')}` : 'none') : null
  })
  row('scenarios that could not run', (r) => {
    const failed = Object.entries(r).filter(([, v]) => v && v.error).map(([k]) => k)
    return Object.keys(r).length ? (failed.length ? failed.join(', ') : 'none') : null
  })
  return rows
}

function renderTable (rows, results, targetNames) {
  const easels = targetNames.filter((t) => t.startsWith('easel'))
  const comps = targetNames.filter((t) => COMPETITORS.includes(t))
  const header = ['', ...targetNames, ...(comps.length ? easels.map((e) => `${e.replace('easel-', '')} ÷ best`) : [])]
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`]
  for (const r of rows) {
    if (r.section) {
      lines.push(`| **${r.section}** |${' |'.repeat(header.length - 1)}`)
      continue
    }
    const vals = targetNames.map((t) => { try { return r.get(results[t] || {}) } catch { return null } })
    const cells = vals.map((v) => fmtNum(v, r.digits))
    const ratios = []
    if (comps.length) {
      const compVals = comps.map((c) => { try { return r.get(results[c] || {}) } catch { return null } }).filter((v) => typeof v === 'number' && Number.isFinite(v))
      for (const e of easels) {
        const ev = vals[targetNames.indexOf(e)]
        if (!r.better || typeof ev !== 'number' || compVals.length === 0) { ratios.push('–'); continue }
        const best = r.better === 'lower' ? Math.min(...compVals) : Math.max(...compVals)
        ratios.push(best > 0 ? `${fmtNum(ev / best, 2)}×` : '–')
      }
    }
    lines.push(`| ${r.label} | ${[...cells, ...ratios].join(' | ')} |`)
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------
// Verdict: what fails the run (crashes, Easel losing updates) and what is only noted.

function judge (results) {
  const failures = []
  const notes = []
  for (const [t, byScenario] of Object.entries(results)) {
    const easel = t.startsWith('easel')
    for (const [s, r] of Object.entries(byScenario)) {
      const where = `${t} ${s}`
      // Any crash of Easel fails the run; a competitor's crash is reported, not failed on
      // (it is their bug, and the figures before it still stand).
      if (r.crashed) {
        (easel ? failures : notes).push(`${where}: the server crashed (${JSON.stringify({ code: r.crashed.code, signal: r.crashed.signal })}); its last output:\n${r.crashed.log.split('\n').filter(Boolean).slice(-12).map((l) => `    ${l}`).join('\n') || '    (none)'}`)
      }
      if (r.error) (easel ? failures : notes).push(`${where}: scenario failed: ${r.error}`)
      if (r.stopKilled) notes.push(`${where}: did not stop within 20 s of SIGTERM (killed)`)
      if (!r.aliveAtEnd && !r.crashed && !r.error) notes.push(`${where}: not healthy at the end of the scenario`)
      if (s === 'fanout' && r.expected != null) {
        const msg = `${where}: ${r.lost} of ${r.expected} deliveries lost, ${r.divergedRooms} diverged rooms, ${r.dropped} clients dropped ${JSON.stringify(r.closeCodes)}`
        if (r.lost > 0 || r.divergedRooms > 0) (easel ? failures : notes).push(msg)
        else if (r.dropped > 0) notes.push(msg)
      }
      if (s.startsWith('board') && r.observed != null) {
        if (!r.complete || !r.joinsComplete || (r.coldJoinSize !== undefined && r.coldJoinSize !== r.n)) {
          (easel ? failures : notes).push(`${where}: board incomplete: observer saw ${r.observed}/${r.n}, joiners ${JSON.stringify(r.joinSizes)}, cold join ${JSON.stringify(r.coldJoinSize)}`)
        }
      }
      if (s === 'storm' && r.synced != null) {
        if (!r.seeded) (easel ? failures : notes).push(`${where}: the seeded shapes did not reach a second client`)
        if (r.synced < r.n || r.dropped > 0 || r.incomplete > 0 || !r.seederSurvived) {
          notes.push(`${where}: ${r.synced}/${r.n} synced, ${r.dropped} dropped ${JSON.stringify(r.closeCodes)}, ${r.incomplete} synced holding less than the board, failures ${JSON.stringify(r.failures)}, seeder survived: ${r.seederSurvived}`)
        }
        if (r.newcomerSeesAwareness != null && r.newcomerSeesAwareness !== r.awarenessExpected) {
          notes.push(`${where}: a newcomer saw ${r.newcomerSeesAwareness} awareness states, expected ${r.awarenessExpected}`)
        }
      }
      if (s.startsWith('idle') && r.connected != null) {
        if (r.failed > 0 || r.dropped > 0) notes.push(`${where}: ${r.failed} failed to connect/sync ${JSON.stringify(r.errors)}, ${r.dropped} dropped while idle ${JSON.stringify(r.closeCodes)}`)
      }
    }
  }
  return { failures, notes }
}

/**
 * What fails the run in the cross-process scenario (a crash, an error, a lost update) and
 * what is only noted (a process that would not stop or was not healthy at the end).
 */
function judgeCross (r) {
  const failures = []
  const notes = []
  if (!r) return { failures, notes }
  const where = 'easel-postgres cross-process'
  if (r.crashed) failures.push(`${where}: ${r.crashed.process} crashed (${JSON.stringify({ code: r.crashed.code, signal: r.crashed.signal })}); its last output:\n${r.crashed.log.split('\n').filter(Boolean).slice(-12).map((l) => `    ${l}`).join('\n') || '    (none)'}`)
  if (r.error) failures.push(`${where}: scenario failed: ${r.error.split('\n')[0]}`)
  if (r.lostB != null && (r.lostB > 0 || r.lostA > 0 || r.diverged)) {
    failures.push(`${where}: of ${r.updates} updates, ${r.lostB} never reached the reader on process B and ${r.lostA} the reader on A; shapes held ${JSON.stringify(r.shapes)}`)
  }
  if (r.stopKilled) notes.push(`${where}: a process did not stop within 20 s of SIGTERM (killed)`)
  if (r.aliveAtEnd === false && !r.crashed && !r.error) notes.push(`${where}: a process was not healthy at the end of the scenario`)
  return { failures, notes }
}

/** The cross-process scenario's table: the reader and process on B beside those on A. */
function renderCross (r) {
  const head = `Cross-process delivery (easel-postgres: two \`easel serve\` processes, A and B, on one fresh database; a writer on A sends ${r.updates.toLocaleString('en-US')} one-shape updates at ${r.rate}/s to one board; a reader on each process)`
  if (r.error && r.lostB == null) return `${head}: could not run (${r.error.split('\n')[0]})\n`
  const cell = (x, digits) => [fmtNum(x(r.cpuB ?? {}, r.cross, 'B'), digits), fmtNum(x(r.cpuA ?? {}, r.same, 'A'), digits)]
  const rows = [
    ['delivery latency p50 (ms; writer\'s send → reader)', (c, l) => l.p50],
    ['delivery latency p99 (ms)', (c, l) => l.p99],
    ['delivery latency max (ms)', (c, l) => l.max],
    ['reader on B after reader on A, p50 / p99 / max (ms)', (c, l, p) => p === 'B' && r.behindA ? `${fmtNum(r.behindA.p50)} / ${fmtNum(r.behindA.p99)} / ${fmtNum(r.behindA.max)}` : null],
    ['updates received / sent', (c, l, p) => `${p === 'B' ? r.updates - r.lostB : r.updates - r.lostA} / ${r.updates}`],
    [`process CPU during the writes (ms, ${fmtNum(r.writeWindowMs / 1000, 1)} s)`, (c) => c.writesMs, 0],
    ['process CPU idle for as long, same clients (ms)', (c) => c.idleMs, 0],
    ['CPU per update during the writes (µs)', (c) => c.usPerUpdate, 0],
    ['CPU per update above idle (µs)', (c) => c.aboveIdleUsPerUpdate, 0]
  ]
  const lines = ['| | reader on B / process B (follows the log) | reader on A / process A (the writer\'s) |', '|---|---:|---:|']
  for (const [label, get, digits] of rows) lines.push(`| ${label} | ${cell(get, digits).join(' | ')} |`)
  return `${head}:\n\n${lines.join('\n')}\n`
}

// ---------------------------------------------------------------------------------------

async function main () {
  const args = parseArgs(process.argv.slice(2))
  const profile = { ...PROFILES[args.quick ? 'quick' : 'full'] }
  if (args.idle) profile.idle = args.idle
  if (args.storm) profile.storm = { ...profile.storm, clients: args.storm }
  if (args.board) profile.board = args.board
  const targetNames = args.targets || profile.targets
  for (const t of targetNames) if (!ALL_TARGETS.includes(t)) usage(`unknown target ${t}`)
  for (const sc of args.scenarios) if (![...PER_TARGET, 'cross-process'].includes(sc)) usage(`unknown scenario ${sc}`)
  const nofile = nofileLimit()
  // Each idle connection costs the server one descriptor: stay below the limit it inherits.
  const cap = Math.max(100, Math.floor((nofile - 500) / 500) * 500)
  profile.idleN = profile.idle.map((asked) => ({ n: Math.min(asked, cap), asked }))
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-bench-'))
  const adminUrl = process.env.EASEL_TEST_DATABASE_URL || process.env.EASEL_BENCH_DATABASE_URL || null
  const targets = makeTargets(targetNames, { adminUrl, workDir })
  const started = new Date()
  const t0 = Date.now()
  let rev = 'unknown'
  try { rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: __dirname, encoding: 'utf8' }).trim() } catch {}
  log(`mode ${args.quick ? 'quick' : 'full'}; targets ${targetNames.join(', ')}; RLIMIT_NOFILE ${nofile}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)

  const results = {}
  // The per-target scenarios and their table, unless only the cross-process scenario runs.
  const perTarget = args.scenarios.some((sc) => PER_TARGET.includes(sc))
  for (const target of perTarget ? targets : []) {
    results[target.name] = {}
    const why = await target.available()
    if (why) {
      results[target.name].setup = { error: `not available: ${why}` }
      log(`${target.name}: skipped: ${why}`)
      continue
    }
    const runOne = async (key, fn) => {
      log(`${target.name}: ${key} ...`)
      const t = Date.now()
      let r
      try { r = await fn() } catch (e) { r = { error: e.stack || e.message } }
      results[target.name][key] = r
      log(`${target.name}: ${key} done in ${((Date.now() - t) / 1000).toFixed(1)} s${r.error ? ` — ERROR ${r.error.split('\n')[0]}` : ''}${r.crashed ? ' — CRASHED' : ''}`)
    }
    if (args.scenarios.includes('fanout')) await runOne('fanout', () => scenarios.fanout(target, profile.fanout))
    if (args.scenarios.includes('idle')) {
      for (const { n } of profile.idleN) {
        for (const mode of ['one', 'own']) await runOne(`idle-${mode}-${n}`, () => scenarios.idle(target, { n, mode, settleMs: profile.idleSettleMs }))
      }
    }
    if (args.scenarios.includes('storm')) await runOne('storm', () => scenarios.storm(target, profile.storm))
    if (args.scenarios.includes('board')) {
      for (const n of profile.board) await runOne(`board-${n}`, () => scenarios.board(target, { shapes: n, coldJoin: target.kind === 'easel' }))
    }
  }
  // The storm's floor: the same clients against a server that only answers step 1.
  let floor = null
  if (args.scenarios.includes('storm')) {
    log('floor: storm ...')
    const [target] = makeTargets(['floor'], { adminUrl, workDir })
    try { floor = await scenarios.stormFloor(target, profile.storm) } catch (e) { floor = { error: e.stack || e.message } }
  }
  // The fan-out floors: the same load against a server that only relays bytes, and against
  // one that also appends each update to Postgres, or to SQLite, before relaying it.
  const fanoutFloor = async (name) => {
    if (!args.scenarios.includes('fanout')) return null
    const [target] = makeTargets([name], { adminUrl, workDir })
    const why = await target.available()
    if (why) return { error: `not available: ${why}` }
    log(`${name}: fanout ...`)
    try { return await scenarios.fanout(target, profile.fanout) } catch (e) { return { error: e.stack || e.message } }
  }
  const relayFloor = await fanoutFloor('relay-floor')
  const durableFloor = await fanoutFloor('durable-floor')
  const durableFloorSqlite = await fanoutFloor('durable-floor-sqlite')
  // The idle floor: the same idle clients against actix-web and actix-ws doing nothing else.
  const idleFloor = []
  if (args.scenarios.includes('idle')) {
    const [target] = makeTargets(['actix-floor'], { adminUrl, workDir })
    const why = await target.available()
    for (const { n } of profile.idleN) {
      if (why) { idleFloor.push({ n, error: `not available: ${why}` }); continue }
      log(`actix-floor: idle ${n} ...`)
      try { idleFloor.push(await scenarios.idle(target, { n, mode: 'one', settleMs: profile.idleSettleMs })) } catch (e) { idleFloor.push({ n, error: e.stack || e.message }) }
    }
  }
  // Two Easel processes on one Postgres database: delivery from one to the other, and the
  // CPU the other spends following the board's log.
  let cross = null
  if (args.scenarios.includes('cross-process') && targetNames.includes('easel-postgres')) {
    const [target] = makeTargets(['easel-postgres'], { adminUrl, workDir })
    const why = await target.available()
    log('easel-postgres: cross-process ...')
    try { cross = why ? { error: `not available: ${why}` } : await scenarios.crossProcess(target, profile.crossProcess) } catch (e) { cross = { error: e.stack || e.message } }
  }
  // What yrs alone needs to hold each board (server/examples/doc_memory.rs).
  const docMemory = []
  if (args.scenarios.includes('board') && process.env.EASEL_DOC_MEMORY_BIN) {
    for (const n of profile.board) {
      try {
        docMemory.push(JSON.parse(execFileSync(process.env.EASEL_DOC_MEMORY_BIN, [String(n)], { encoding: 'utf8' })))
      } catch (e) { docMemory.push({ shapes: n, error: e.message }) }
    }
  }
  const elapsed = (Date.now() - t0) / 1000

  const rows = tableRows(profile)
  const table = renderTable(rows, results, targetNames)
  const { failures, notes } = judge(results)
  const crossVerdict = judgeCross(cross)
  failures.push(...crossVerdict.failures)
  notes.push(...crossVerdict.notes)
  const header = [
    `Easel load benchmark (${args.quick ? 'quick' : 'full'}), ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, easel ${rev}`,
    `machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average at start ${os.loadavg()[0].toFixed(2)}; node ${process.version}; RLIMIT_NOFILE ${nofile}; took ${elapsed.toFixed(0)} s`,
    'ratios: Easel ÷ best competitor (lower is better except fill rate); "–" where not comparable'
  ]
  console.log(`\n${header.join('\n')}\n${perTarget ? `\n${table}\n` : ''}`)
  if (floor) {
    console.log(floor.error
      ? `Join storm floor: could not run (${floor.error.split('\n')[0]})\n`
      : `Join storm floor (the same ${floor.n.toLocaleString('en-US')} joiners, ${floor.joiners === 'rust' ? 'one Rust thread (bench/clients)' : 'in the load generator\'s Node thread'}, against ${process.env.EASEL_STORM_FLOOR_BIN ? 'storm-floor (bench/clients, Rust)' : 'bench/servers/floor.cjs (Node)'}, which only answers step 1): ` +
        `${floor.synced} synced, sync time p50 ${fmtNum(floor.syncP50, 0)} ms, p99 ${fmtNum(floor.syncP99, 0)} ms, all after ${fmtNum(floor.allSyncedMs, 0)} ms` +
        `${floor.joinersCpuMs != null ? `; the joiners used ${fmtNum(floor.joinersCpuMs, 0)} ms of CPU` : ''}. ` +
        'The storm rows include this cost of the load generator and the machine.\n')
  }
  const floorLine = (f, title, what, meaning) => {
    if (!f) return
    console.log(f.error
      ? `${title}: could not run (${f.error.split('\n')[0]})\n`
      : `${title} (the same load against ${what}): ` +
        `latency p50 ${fmtNum(f.latency.p50, 2)} ms, p99 ${fmtNum(f.latency.p99, 2)} ms, max ${fmtNum(f.latency.max, 1)} ms, ` +
        `${f.lost} of ${f.expected} deliveries lost, server CPU ${fmtNum(f.serverCpu, 1)} % of one core. ${meaning}\n`)
  }
  floorLine(relayFloor, 'Fan-out floor', 'relay-floor, bench/clients: a tokio relay that forwards each update byte for byte and keeps nothing',
    'The fan-out rows include this cost of the load generator and the machine.')
  floorLine(durableFloor, 'Durable fan-out floor', 'relay-floor with DATABASE_URL: the same relay, appending every update to Postgres, all rooms in one INSERT per group commit, before relaying it',
    'No server that makes every update durable on Postgres before fanning it out can do better here.')
  floorLine(durableFloorSqlite, 'Durable fan-out floor on SQLite', 'relay-floor with a sqlite: DATABASE_URL: the same, appending to an SQLite file in WAL mode with a full fsync per commit, as Easel\'s embedded store',
    'No server that makes every update durable in SQLite before fanning it out can do better here.')
  for (const f of idleFloor) {
    console.log(f.error
      ? `Idle floor, ${f.n} connections: could not run (${f.error.split('\n')[0]})\n`
      : `Idle floor (the same ${f.n.toLocaleString('en-US')} idle clients against actix-floor, bench/clients: actix-web and actix-ws answering step 1 and nothing else): ` +
        `${fmtNum(f.kbPerConn, 1)} KB per connection, ${f.connected} / ${f.n} connected, ${f.dropped} dropped. ` +
        'No server built on actix-web and actix-ws, as Easel is, can hold an idle connection in less.\n')
  }
  for (const d of docMemory) {
    console.log(d.error
      ? `yrs alone, ${d.shapes} shapes: could not run (${d.error.split('\n')[0]})\n`
      : `yrs alone (server/examples/doc_memory.rs) holds the ${d.shapes.toLocaleString('en-US')}-shape board in ${fmtNum(d.docRssKb / 1024, 1)} MB ` +
        `(v1 encoding ${fmtNum(d.v1Bytes / 2 ** 20, 1)} MB, v2 as snapshots store it ${fmtNum(d.v2Bytes / 2 ** 20, 1)} MB): Easel's RSS after that fill cannot go below it plus what the server holds at rest. ` +
        `The same number of shapes in the web client's layout (a Y.Map per element, a tenth recoloured): v1 ${fmtNum(d.schemaV1Bytes / 2 ** 20, 1)} MB, v2 ${fmtNum(d.schemaV2Bytes / 2 ** 20, 1)} MB.\n`)
  }
  if (cross) console.log(renderCross(cross))
  if (notes.length) console.log(`Notes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`)
  if (failures.length) console.log(`FAILURES:\n${failures.map((n) => `- ${n}`).join('\n')}\n`)
  const json = args.json || path.join(__dirname, 'results', `last-${args.quick ? 'quick' : 'full'}.json`)
  fs.mkdirSync(path.dirname(json), { recursive: true })
  fs.writeFileSync(json, JSON.stringify({ started, elapsed, mode: args.quick ? 'quick' : 'full', rev, nofile, profile, results, floor, relayFloor, durableFloor, durableFloorSqlite, idleFloor, cross, docMemory, failures, notes, table }, null, 2))
  log(`results written to ${path.relative(process.cwd(), json)}`)
  fs.rmSync(workDir, { recursive: true, force: true })
  process.exit(failures.length ? 1 : 0)
}

main().catch((e) => {
  console.error(e.stack || e)
  process.exit(1)
})
