/**
 * Starts the real Easel server binary for one end-to-end run, on SQLite (a fresh data
 * directory) or Postgres (a fresh database on the test cluster), and tears it down.
 *
 * Owns the server process, its database and data directory, and its log (kept for failure
 * reports). Mirrors `tests/src/lib.rs` (`spawn_app`): port 0, a fixed JWT secret, a
 * database named after a uuid and dropped afterwards. It must not touch the shared
 * Postgres server beyond creating and dropping its own database, nor the repository's
 * `data/` directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { repoRoot } from './paths.ts';
import { JWT_SECRET } from './tokens.ts';

/** The two storage backends the suite runs on. */
export type Backend = 'sqlite' | 'postgres';

/** A running server. */
export interface EaselServer {
  readonly backend: Backend;
  /** `http://127.0.0.1:PORT`, the origin the browsers open. */
  readonly url: string;
  /** The last lines the server logged, for failure reports. */
  logTail(lines?: number): string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its database and data. */
  stop(): Promise<void>;
}

/** The server binary: `EASEL_BIN`, else the debug build of this checkout. */
export const serverBinary = process.env['EASEL_BIN'] ?? join(repoRoot, 'target/debug/easel');

/** The built web client the server serves: `EASEL_WEB_DIR`, else `web/dist`. */
export const webDir = process.env['EASEL_WEB_DIR'] ?? join(repoRoot, 'web/dist');

/** The Postgres admin URL test databases are created on (what `scripts/ensure-postgres` prints). */
const adminDatabaseUrl =
  process.env['EASEL_TEST_DATABASE_URL'] ??
  'postgres://easel_test:easel_test@127.0.0.1:5432/postgres';

const LOG_LINES_KEPT = 400;
const START_TIMEOUT_MS = 30_000;

/** Starts the server on `backend` and resolves once it listens. */
export async function startServer(backend: Backend): Promise<EaselServer> {
  if (!existsSync(serverBinary)) {
    throw new Error(
      `no server binary at ${serverBinary}: build it with \`cargo build -p easel\` or set EASEL_BIN`,
    );
  }
  if (!existsSync(join(webDir, 'index.html'))) {
    throw new Error(
      `no web client at ${webDir}: build it with \`npm ci && npm run build\` in web/ or set EASEL_WEB_DIR`,
    );
  }
  const dataDir = await mkdtemp(join(tmpdir(), `easel-e2e-${backend}-`));
  const database = backend === 'postgres' ? await createDatabase() : null;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EASEL_BIND: '127.0.0.1:0',
    EASEL_DATA_DIR: dataDir,
    EASEL_WEB_DIR: webDir,
    EASEL_JWT_SECRET: JWT_SECRET,
    EASEL_LOG: process.env['EASEL_E2E_LOG'] ?? 'warn,easel::startup=info',
    EASEL_LOG_FORMAT: 'json',
    EASEL_LOGIN_ATTEMPTS_PER_MINUTE: '10000',
    EASEL_SIGNUP_ATTEMPTS_PER_MINUTE: '10000',
    EASEL_BOARDS_PER_HOUR: '10000',
    EASEL_SHUTDOWN_TIMEOUT_SECS: '5',
  };
  delete env['DATABASE_URL'];
  if (database) env['DATABASE_URL'] = database.url;

  const child = spawn(serverBinary, ['serve'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
  const log: string[] = [];
  const teardown = async () => {
    await stopProcess(child);
    if (database) await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await listeningPort(child, log);
    return {
      backend,
      url: `http://127.0.0.1:${port}`,
      logTail: (lines = 60) => log.slice(-lines).join('\n'),
      stop: teardown,
    };
  } catch (e) {
    await teardown();
    throw new Error(`the server did not start on ${backend}: ${String(e)}\n${log.join('\n')}`, {
      cause: e,
    });
  }
}

/** Collects the server's log lines and resolves with the port of its "listening" line. */
function listeningPort(child: ChildProcess, log: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "easel is listening" line within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (code ${code}, signal ${signal})`));
    });
    if (!child.stderr) throw new Error('the server has no stderr pipe');
    createInterface({ input: child.stderr }).on('line', (line) => {
      log.push(line);
      if (log.length > LOG_LINES_KEPT) log.shift();
      const port = portOf(line);
      if (port !== null) {
        clearTimeout(timer);
        resolve(port);
      }
    });
  });
}

/** The port of a JSON log line `{"fields":{"message":"easel is listening","port":N}}`. */
function portOf(line: string): number | null {
  try {
    const parsed = JSON.parse(line) as { fields?: { message?: unknown; port?: unknown } };
    const fields = parsed.fields;
    if (fields?.message === 'easel is listening' && typeof fields.port === 'number') {
      return fields.port;
    }
  } catch {
    // Not a JSON line (a panic message, say): kept in the log, never a port.
  }
  return null;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates `easel_e2e_<uuid>` on the admin URL's server. */
async function createDatabase(): Promise<TestDatabase> {
  const name = `easel_e2e_${randomUUID().replaceAll('-', '')}`;
  await withAdmin(async (client) => {
    await client.query(`CREATE DATABASE "${name}"`);
  });
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdmin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}

async function withAdmin(work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(
      `cannot reach the test Postgres at ${redacted(adminDatabaseUrl)} (start it with scripts/ensure-postgres): ${String(e)}`,
      { cause: e },
    );
  }
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/** `url` without its password, for messages. */
function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
