// Starts the dashboard: `demo` (embedded database + demo data + production
// build), `dev` (next dev) or `start` (next start). Without DATABASE_URL the
// embedded PostgreSQL is started first, as its own process; the web server
// only receives a connection string for the app role.
import { failureText } from './failure';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/db/config';
import { createDb } from '../lib/db/pool';
import { formatResult, runAllTenants } from '../lib/engine/loop';
import { openTarget, prepare, requireOwner } from '../db/tools/target';

type Mode = 'demo' | 'dev' | 'start';

const nextBin = path.join(projectRoot, 'node_modules', '.bin', 'next');

/** A stable secret for local runs, kept in the git-ignored .data folder. */
function localAuthSecret(): string {
  const file = path.join(projectRoot, '.data', 'auth-secret');
  mkdirSync(path.dirname(file), { recursive: true });
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function main(mode: Mode): Promise<void> {
  const port = process.env.PORT ?? '3000';
  const embedded = !process.env.DATABASE_URL;
  if (mode === 'start' && !embedded && !process.env.NEXTAUTH_SECRET) {
    throw new Error('NEXTAUTH_SECRET must be set in production (a long random string).');
  }
  const target = await openTarget();
  let child: ChildProcess | undefined;
  const shutdown = async (code: number) => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    await target.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    if (target.ownerUrl) await prepare(target);
    else console.log('DATABASE_OWNER_URL not set: migrations not applied by this process.');
    let logins: string[] = [];
    if (mode === 'demo') {
      const { seedDemo, DEMO_PASSWORD } = await import('../db/seed/seed');
      const summary = await seedDemo({ ownerUrl: requireOwner(target), appUrl: target.appUrl, log: console.log });
      // Run the daily loop once so the boards open with what it finds in the demo data.
      const { db } = createDb(target.appUrl, { max: 2 });
      try {
        await runAllTenants(db, { tenantIds: summary.tenants.map((t) => t.id), trigger: 'cli', onResult: (r) => console.log(formatResult(r)) });
      } finally {
        await db.destroy();
      }
      logins = summary.logins.map((l) => `  ${l.email.padEnd(22)} ${l.role.padEnd(7)} ${l.tenant}   password: ${DEMO_PASSWORD}`);
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: target.appUrl,
      PORT: port,
      NEXTAUTH_URL: process.env.NEXTAUTH_URL ?? `http://localhost:${port}`,
      NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? localAuthSecret(),
    };
    if (mode !== 'dev' && process.env.AEGIS_SKIP_BUILD !== '1') {
      console.log('building the dashboard (next build)...');
      const build = spawnSync(nextBin, ['build'], { stdio: 'inherit', env: { ...env, NODE_ENV: 'production' } });
      if (build.status !== 0) throw new Error('next build failed');
    }
    child = spawn(nextBin, [mode === 'dev' ? 'dev' : 'start', '-p', port, '-H', '127.0.0.1'], { stdio: 'inherit', env });
    child.on('exit', (code) => void shutdown(code ?? 0));
    console.log(`\nAEGIS Media Buying: http://localhost:${port}${embedded ? '  (embedded PostgreSQL, data in .data/pg)' : ''}`);
    if (logins.length) console.log(`Demo logins (demo only):\n${logins.join('\n')}\n`);
  } catch (err) {
    console.error(`error: ${failureText(err)}`);
    await shutdown(1);
  }
}

const mode = process.argv[2] as Mode;
if (!['demo', 'dev', 'start'].includes(mode)) {
  console.error('usage: tsx scripts/run-app.ts demo|dev|start');
  process.exit(2);
}
void main(mode);
