// Database commands: migrate, verify, seed, types. Without DATABASE_URL they
// start the project's embedded PostgreSQL (data in .data/pg) for the run.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { APP_ROLE, projectRoot, withCredentials } from '../lib/db/config';
import { generateSchemaSource } from '../lib/db/codegen';
import { setAppPassword, startProjectEmbedded } from '../lib/db/embedded';
import { migrate } from '../lib/db/migrate';
import { formatReport, verify } from '../lib/db/verify';

export interface Target {
  /** Null when DATABASE_URL is set without DATABASE_OWNER_URL (the web tier need not hold the owner's password). */
  ownerUrl: string | null;
  appUrl: string;
  stop: () => Promise<void>;
}

/** Owner and app connections: from the environment, or the embedded server (started here). */
export async function openTarget(): Promise<Target> {
  if (process.env.DATABASE_URL) {
    const ownerUrl = process.env.DATABASE_OWNER_URL ?? null;
    return { ownerUrl, appUrl: process.env.DATABASE_URL, stop: async () => undefined };
  }
  const { server, state, ownerUrl } = await startProjectEmbedded(projectRoot);
  return {
    ownerUrl,
    appUrl: withCredentials(ownerUrl, APP_ROLE, state.appPassword),
    stop: () => server.stop(),
  };
}

/** The owner connection, or a clear error: migrations run as the schema owner, never as the app role. */
export function requireOwner(target: Target): string {
  if (!target.ownerUrl) {
    throw new Error('DATABASE_URL is set but DATABASE_OWNER_URL is not: this command runs as the schema owner, never as the app role.');
  }
  return target.ownerUrl;
}

/** Migrate, and on the embedded server give the app role its password. */
export async function prepare(target: Target, log: (l: string) => void = console.log): Promise<void> {
  const ownerUrl = requireOwner(target);
  const r = await migrate(ownerUrl, log);
  log(r.applied.length ? `migrated: ${r.applied.join(', ')}` : 'database up to date');
  if (!process.env.DATABASE_URL) {
    const password = new URL(target.appUrl).password;
    await setAppPassword(ownerUrl, decodeURIComponent(password));
  }
}

async function main(cmd: string | undefined): Promise<number> {
  const target = await openTarget();
  try {
    switch (cmd) {
      case 'migrate':
        await prepare(target);
        return 0;
      case 'verify': {
        const checks = await verify(requireOwner(target));
        console.log(formatReport(checks));
        return checks.every((c) => c.ok) ? 0 : 1;
      }
      case 'seed': {
        await prepare(target);
        const { seedDemo } = await import('../db/seed/seed');
        await seedDemo({ ownerUrl: requireOwner(target), appUrl: target.appUrl, log: console.log });
        return 0;
      }
      case 'types': {
        await prepare(target);
        const file = path.join(projectRoot, 'lib', 'db', 'schema.generated.ts');
        writeFileSync(file, await generateSchemaSource(requireOwner(target)));
        console.log(`wrote ${path.relative(projectRoot, file)}`);
        return 0;
      }
      default:
        console.error('usage: tsx scripts/db.ts migrate|verify|seed|types');
        return 2;
    }
  } finally {
    await target.stop();
  }
}

if (require.main === module) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`error: ${err.message}`);
      process.exit(1);
    },
  );
}
