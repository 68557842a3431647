// The join storm's floor: the least a y-sync server can do for a client to count as synced.
// It completes the WebSocket handshake and answers every sync step 1 with an empty step 2;
// it keeps no document, relays nothing and ignores awareness. The storm's sync times
// against it are what the load generator and this machine's network stack allow at best.
'use strict'
const http = require('http')
const { WebSocketServer } = require('ws')

// Message type 0 (sync), step 2 (1), an update of 2 bytes: the empty v1 update [0, 0].
const EMPTY_STEP2 = Buffer.from([0, 1, 2, 0, 0])

const server = http.createServer((req, res) => res.end('floor'))
const wss = new WebSocketServer({ server })
wss.on('connection', (ws) => {
  ws.on('message', (m) => {
    if (m[0] === 0 && m[1] === 0) ws.send(EMPTY_STEP2)
  })
})
server.listen({ host: process.env.HOST || '127.0.0.1', port: Number(process.env.PORT), backlog: 4096 })
