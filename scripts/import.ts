// npm run import -- --tenant <uuid> [--platform meta|google|tiktok|linkedin] [--skip-invalid] [--dry-run] FILE...
// Imports platform exports into one tenant with the import core the /imports
// page uses (lib/ingest/import.ts): as the app role (row-level security
// applies), the tenant set in each import's transaction. Prints, per file, the
// format found and what the import did, with each problem (row, column,
// reason; the first 20). Exits 1 when any file was refused or failed (the
// other files are still imported), 2 on a usage error; a repeat that changes
// nothing exits 0.
// DATABASE_URL (the app role) names the database; without it the project's
// embedded PostgreSQL is started (and migrated), as for npm run optimize.
import { createReadStream, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failureText } from './failure';
import { createDb, isUuid } from '../lib/db/pool';
import { PLATFORM_WORDS } from '../lib/ingest/detect';
import { importCsv } from '../lib/ingest/import';
import { TenantNotFound } from '../lib/ingest/store';
import { IMPORT_PLATFORMS, type ImportPlatform, type ImportProgress, type ImportResult } from '../lib/ingest/types';
import { openTarget, prepare } from '../db/tools/target';

const USAGE = 'usage: npm run import -- --tenant <uuid> [--platform meta|google|tiktok|linkedin] [--skip-invalid] [--dry-run] FILE...';
/** Problems printed per file; the count says how many there are in all. */
const SHOWN_PROBLEMS = 20;

class UsageError extends Error {}

interface Args {
  tenant: string;
  platform?: ImportPlatform;
  skipInvalid: boolean;
  dryRun: boolean;
  files: string[];
}

function parseArgs(argv: string[]): Args {
  let tenant: string | undefined;
  let platform: ImportPlatform | undefined;
  let skipInvalid = false;
  let dryRun = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--tenant' || a === '-t') {
      const t = value();
      if (!isUuid(t)) throw new UsageError(`--tenant: "${t}" is not a uuid`);
      tenant = t;
    } else if (a === '--platform' || a === '-p') {
      const p = value();
      if (!(IMPORT_PLATFORMS as readonly string[]).includes(p)) throw new UsageError(`--platform: one of ${IMPORT_PLATFORMS.join(', ')} (got "${p}")`);
      platform = p as ImportPlatform;
    } else if (a === '--skip-invalid') {
      skipInvalid = true;
    } else if (a === '--dry-run') {
      dryRun = true;
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      console.log('Without --platform the platform is recognised from the headers. --skip-invalid imports the valid rows of a file with problems;');
      console.log('--dry-run reads and checks everything, then stores nothing. DATABASE_URL: the app role (else the embedded database).');
      process.exit(0);
    } else if (a === '--') {
      files.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a} (try --help)`);
    } else {
      files.push(a);
    }
  }
  if (!tenant) throw new UsageError('--tenant is required');
  if (files.length === 0) throw new UsageError('name at least one file');
  return { tenant, platform, skipInvalid, dryRun, files };
}

const n = (v: number) => v.toLocaleString('en');

function describe(r: ImportResult): string {
  const f = r.format;
  if (!f) return 'format not recognised';
  const platform = f.platform ? `${PLATFORM_WORDS[f.platform]} (${f.format})` : `unknown (${f.format})`;
  const delimiter = f.delimiter === '\t' ? 'tab' : f.delimiter === ';' ? 'semicolon' : f.delimiter === ',' ? 'comma' : JSON.stringify(f.delimiter);
  const extra = [f.preambleLines ? `${f.preambleLines} line${f.preambleLines === 1 ? '' : 's'} before the header` : null, f.currency].filter(Boolean);
  return `${platform}, ${f.level === 'adset' ? 'ad sets' : 'campaigns'}, ${delimiter}-separated ${f.encoding.toUpperCase()}${extra.length ? `, ${extra.join(', ')}` : ''}`;
}

/** A progress line on stderr when it is a terminal (not in logs or tests). */
function progressLine(file: string): ((p: ImportProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (p.phase === 'reading' && now - last < 250) return;
    last = now;
    const pct = p.bytesTotal ? ` ${Math.floor((100 * p.bytesRead) / p.bytesTotal)} %` : '';
    process.stderr.write(`\r${file}: ${p.phase}${pct}, ${n(p.rowsRead)} rows\u001b[K${p.phase === 'done' ? '\r\u001b[K' : ''}`);
  };
}

function report(file: string, r: ImportResult, dryRun: boolean): void {
  console.log(`${file}: ${describe(r)}`);
  const c = r.counts;
  const verb = dryRun ? 'would be ' : '';
  console.log(
    `  rows read ${n(c.read)}, ${verb}inserted ${n(c.inserted)}, ${verb}updated ${n(c.updated)}, unchanged ${n(c.unchanged)}, rejected ${n(c.rejected)}, skipped ${n(c.skipped)}`,
  );
  if (r.changedDays) console.log(`  days ${dryRun ? 'that would change' : 'changed'}: ${r.changedDays.from === r.changedDays.to ? r.changedDays.from : `${r.changedDays.from} to ${r.changedDays.to}`}`);
  if (r.problemCount > 0) {
    const shown = r.problems.slice(0, SHOWN_PROBLEMS);
    console.log(`  problems (${shown.length < r.problemCount ? `the first ${shown.length} of ${n(r.problemCount)}` : n(r.problemCount)}):`);
    for (const p of shown) console.log(`    row ${p.row}${p.column ? `, ${p.column}` : ''}: ${p.message}`);
  }
  if (r.refusal) console.log(`  refused: ${r.refusal.message}`);
  else console.log(dryRun ? '  dry run: nothing stored' : `  stored (import ${r.runId})`);
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}`);
    console.error(USAGE);
    return 2;
  }
  const target = await openTarget();
  const { pool, db } = createDb(target.appUrl, { max: 2 });
  const who = (() => {
    try {
      return `cli: ${os.userInfo().username}@${os.hostname()}`;
    } catch {
      return 'cli';
    }
  })();
  let failed = 0;
  try {
    // With only the app role's URL (DATABASE_URL without DATABASE_OWNER_URL) the schema is taken as deployed.
    if (target.ownerUrl) await prepare(target, () => undefined);
    for (const file of args.files) {
      const name = path.basename(file);
      let size: number;
      try {
        const st = statSync(file);
        if (!st.isFile()) throw new Error('not a file');
        size = st.size;
      } catch (err) {
        console.log(`${file}: cannot be read (${(err as Error).message})`);
        failed++;
        continue;
      }
      try {
        const r = await importCsv(
          pool,
          { stream: createReadStream(file, { highWaterMark: 1 << 20 }), fileName: name, bytesTotal: size },
          { tenantId: args.tenant, source: 'cli', actorLabel: who, platform: args.platform, skipInvalid: args.skipInvalid, dryRun: args.dryRun, onProgress: progressLine(name) },
        );
        report(file, r, args.dryRun);
        if (!r.ok) failed++;
      } catch (err) {
        if (err instanceof TenantNotFound) {
          console.log(`error: tenant ${args.tenant} does not exist (or this role cannot see it)`);
          return 1;
        }
        console.log(`${file}: failed: ${failureText(err)} (nothing was stored)`);
        failed++;
      }
    }
    const ok = args.files.length - failed;
    console.log(`${args.files.length} file(s): ${ok} ${args.dryRun ? 'checked' : 'imported'}, ${failed} refused or failed`);
    return failed ? 1 : 0;
  } finally {
    await db.destroy();
    await target.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`error: ${failureText(err)}`);
    process.exit(1);
  },
);
