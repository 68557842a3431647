// The self-hosting test: builds the real Dockerfile, runs the real docker-compose.yml, and
// talks to it the way a person and a stock client would (REST over HTTP, `yjs` +
// `y-websocket` over WebSockets). Prints what an operator cares about: the build times, the
// image size, the time from `up` to a healthy board, and how long a graceful stop takes.
//
// Run by scripts/test-docker (which starts dockerd when none runs and makes the local base
// images), never by a bare `node --test` here: it needs Docker and takes minutes. Settings:
//   EASEL_DOCKER_BUILD_ARGS  "RUST_IMAGE=… NODE_IMAGE=… RUNTIME_IMAGE=… EASEL_POSTGRES_IMAGE=…
//                            EASEL_NGINX_IMAGE=…" (tests/docker/make-bases prints it)
//   EASEL_DOCKER_CA_BUNDLE   a CA bundle passed to the build as the `ca_bundle` secret
'use strict'

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const WebSocket = require('ws')

const REPO_ROOT = path.resolve(__dirname, '../..')
// The browser end-to-end tests' playwright-core (web/e2e), driving Debian's Chromium.
const { chromium } = require(path.join(REPO_ROOT, 'web/e2e/node_modules/playwright-core'))
const CHROMIUM = process.env.EASEL_CHROMIUM || '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const ARTIFACTS = path.join(REPO_ROOT, 'web/e2e/artifacts')
const DOCKER = '/usr/bin/docker'
const COMPOSE = 'docker-compose'
const IMAGE = `easel:test-${process.pid}`
const PROJECT = `easeltest${process.pid}`
const WAIT_MS = 30_000
const HEALTHY_WITHIN_MS = 120_000
/** docker-compose.yml's stop_grace_period. */
const GRACE_MS = 45_000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`
const figures = []
function figure (name, value) {
  figures.push([name, value])
  console.log(`# docker: ${name}: ${value}`)
}

const buildArgs = Object.fromEntries(
  (process.env.EASEL_DOCKER_BUILD_ARGS || '').split(/\s+/).filter(Boolean).map((kv) => kv.split('='))
)

/**
 * Runs `cmd args`; resolves with { code, stdout, stderr, ms }. Rejects on a non-zero exit
 * unless `allowFail`. `log` also copies the output to that file.
 */
function run (cmd, args, { env = {}, allowFail = false, log = null } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    const sink = log ? fs.createWriteStream(log, { flags: 'a' }) : null
    child.stdout.on('data', (d) => { stdout += d; if (sink) sink.write(d) })
    child.stderr.on('data', (d) => { stderr += d; if (sink) sink.write(d) })
    child.on('error', reject)
    child.on('close', (code) => {
      if (sink) sink.end()
      const result = { code, stdout, stderr, ms: Date.now() - started }
      if (code !== 0 && !allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr.slice(-4000)}`))
      } else resolve(result)
    })
  })
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

async function waitFor (what, predicate, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** The build: the real Dockerfile on the repo, with the local base images and CA secret. */
function dockerBuild (context, tag, log) {
  const args = ['build', '--progress=plain', '-t', tag]
  for (const name of ['NODE_IMAGE', 'RUST_IMAGE', 'RUNTIME_IMAGE']) {
    if (buildArgs[name]) args.push('--build-arg', `${name}=${buildArgs[name]}`)
  }
  if (process.env.EASEL_DOCKER_CA_BUNDLE) {
    args.push('--secret', `id=ca_bundle,src=${process.env.EASEL_DOCKER_CA_BUNDLE}`)
  }
  args.push(context)
  return run(DOCKER, args, { env: { DOCKER_BUILDKIT: '1' }, log })
}

/** A compose project on the repo's docker-compose.yml (plus `extraFiles`), settings from `envFile`. */
function composer (envFile, extraFiles = []) {
  const files = ['-f', 'docker-compose.yml', ...extraFiles.flatMap((f) => ['-f', f])]
  return (args, opts = {}) =>
    run(COMPOSE, ['--project-name', PROJECT, '--env-file', envFile, ...files, ...args], opts)
}

function writeEnvFile (file, settings) {
  fs.writeFileSync(file, Object.entries(settings).map(([k, v]) => `${k}=${v}\n`).join(''))
}

async function containerOf (compose, service) {
  const { stdout } = await compose(['ps', '-q', service])
  const id = stdout.trim()
  assert.ok(id, `${service} has a container`)
  return id
}

async function inspect (id, format) {
  return (await run(DOCKER, ['inspect', '--format', format, id])).stdout.trim()
}

/** Waits until Easel answers `GET /healthz` through `name` (a proxy) on `port`. */
async function waitAnswers (name, port) {
  await waitFor(`${name} to answer`, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200
    } catch {
      return false
    }
  })
}

/** Waits until `service`'s HEALTHCHECK (`easel health`) reports healthy. */
async function waitHealthy (compose, service) {
  const id = await containerOf(compose, service)
  await waitFor(`${service} to be healthy`, async () => {
    const status = await inspect(id, '{{.State.Health.Status}}')
    if (status === 'unhealthy') throw new Error(`${service} is unhealthy`)
    return status === 'healthy'
  }, HEALTHY_WITHIN_MS)
  return id
}

async function api (port, method, route, { token = null, body = undefined } = {}) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`http://127.0.0.1:${port}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

async function signIn (port, email, password) {
  const res = await api(port, 'POST', '/api/auth/login', { body: { email, password } })
  assert.equal(res.status, 200, JSON.stringify(res.body))
  return res.body.token
}

// ---------------------------------------------------------------------------------------
// Stock y-websocket clients.

const clients = []

function connect (port, board, token) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`ws://127.0.0.1:${port}/ws/boards`, board, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket,
    disableBc: true
  })
  const client = {
    doc,
    provider,
    elements: doc.getMap('elements'),
    close () {
      provider.destroy()
      doc.destroy()
    }
  }
  clients.push(client)
  return client
}

async function connectSynced (port, board, token) {
  const client = connect(port, board, token)
  await waitFor('a client to sync', () => client.provider.synced)
  return client
}

const shapeId = (prefix, i) => `${prefix}-${String(i).padStart(4, '0')}`
const fieldsOf = (prefix, i) => ({
  type: 'rect',
  geom: { x: 7 * i, y: 3 * i + 0.5, w: 40 + (i % 13), h: 30 },
  stroke: ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2'][i % 4],
  label: prefix
})

function draw (client, prefix, n) {
  for (let i = 0; i < n; i++) {
    client.doc.transact(() => {
      const el = new Y.Map()
      client.elements.set(shapeId(prefix, i), el)
      for (const [k, v] of Object.entries(fieldsOf(prefix, i))) el.set(k, v)
    })
  }
}

function countOf (client, prefix, n) {
  let found = 0
  for (let i = 0; i < n; i++) {
    const el = client.elements.get(shapeId(prefix, i))
    if (el instanceof Y.Map && el.get('label') === prefix) found++
  }
  return found
}

function assertShapes (client, prefix, n) {
  for (let i = 0; i < n; i++) {
    const el = client.elements.get(shapeId(prefix, i))
    assert.ok(el instanceof Y.Map, `${shapeId(prefix, i)} is there`)
    assert.deepEqual(el.toJSON(), fieldsOf(prefix, i))
  }
}

// ---------------------------------------------------------------------------------------

test('docker compose: build, run, restart, stop and scale Easel as an operator would', { timeout: 40 * 60_000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-docker-'))
  const buildLog = path.join(work, 'build.log')
  const envFile = path.join(work, 'settings.env')
  const port = await freePort()
  const clusterPort = await freePort()
  const secondPort = await freePort()
  const caddyPort = await freePort()
  const caddy = `${PROJECT}-caddy`
  const admin = { email: 'admin@example.com', password: crypto.randomBytes(12).toString('hex') }
  const settings = {
    EASEL_IMAGE: IMAGE,
    EASEL_POSTGRES_IMAGE: buildArgs.EASEL_POSTGRES_IMAGE || 'postgres:17',
    EASEL_NGINX_IMAGE: buildArgs.EASEL_NGINX_IMAGE || 'nginx:stable-bookworm',
    EASEL_JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    POSTGRES_PASSWORD: crypto.randomBytes(16).toString('hex'),
    EASEL_ADMIN_EMAIL: admin.email,
    EASEL_ADMIN_PASSWORD: admin.password,
    EASEL_PORT: port,
    EASEL_CLUSTER_PORT: clusterPort,
    EASEL_SECOND_PORT: secondPort
  }
  writeEnvFile(envFile, settings)
  const override = path.join(work, 'second-port.yml')
  // Test-only: easel-2 reachable directly too, so a client can be put on each process.
  fs.writeFileSync(override, 'services:\n  easel-2:\n    ports:\n      - "${EASEL_SECOND_PORT}:8080"\n')
  const compose = composer(envFile, [override])

  t.after(async () => {
    for (const c of clients) c.close()
    await run(DOCKER, ['rm', '--force', caddy], { allowFail: true })
    const down = await compose(['--profile', 'cluster', 'down', '--volumes', '--remove-orphans', '--timeout', '5'], { allowFail: true })
    if (down.code !== 0) console.error(down.stderr)
    await run(DOCKER, ['image', 'rm', '--force', IMAGE, `${IMAGE}-rebuilt`], { allowFail: true })
    fs.rmSync(work, { recursive: true, force: true })
    console.log('# docker: summary\n' + figures.map(([k, v]) => `#   ${k}: ${v}`).join('\n'))
  })

  await t.test('the image builds, runs as non-root and has a health check', async () => {
    const built = await dockerBuild('.', IMAGE, buildLog)
    figure('image build (this machine\'s cache as it was)', seconds(built.ms))
    const size = Number(await inspect(IMAGE, '{{.Size}}'))
    figure('image size', `${(size / 1e6).toFixed(1)} MB`)
    assert.equal(await inspect(IMAGE, '{{.Config.User}}'), 'easel:easel')
    assert.match(await inspect(IMAGE, '{{json .Config.Healthcheck.Test}}'), /easel.*health/)
    assert.equal(await inspect(IMAGE, '{{.Config.StopSignal}}'), 'SIGTERM')
    const env = await inspect(IMAGE, '{{json .Config.Env}}')
    assert.match(env, /EASEL_ENV=production/)
    const id = await run(DOCKER, ['run', '--rm', '--entrypoint', 'id', IMAGE])
    assert.match(id.stdout, /^uid=10001\(easel\) gid=10001\(easel\)/)
  })

  await t.test('a change to Easel\'s code rebuilds Easel, not its dependencies', async () => {
    // A copy of the build context with one line added to main.rs.
    const copy = path.join(work, 'context')
    await run('tar', ['-C', REPO_ROOT, '--exclude=./target', '--exclude=node_modules', '--exclude=./.git',
      '--exclude=./web/dist', '-cf', path.join(work, 'context.tar'), '.'])
    fs.mkdirSync(copy)
    await run('tar', ['-C', copy, '-xf', path.join(work, 'context.tar')])
    // Unique to this run, so an earlier run's rebuild cannot come from the cache.
    fs.appendFileSync(path.join(copy, 'server/src/main.rs'), `\n// a change (${crypto.randomUUID()})\n`)
    const rebuilt = await dockerBuild(copy, `${IMAGE}-rebuilt`, path.join(work, 'rebuild.log'))
    figure('image rebuild after a change to server/src', seconds(rebuilt.ms))
    const log = fs.readFileSync(path.join(work, 'rebuild.log'), 'utf8')
    const depsStep = log.match(/^#(\d+) \[server\s+\d+\/\d+\] RUN .*cargo build --release --locked -p easel$/m)
    assert.ok(depsStep, 'the dependency step is in the build log')
    assert.match(log, new RegExp(`^#${depsStep[1]} CACHED$`, 'm'), 'the dependencies came from the cache')
    assert.match(log, /Compiling easel v/, 'Easel itself was compiled')
    assert.doesNotMatch(log, /Compiling (actix-web|sqlx-core|yrs) v/, 'no dependency was compiled')
  })

  await t.test('a missing or weak JWT secret stops Easel with a clear message', async () => {
    const bare = await run(DOCKER, ['run', '--rm', IMAGE], { allowFail: true })
    assert.notEqual(bare.code, 0)
    assert.match(bare.stderr, /EASEL_JWT_SECRET: is required when EASEL_ENV=production/)
    const weak = await run(DOCKER, ['run', '--rm', '-e', `EASEL_JWT_SECRET=${'changeme'.repeat(4)}`, IMAGE], { allowFail: true })
    assert.notEqual(weak.code, 0)
    assert.match(weak.stderr, /EASEL_JWT_SECRET: looks weak/)
    const noSecret = path.join(work, 'no-secret.env')
    writeEnvFile(noSecret, { ...settings, EASEL_JWT_SECRET: '' })
    const up = await composer(noSecret)(['up', '-d'], { allowFail: true })
    assert.notEqual(up.code, 0)
    assert.match(up.stderr, /set EASEL_JWT_SECRET in \.env/)
  })

  let board, token, writer
  await t.test('`docker-compose up` gives a healthy Easel on Postgres with the administrator from the environment', async () => {
    const started = Date.now()
    await compose(['up', '-d'])
    await waitHealthy(compose, 'easel')
    figure('`up` to healthy (a new Postgres volume initialised, migrations applied)', seconds(Date.now() - started))
    token = await signIn(port, admin.email, admin.password)
    const created = await api(port, 'POST', '/api/boards', { token, body: { name: 'Docker board' } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    board = created.body.id
    writer = await connectSynced(port, board, token)
    const reader = await connectSynced(port, board, token)
    draw(writer, 'first', 200)
    await waitFor('the reader to see 200 shapes', () => countOf(reader, 'first', 200) === 200)
    figure('`up` to a board drawn on (200 shapes seen by a second client)', seconds(Date.now() - started))
    assert.equal((await api(port, 'GET', '/readyz')).status, 200)
    const running = await containerOf(compose, 'easel')
    const uid = await run(DOCKER, ['exec', running, 'id', '-u'])
    assert.equal(uid.stdout.trim(), '10001', 'the server runs as easel, not root')
    // The web client built into the image: the page, and the script it loads.
    const page = await fetch(`http://127.0.0.1:${port}/boards/${board}`)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type'), /text\/html/)
    const script = (await page.text()).match(/<script type="module"[^>]* src="(\/assets\/[^"]+\.js)"/)
    assert.ok(script, 'the page loads its script')
    const js = await fetch(`http://127.0.0.1:${port}${script[1]}`)
    assert.equal(js.status, 200)
    assert.match(js.headers.get('content-type'), /javascript/)
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
    assert.equal(metrics.status, 404, '/metrics is on its own port, inside the compose network')
    reader.close()
  })

  await t.test('SIGTERM stops Easel gracefully within the grace period, and nothing is lost', async () => {
    const id = await containerOf(compose, 'easel')
    const watcher = await connectSynced(port, board, token)
    draw(writer, 'during-stop', 300)
    await waitFor('the first shapes to be confirmed', () => countOf(watcher, 'during-stop', 300) > 0)
    const stop = await compose(['stop', 'easel'])
    figure('graceful stop (`docker-compose stop`, SIGTERM)', seconds(stop.ms))
    assert.ok(stop.ms < GRACE_MS, `stopped in ${stop.ms} ms`)
    assert.equal(await inspect(id, '{{.State.ExitCode}}'), '0', 'exited by itself, not killed')
    const logs = await run(DOCKER, ['logs', id])
    const lines = logs.stderr.split('\n').concat(logs.stdout.split('\n')).filter((l) => l.trim())
    assert.ok(lines.length > 0)
    for (const line of lines) JSON.parse(line) // production logs JSON lines
    assert.ok(lines.some((l) => JSON.parse(l).fields?.message === 'easel stopped'), 'the shutdown completed')
    watcher.close()
  })

  await t.test('`down` and `up` again (volumes kept): the board is intact', async () => {
    await compose(['down'])
    const started = Date.now()
    await compose(['up', '-d'])
    await waitHealthy(compose, 'easel')
    figure('`up` to healthy on an existing volume', seconds(Date.now() - started))
    // The writer that lived through the restart reconnects and sends what it has; a fresh
    // client must then see every shape of both batches.
    token = await signIn(port, admin.email, admin.password)
    const fresh = await connectSynced(port, board, token)
    await waitFor('every shape to be back', () =>
      countOf(fresh, 'first', 200) === 200 && countOf(fresh, 'during-stop', 300) === 300, 60_000)
    assertShapes(fresh, 'first', 200)
    assertShapes(fresh, 'during-stop', 300)
    fresh.close()
  })

  await t.test('the cluster profile: two processes behind nginx see each other\'s edits', async () => {
    await compose(['--profile', 'cluster', 'up', '-d'])
    await waitHealthy(compose, 'easel-2')
    await waitAnswers('nginx', clusterPort)
    const one = await connectSynced(port, board, token)
    const two = await connectSynced(secondPort, board, token)
    const proxied = await connectSynced(clusterPort, board, token)
    assert.equal(countOf(proxied, 'first', 200), 200, 'through nginx, the board as saved')
    draw(one, 'on-one', 100)
    draw(two, 'on-two', 100)
    draw(proxied, 'through-nginx', 100)
    for (const [name, client] of [['easel', one], ['easel-2', two], ['nginx', proxied]]) {
      await waitFor(`the client on ${name} to see all 300 new shapes`, () =>
        countOf(client, 'on-one', 100) + countOf(client, 'on-two', 100) + countOf(client, 'through-nginx', 100) === 300)
    }
    assertShapes(one, 'on-two', 100)
    assertShapes(two, 'on-one', 100)
    const metrics = await fetch(`http://127.0.0.1:${clusterPort}/metrics`)
    assert.equal(metrics.status, 404, 'nginx keeps /metrics off the public port')
  })

  await t.test('deploy/Caddyfile in front of the same two processes', async () => {
    await run(DOCKER, ['run', '--detach', '--name', caddy, '--network', `${PROJECT}_default`,
      '--env', 'EASEL_SITE_ADDRESS=:80',
      '--volume', `${path.join(REPO_ROOT, 'deploy/Caddyfile')}:/etc/caddy/Caddyfile:ro`,
      '--publish', `127.0.0.1:${caddyPort}:80`, buildArgs.EASEL_CADDY_IMAGE || 'caddy:2'])
    await waitAnswers('caddy', caddyPort)
    const viaCaddy = await connectSynced(caddyPort, board, token)
    assert.equal(countOf(viaCaddy, 'on-two', 100), 100, 'through Caddy, the board as saved')
    const one = await connectSynced(port, board, token)
    const two = await connectSynced(secondPort, board, token)
    draw(viaCaddy, 'through-caddy', 100)
    for (const [name, client] of [['easel', one], ['easel-2', two]]) {
      await waitFor(`the client on ${name} to see the shapes drawn through Caddy`, () =>
        countOf(client, 'through-caddy', 100) === 100)
    }
    const metrics = await fetch(`http://127.0.0.1:${caddyPort}/metrics`)
    assert.equal(metrics.status, 404, 'Caddy keeps /metrics off the public port')
  })
  await t.test('a person signs in and draws in Chromium through nginx; both processes get the shape', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage()
      await page.goto(`http://127.0.0.1:${clusterPort}/boards/${board}`)
      await page.waitForURL((url) => url.pathname === '/signin')
      await page.getByLabel('Email').fill(admin.email)
      await page.getByLabel('Password').fill(admin.password)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL((url) => url.pathname === `/boards/${board}`)
      await page.locator('body[data-synced="true"]').waitFor({ state: 'attached', timeout: WAIT_MS })
      await page.waitForFunction(() => window.easel !== undefined)
      const one = await connectSynced(port, board, token)
      const two = await connectSynced(secondPort, board, token)
      const seen = await page.evaluate(() => window.easel.doc.getMap('elements').size)
      assert.equal(seen, one.elements.size, 'the browser has the board as saved')
      assert.equal(seen, 900, 'every shape drawn so far')
      const drawnByBrowser = (client) => [...client.elements.values()]
        .filter((el) => el instanceof Y.Map && el.get('type') === 'rect' && el.get('label') === undefined).length
      assert.equal(drawnByBrowser(one), 0)
      await page.getByRole('button', { name: 'Rectangle', exact: true }).click()
      await page.mouse.move(500, 300)
      await page.mouse.down()
      await page.mouse.move(620, 380, { steps: 8 })
      await page.mouse.move(760, 470, { steps: 8 })
      await page.mouse.up()
      for (const [name, client] of [['easel', one], ['easel-2', two]]) {
        await waitFor(`the client on ${name} to get the browser's rectangle`, () => drawnByBrowser(client) === 1)
      }
      fs.mkdirSync(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: path.join(ARTIFACTS, 'docker-cluster-drawn-through-nginx.png') })
    } finally {
      await browser.close()
    }
  })
})
