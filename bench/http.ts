// HTTP under load for the benchmark suite: the production build (`next start`)
// on a benchmark database, driven by the load test (scripts/load.ts) over the
// loopback, bounded in time; the server is stopped whatever happens.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../lib/db/config';
import { freePort } from '../db/tools/embedded';
import type { LoadReport } from '../scripts/load';

const nextBin = path.join(projectRoot, 'node_modules', '.bin', 'next');
const tsxBin = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
export const LOAD_SCRIPT = path.join(projectRoot, 'scripts', 'load.ts');
export const BUILD_ID = path.join(projectRoot, '.next', 'BUILD_ID');

export interface LoadOptions {
  users: number;
  durationSeconds: number;
}

export type HttpOutcome = { ran: true; build: string; url: string; exitCode: number | null; report: LoadReport } | { ran: false; reason: string; serverLog?: string };

/** `next build`, as the project builds for production; throws when it fails. */
export function build(log: (line: string) => void): void {
  log('building the dashboard (next build)...');
  const r = spawnSync(nextBin, ['build'], { cwd: projectRoot, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  if (r.status !== 0) throw new Error('next build failed');
}

/** Resolves once GET url answers (any status), rejects after timeoutMs or when the server exits. */
async function ready(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`next start exited with code ${child.exitCode}`);
    try {
      await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`next start did not answer ${url} within ${timeoutMs / 1000} s`);
}

/** Ends a child started detached (its own process group, which next start's workers share). */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const kill = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      clearTimeout(kill);
      resolve();
    }
  });
}

/**
 * Starts `next start` on 127.0.0.1 with the app role's connection string for the benchmark database and runs the load
 * test (scripts/load.ts) against it: it makes its own tenants and accounts through the owner connection, so the
 * caller removes them afterwards. Needs a finished build in .next.
 */
export async function httpUnderLoad(env: { appUrl: string; ownerUrl: string }, opts: LoadOptions, log: (line: string) => void): Promise<HttpOutcome> {
  if (!existsSync(BUILD_ID)) return { ran: false, reason: 'no production build in .next (run with --build to make one)' };
  if (!existsSync(LOAD_SCRIPT)) return { ran: false, reason: 'scripts/load.ts is not there' };
  const buildId = readFileSync(BUILD_ID, 'utf8').trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: env.appUrl,
    NEXTAUTH_URL: url,
    NEXTAUTH_SECRET: randomBytes(32).toString('base64url'),
  };
  delete serverEnv.DATABASE_OWNER_URL; // the web tier only ever gets the app role
  let serverLog = '';
  const server = spawn(nextBin, ['start', '-p', String(port), '-H', '127.0.0.1'], { cwd: projectRoot, env: serverEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => {
    serverLog = (serverLog + b.toString()).slice(-20_000);
  };
  server.stdout?.on('data', keep);
  server.stderr?.on('data', keep);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aegis-bench-load-'));
  try {
    try {
      await ready(`${url}/signin`, server, 60_000);
    } catch (err) {
      return { ran: false, reason: (err as Error).message, serverLog };
    }
    log(`  next start (build ${buildId}) on ${url}; ${opts.users} users for ${opts.durationSeconds} s`);
    const jsonFile = path.join(tmp, 'load.json');
    const args = [LOAD_SCRIPT, url, '--users', String(opts.users), '--duration', String(opts.durationSeconds), '--json', jsonFile];
    const exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(tsxBin, args, { cwd: projectRoot, env: { ...process.env, DATABASE_OWNER_URL: env.ownerUrl }, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
      // bounded: the test's own duration plus its set-up (tenants, their metrics, sign-ins) and a margin
      const guard = setTimeout(() => void stop(child), (opts.durationSeconds + 180) * 1000);
      child.once('exit', (c) => {
        clearTimeout(guard);
        resolve(c);
      });
    });
    // the load test exits 1 when any answer failed, and writes its report all the same
    if (!existsSync(jsonFile)) return { ran: false, reason: `scripts/load.ts exited with code ${exitCode} without a report`, serverLog };
    return { ran: true, build: buildId, url, exitCode, report: JSON.parse(readFileSync(jsonFile, 'utf8')) as LoadReport };
  } finally {
    await stop(server);
    rmSync(tmp, { recursive: true, force: true });
  }
}
