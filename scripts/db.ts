// Database commands: migrate, verify, seed, types. Without DATABASE_URL they
// start the project's embedded PostgreSQL (data in .data/pg) for the run.
import { failureText } from './failure';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSchemaSource } from '../db/tools/codegen';
import { openTarget, prepare, requireOwner } from '../db/tools/target';
import { formatReport, verify } from '../db/tools/verify';
import { projectRoot } from '../lib/db/config';

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

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`error: ${failureText(err)}`);
    process.exit(1);
  },
);
