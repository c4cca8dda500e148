// Prepares the end-to-end run: a throwaway database (on a temporary embedded
// PostgreSQL, or on the server of DATABASE_OWNER_URL when set), migrated with
// the project's SQL; then the production server (`next start`) as the app role.
// The owner URL reaches the tests as AEGIS_E2E_OWNER_URL, for fixtures.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { FullConfig } from '@playwright/test';
import { createThrowawayDatabase } from '../db/tools/throwaway';

const root = path.resolve(__dirname, '..');
const nextBin = path.join(root, 'node_modules', '.bin', 'next');

function log(line: string) {
  console.log(`[e2e] ${line}`);
}

async function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitForServer(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`next start did not answer on ${url} within ${timeoutMs / 1000}s`);
}

/** The web server gets the app role's URL only, never the owner's. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.DATABASE_OWNER_URL;
  return env;
}

export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0]?.use.baseURL;
  if (!baseURL) throw new Error('playwright.config.ts must set use.baseURL');
  const port = Number(new URL(baseURL).port);
  if (await portTaken(port)) throw new Error(`port ${port} is in use: stop what runs there or set E2E_PORT`);

  if (!existsSync(path.join(root, '.next', 'BUILD_ID'))) {
    log('no production build found: running next build');
    const build = spawnSync(nextBin, ['build'], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' } });
    if (build.status !== 0) throw new Error('next build failed');
  }

  // The database.
  const db = await createThrowawayDatabase('aegis-e2e', process.env.DATABASE_OWNER_URL);
  const { ownerUrl, appUrl } = db;
  log(`${db.description}, database ${db.name}`);

  // The production server.
  const child = spawn(nextBin, ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv({
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      DATABASE_URL: appUrl,
      NEXTAUTH_URL: baseURL,
      NEXTAUTH_SECRET: randomBytes(32).toString('base64url'),
    }),
  });
  const serverLog: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) serverLog.push(line);
    if (serverLog.length > 400) serverLog.splice(0, serverLog.length - 400);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', (c: Buffer) => {
    keep(c);
    if (process.env.E2E_SERVER_LOG) process.stderr.write(c);
  });
  try {
    await waitForServer(`${baseURL}/signin`, child, 60_000);
  } catch (err) {
    console.error(serverLog.join('\n'));
    child.kill('SIGTERM');
    throw err;
  }
  log(`next start on ${baseURL}`);
  process.env.AEGIS_E2E_OWNER_URL = ownerUrl;
  // The demo spec seeds the demo tenants, whose rows it writes as the app role (as the seed always does).
  process.env.AEGIS_E2E_APP_URL = appUrl;

  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    if (process.env.E2E_SERVER_LOG_ON_EXIT) console.log(serverLog.join('\n'));
    await db.drop();
  };
}
