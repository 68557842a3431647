// A helper process of the idle-connections scenario: holds a share of the idle clients, so
// that no single process needs more file descriptors than RLIMIT_NOFILE allows.
//
// Messages from the parent (child_process.fork IPC):
//   { cmd: 'open', list: [clientOpts...], concurrency, syncTimeoutMs, localAddresses }
//       → { type: 'opened', ok, failed, errors, ms, syncMs: [...] }
//   { cmd: 'check' } → { type: 'checked', open, unexpectedlyClosed, closeCodes }
//   { cmd: 'close' } → { type: 'closed', ms } and the process exits.
'use strict'

const { Client } = require('./proto')

const clients = []

async function openAll ({ list, concurrency, syncTimeoutMs, localAddresses }) {
  const t0 = Date.now()
  let next = 0
  let ok = 0
  let failed = 0
  const errors = {}
  const syncMs = []
  async function lane () {
    while (next < list.length) {
      const i = next++
      const c = new Client({ ...list[i], withDoc: false, localAddress: localAddresses[i % localAddresses.length] })
      clients.push(c)
      try {
        await c.open()
        await c.whenSynced(syncTimeoutMs)
        ok++
        syncMs.push(c.tSynced - c.tStart)
      } catch (e) {
        failed++
        const k = String(e.message).slice(0, 120)
        errors[k] = (errors[k] || 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane))
  return { type: 'opened', ok, failed, errors, ms: Date.now() - t0, syncMs }
}

function check () {
  const closeCodes = {}
  let open = 0
  let unexpectedlyClosed = 0
  for (const c of clients) {
    if (!c.closed) open++
    else if (c.unexpectedlyClosed) {
      unexpectedlyClosed++
      const k = `${c.closeCode} ${c.closeReason}`.trim()
      closeCodes[k] = (closeCodes[k] || 0) + 1
    }
  }
  return { type: 'checked', open, unexpectedlyClosed, closeCodes }
}

async function closeAll () {
  const t0 = Date.now()
  for (let i = 0; i < clients.length; i += 500) {
    await Promise.all(clients.slice(i, i + 500).map((c) => c.close(5000)))
  }
  return { type: 'closed', ms: Date.now() - t0 }
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'open') process.send(await openAll(m))
    else if (m.cmd === 'check') process.send(check())
    else if (m.cmd === 'close') {
      process.send(await closeAll(), () => process.exit(0))
    }
  } catch (e) {
    process.send({ type: 'error', message: e.stack || String(e) })
  }
})
process.on('disconnect', () => process.exit(0))
