// Database commands: migrate, verify, seed, types. Without DATABASE_URL they
// start the project's embedded PostgreSQL (data in .data/pg) for the run.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { APP_ROLE, projectRoot, withUser } from '../lib/db/config';
import { generateSchemaSource } from '../lib/db/codegen';
import { setAppPassword, startProjectEmbedded } from '../lib/db/embedded';
import { migrate } from '../lib/db/migrate';
import { formatReport, verify } from '../lib/db/verify';

export interface Target {
  ownerUrl: string;
  appUrl: string;
  stop: () => Promise<void>;
}

/** Owner and app connections: from the environment, or the embedded server (started here). */
export async function openTarget(): Promise<Target> {
  if (process.env.DATABASE_URL) {
    const ownerUrl = process.env.DATABASE_OWNER_URL;
    if (!ownerUrl) {
      throw new Error('DATABASE_URL is set but DATABASE_OWNER_URL is not: migrations run as the schema owner, never as the app role.');
    }
    return { ownerUrl, appUrl: process.env.DATABASE_URL, stop: async () => undefined };
  }
  const { server, state, ownerUrl } = await startProjectEmbedded(projectRoot);
  return {
    ownerUrl,
    appUrl: withUser(ownerUrl, APP_ROLE, state.appPassword),
    stop: () => server.stop(),
  };
}

/** Migrate, and on the embedded server give the app role its password. */
export async function prepare(target: Target, log: (l: string) => void = console.log): Promise<void> {
  const r = await migrate(target.ownerUrl, log);
  log(r.applied.length ? `migrated: ${r.applied.join(', ')}` : 'database up to date');
  if (!process.env.DATABASE_URL) {
    const password = new URL(target.appUrl).password;
    await setAppPassword(target.ownerUrl, decodeURIComponent(password));
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
        const checks = await verify(target.ownerUrl);
        console.log(formatReport(checks));
        return checks.every((c) => c.ok) ? 0 : 1;
      }
      case 'seed': {
        await prepare(target);
        const { seedDemo } = await import('../db/seed/seed');
        await seedDemo({ ownerUrl: target.ownerUrl, appUrl: target.appUrl, log: console.log });
        return 0;
      }
      case 'types': {
        await prepare(target);
        const file = path.join(projectRoot, 'lib', 'db', 'schema.generated.ts');
        writeFileSync(file, await generateSchemaSource(target.ownerUrl));
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
