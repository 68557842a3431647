// @hocuspocus/server as a competitor: no extensions (no persistence, no auth hook), on
// HOST:PORT. The idle timeout is raised from 60 s to 10 min so that idle benchmark
// connections (which, like the bench's other servers' clients, send nothing while idle)
// are not closed while thousands of others are still connecting.
'use strict'
const { Server } = require('@hocuspocus/server')

const server = new Server({
  address: process.env.HOST || '127.0.0.1',
  port: Number(process.env.PORT || 1234),
  quiet: true,
  timeout: 10 * 60_000,
  stopOnSignals: true
})
server.listen().then(() => console.log(`hocuspocus listening on ${process.env.HOST}:${process.env.PORT}`))
