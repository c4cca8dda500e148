// The import core on a million-row export, against its floor: a bare COPY of
// the same file into a plain table, in the same run, on the same server.
//
//   npm run bench:import                 # embedded PostgreSQL; DATABASE_URL's server when set
//   IMPORT_ROWS=200000 npm run bench:import
//   IMPORT_CHANGED=1 npm run bench:import    # also a fourth import in which every row changes
//
// In a throwaway database: a Meta export (English, campaign level) of
// IMPORT_ROWS rows (default 1,000,000: 2,000 campaigns x 500 days) is written
// to a temporary folder, then, as the app role:
//   - floor: COPY ... FROM STDIN (FORMAT csv, HEADER) of the file into a plain
//     table of text columns (no index, no trigger), twice, the better kept;
//   - references: the same rows, typed, INSERT ... SELECT into ads.metrics_daily
//     of another tenant (its indexes, its foreign key, the rollups' statement
//     triggers), rolled back, as the guide inserts (its row trigger called for
//     every row) and as the import inserts (stating the first report, so the
//     row trigger is not called): what the table costs to write;
//   - (a) import: importCsv of the file (fresh tenant: every row inserted),
//     with the time of each phase (reading and COPY, checks, writing);
//   - (b) repeat: the same file again (every row unchanged: the no-op);
//   - (c) restated: the file with every tenth day's spend changed (10 % of
//     the rows updated, the others unchanged).
// Prints rows/s, the ratio to the floor and to the references; writes
// bench/results/import.json.
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createThrowawayDatabase } from '../db/tools/throwaway';
import { importCsv } from '../lib/ingest/import';
import type { ImportProgress, ImportResult } from '../lib/ingest/types';

const ROWS = Number(process.env.IMPORT_ROWS ?? 1_000_000);
const DAYS = 500;
const CAMPAIGNS = Math.ceil(ROWS / DAYS);

const HEADER = 'Reporting starts,Reporting ends,Day,Campaign name,Campaign ID,Amount spent (EUR),Impressions,Link clicks,Results,Purchases,Purchases conversion value';

function dayBefore(last: string, n: number): string {
  const d = new Date(`${last}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

/**
 * The export, streamed to disk: one line per campaign and day, figures drawn
 * from a fixed seed. `restated` days get their spend raised by 1.00 (the other
 * figures as drawn, so the rest of the file is the same export).
 */
async function writeExport(file: string, lastDay: string, salt: number, restated: (dayIndex: number) => boolean = () => false): Promise<number> {
  let seed = 12345 + salt;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const out = createWriteStream(file);
  const days = Array.from({ length: DAYS }, (_, i) => dayBefore(lastDay, DAYS - 1 - i));
  let buf = `${HEADER}\n`;
  let n = 0;
  for (let c = 0; c < CAMPAIGNS && n < ROWS; c++) {
    const id = `120${String(208_000_000_000_000 + c * 17).padStart(15, '0')}`;
    const name = `"Campaign ${c}, ${c % 3 === 0 ? 'prospecting' : c % 3 === 1 ? 'retargeting' : 'brand'}"`;
    for (let d = 0; d < DAYS && n < ROWS; d++, n++) {
      const day = days[d]!;
      const imp = Math.floor(rand() * 100_000);
      const clicks = Math.floor(imp * rand() * 0.03);
      const conv = Math.floor(clicks * rand() * 0.08);
      const spend = rand() * 2_000 + (restated(d) ? 1 : 0);
      buf += `${day},${day},${day},${name},${id},${spend.toFixed(2)},${imp},${clicks},${conv},${conv},${(conv * rand() * 90).toFixed(2)}\n`;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
        buf = '';
      }
    }
  }
  out.end(buf);
  await new Promise<void>((r, j) => out.on('finish', () => r()).on('error', j));
  return n;
}

async function tenant(owner: pg.Client, name: string): Promise<string> {
  const id = (await owner.query<{ id: string }>('select gen_random_uuid()::text as id')).rows[0]!.id;
  await owner.query('begin');
  await owner.query("select set_config('saas.tenant_id', $1, true)", [id]);
  await owner.query("insert into saas.tenants (id, name, currency, timezone) values ($1, $2, 'EUR', 'UTC')", [id, name]);
  await owner.query('commit');
  return id;
}

const seconds = (ms: number) => Math.round(ms) / 1000;
const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000));

async function main(): Promise<void> {
  const recorded = new Date().toISOString();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aegis-bench-import-'));
  const tdb = await createThrowawayDatabase('aegis-bench-import', process.env.DATABASE_URL || undefined);
  const owner = new pg.Client({ connectionString: tdb.ownerUrl });
  await owner.connect();
  owner.on('notice', () => undefined);
  const app = new pg.Pool({ connectionString: tdb.appUrl, max: 4 });
  app.on('error', () => undefined);
  try {
    const main = await tenant(owner, 'Import bench');
    const other = await tenant(owner, 'Import bench, reference');
    const lastIso = (await owner.query<{ d: string }>("select ((now() at time zone 'UTC')::date - 1)::text as d")).rows[0]!.d;
    const file = path.join(tmp, 'meta-export.csv');
    const t = performance.now();
    const rows = await writeExport(file, lastIso, 0);
    const bytes = statSync(file).size;
    console.log(`${rows.toLocaleString('en')} rows, ${(bytes / 1e6).toFixed(1)} MB written in ${seconds(performance.now() - t)} s (${file})`);

    // The floor's table: the export's eleven columns as text.
    await owner.query(`create schema if not exists bench_floor; grant usage on schema bench_floor to aegis_app;
      create table bench_floor.meta_export (reporting_starts text, reporting_ends text, day text, campaign_name text, campaign_id text,
        amount_spent text, impressions text, link_clicks text, results text, purchases text, purchases_value text);
      grant select, insert on bench_floor.meta_export to aegis_app;`);

    const floorRun = async (): Promise<number> => {
      const c = await app.connect();
      try {
        await c.query('begin');
        const start = performance.now();
        await pipeline(createReadStream(file), c.query(copyFrom('COPY bench_floor.meta_export FROM STDIN (FORMAT csv, HEADER true)')));
        const ms = performance.now() - start;
        await c.query('rollback');
        return ms;
      } finally {
        c.release();
      }
    };
    const floors = [await floorRun(), await floorRun()];
    const floor = Math.min(...floors);
    console.log(`floor: bare COPY into a plain table: ${floors.map(seconds).join(' s, ')} s -> ${seconds(floor)} s (${rate(rows, floor).toLocaleString('en')} rows/s)`);

    // Reference: what ads.metrics_daily itself costs to write these rows (another tenant, rolled back).
    await owner.query('begin');
    await owner.query(`create table bench_floor.typed as
      select 'meta'::text as platform, 'campaign'::text as level, campaign_id as platform_id, day::date as day, campaign_name as entity_name,
             campaign_id, campaign_name, amount_spent::numeric(14,2) as spend, impressions::bigint as impressions, link_clicks::bigint as clicks,
             results::numeric(14,2) as conversions, purchases_value::numeric(16,2) as conversion_value
        from bench_floor.meta_export where false`);
    await owner.query('commit');
    await owner.query('grant select on bench_floor.typed to aegis_app');
    // Load the typed rows once, as the owner (not timed).
    await owner.query('begin');
    await pipeline(createReadStream(file), owner.query(copyFrom('COPY bench_floor.meta_export FROM STDIN (FORMAT csv, HEADER true)')));
    await owner.query(`insert into bench_floor.typed select 'meta', 'campaign', campaign_id, day::date, campaign_name, campaign_id, campaign_name,
      amount_spent::numeric(14,2), impressions::bigint, link_clicks::bigint, results::numeric(14,2), purchases_value::numeric(16,2) from bench_floor.meta_export`);
    await owner.query('truncate bench_floor.meta_export');
    await owner.query('commit');
    await owner.query('analyze bench_floor.typed');
    /** The typed rows into ads.metrics_daily of the other tenant, as the app role, timed and rolled back. */
    const reference = async (firstReport: boolean): Promise<number> => {
      const c = await app.connect();
      try {
        await c.query('begin');
        await c.query("select set_config('saas.tenant_id', $1, true), set_config('work_mem', '128MB', true)", [other]);
        const first = firstReport ? ', first_conversions, first_conversion_value, first_loaded_at' : '';
        const firstValues = firstReport ? ', conversions, conversion_value, now()' : '';
        const start = performance.now();
        await c.query(`insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
                         spend, impressions, clicks, conversions, conversion_value${first})
                       select $1, platform, level, platform_id, day, entity_name, campaign_id, campaign_name, spend, impressions, clicks, conversions, conversion_value${firstValues}
                         from bench_floor.typed`, [other]);
        const ms = performance.now() - start;
        await c.query('rollback');
        return ms;
      } finally {
        c.release();
      }
    };
    const guideRef = await reference(false);
    await owner.query('checkpoint');
    const ref = await reference(true);
    console.log(`reference: INSERT ... SELECT of the typed rows into ads.metrics_daily: ${seconds(guideRef)} s as the guide inserts (row trigger called), ${seconds(ref)} s stating the first report (as the import)`);
    await owner.query('drop table bench_floor.typed');
    // The references leave two million dead rows: vacuumed now, not by autovacuum in the middle of an import.
    await owner.query('vacuum ads.metrics_daily');
    await owner.query('checkpoint');

    const runImport = async (label: string, f: string): Promise<{ label: string; ms: number; phases: Record<string, number>; result: ImportResult }> => {
      const phases: Record<string, number> = {};
      let last: ImportProgress['phase'] | null = null;
      const start = performance.now();
      const result = await importCsv(
        app,
        { stream: createReadStream(f, { highWaterMark: 1 << 20 }), fileName: path.basename(f), bytesTotal: statSync(f).size },
        {
          tenantId: main,
          source: 'cli',
          actorLabel: 'bench',
          onProgress: (p) => {
            if (p.phase !== last) {
              phases[p.phase] = performance.now() - start;
              last = p.phase;
            }
          },
        },
      );
      const ms = performance.now() - start;
      if (!result.ok) throw new Error(`${label}: refused: ${result.refusal?.message}`);
      const at = (p: string) => phases[p] ?? ms;
      const split = { reading_and_copy: at('validating'), checks: at('writing') - at('validating'), writing: at('done') - at('writing') };
      console.log(
        `${label}: ${seconds(ms)} s, ${rate(rows, ms).toLocaleString('en')} rows/s, ${(ms / floor).toFixed(1)}x the floor, ${(ms / ref).toFixed(2)}x the table's own insert ` +
          `(read+COPY ${seconds(split.reading_and_copy)} s, checks ${seconds(split.checks)} s, write+history ${seconds(split.writing)} s); ` +
          `inserted ${result.counts.inserted}, updated ${result.counts.updated}, unchanged ${result.counts.unchanged}`,
      );
      return { label, ms, phases: split, result };
    };

    const restatedFile = path.join(tmp, 'meta-export-restated.csv');
    await writeExport(restatedFile, lastIso, 0, (d) => d % 10 === 0);
    await owner.query('checkpoint');
    const fresh = await runImport('(a) import into an empty tenant (every row new)', file);
    await owner.query('checkpoint');
    const repeat = await runImport('(b) the same file again (every row unchanged)', file);
    await owner.query('checkpoint');
    const restated = await runImport('(c) 10 % of the days restated', restatedFile);
    const runs = [fresh, repeat, restated];
    if (process.env.IMPORT_CHANGED) {
      const changedFile = path.join(tmp, 'meta-export-changed.csv');
      await writeExport(changedFile, lastIso, 1);
      await owner.query('checkpoint');
      runs.push(await runImport('every row changed', changedFile));
    }

    const server = tdb.description;
    const results = {
      recorded,
      server,
      machine: `${os.cpus().length} vCPU, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      rows,
      bytes,
      floor_copy_s: floors.map(seconds),
      floor_rows_per_s: rate(rows, floor),
      reference_metrics_daily_insert_s: seconds(ref),
      reference_guide_insert_s: seconds(guideRef),
      imports: runs.map((r) => ({
        label: r.label,
        seconds: seconds(r.ms),
        rows_per_s: rate(rows, r.ms),
        ratio_to_floor: Number((r.ms / floor).toFixed(2)),
        ratio_to_reference: Number((r.ms / ref).toFixed(2)),
        phases_s: Object.fromEntries(Object.entries(r.phases).map(([k, v]) => [k, seconds(v)])),
        counts: r.result.counts,
      })),
    };
    const out = path.join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'import.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`written to ${path.relative(process.cwd(), path.join(out, 'import.json'))}`);
  } finally {
    await app.end();
    await owner.end();
    await tdb.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`error: ${err.stack ?? err.message}`);
  process.exit(1);
});
