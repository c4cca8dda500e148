// A failure half-way leaves nothing: the import's connection killed by
// pg_terminate_backend (from an owner connection) while the upsert runs, or
// while COPY streams; the caller's stream failing in the middle of the file.
// Nothing of the import stays (no metrics row, no rollup row, no staging row,
// no succeeded run, no audit row); the run is recorded as failed; the pool
// goes on working.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { importCsv } from '../../lib/ingest/import';
import { appPool, createTenant, ownerPool } from '../helpers/db';
import { bytesOf, makeRows, metaExport, tenantYesterday } from './fixtures';
import { chunks, footprint, importBytes, ownerRows } from './helpers';

const owner = ownerPool();
const app = appPool();

/** Polls for the import's backend running a statement that matches `like`, and terminates it. */
async function killWhen(like: string, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = await owner.query<{ pid: number }>(
      "select pid from pg_stat_activity where application_name = 'aegis-import' and state = 'active' and query ilike $1",
      [like],
    );
    if (r.rows[0]) {
      await owner.query('select pg_terminate_backend($1)', [r.rows[0].pid]);
      return r.rows[0].pid;
    }
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`no import ran ${like} within ${timeoutMs} ms`);
}

async function bigFile(tenant: string, campaigns: number, days: number) {
  const last = await tenantYesterday(owner, tenant);
  const rows = makeRows({ campaigns, adsets: 2, days, lastDay: last, seed: 61 });
  return { rows, bytes: bytesOf(metaExport(rows)) };
}

describe('a failure half-way leaves nothing', () => {
  it('the connection killed while the upsert runs', async () => {
    const tenant = await createTenant(owner, 'Failure: killed upsert', 'EUR');
    const { rows, bytes } = await bigFile(tenant, 120, 200);
    // An owner transaction holds an uncommitted row with the key of the file's
    // last row, so the import's insert waits on it (the unique index): the
    // kill finds the insert running however fast reading and staging went (a
    // race with the machine's speed otherwise), and no other tenant waits.
    const last = rows[rows.length - 1]!;
    const locker = await owner.connect();
    let killed = 0;
    try {
      await locker.query('begin');
      await locker.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
      await locker.query(
        "insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value) values ($1, 'meta', 'adset', $2, $3, 0, 0, 0, 0, 0)",
        [tenant, last.adsetId, last.day],
      );
      const killer = killWhen('%insert into ads.metrics_daily%');
      await expect(importBytes(app, bytes, { tenantId: tenant })).rejects.toThrow(/terminat|connection|closed/i);
      killed = await killer;
    } finally {
      await locker.query('rollback');
      locker.release();
    }
    expect(killed).toBeGreaterThan(0);
    expect(await footprint(owner, tenant)).toEqual({ metrics: 0, daily: 0, weekly: 0, staging: 0, succeeded: 0, refused: 0, failed: 1, audit: 0 });
    const [run] = await ownerRows<{ message: string; rows_inserted: number }>(owner, tenant, 'select message, rows_inserted::int from ads_engine.import_runs where tenant_id = $1', [tenant]);
    expect(run).toEqual({ message: 'The import failed on the server: nothing was stored.', rows_inserted: 0 });
    // The pool dropped the dead connection: the same import now goes through.
    const again = await importBytes(app, bytes, { tenantId: tenant });
    expect(again.ok).toBe(true);
    expect((await footprint(owner, tenant)).metrics).toBe(again.counts.inserted);
  });

  it('the connection killed while COPY streams the rows', async () => {
    const tenant = await createTenant(owner, 'Failure: killed copy', 'EUR');
    const { bytes } = await bigFile(tenant, 60, 200);
    const parts = chunks(bytes, 4096);
    // The file arrives in two halves with the kill between them: COPY is
    // waiting for the second half when its backend is terminated, however fast
    // the first half was read (a race with the reader's speed otherwise).
    let killed = 0;
    const stream = Readable.from(
      (async function* () {
        for (let i = 0; i < parts.length; i++) {
          if (i === Math.floor(parts.length / 2)) killed = await killWhen('copy ads_engine.import_staging_load%');
          yield parts[i]!;
        }
      })(),
    );
    await expect(importCsv(app, { stream, fileName: 'copy.csv', bytesTotal: bytes.length }, { tenantId: tenant, source: 'cli' })).rejects.toThrow();
    expect(killed).toBeGreaterThan(0);
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: 0, daily: 0, staging: 0, succeeded: 0, audit: 0 });
  });

  it('the caller’s stream failing in the middle of the file: its own error comes back, nothing is stored', async () => {
    const tenant = await createTenant(owner, 'Failure: stream', 'EUR');
    const { bytes } = await bigFile(tenant, 20, 50);
    const parts = chunks(bytes, 8192);
    const cancelled = new Error('the upload was cancelled');
    const stream = Readable.from(
      (async function* () {
        for (let i = 0; i < parts.length; i++) {
          if (i === Math.floor(parts.length / 2)) throw cancelled;
          yield parts[i]!;
        }
      })(),
    );
    await expect(importCsv(app, { stream, fileName: 'half.csv', bytesTotal: bytes.length }, { tenantId: tenant, source: 'cli' })).rejects.toBe(cancelled);
    expect(await footprint(owner, tenant)).toEqual({ metrics: 0, daily: 0, weekly: 0, staging: 0, succeeded: 0, refused: 0, failed: 1, audit: 0 });
    const [run] = await ownerRows<{ message: string; file_name: string }>(owner, tenant, 'select message, file_name from ads_engine.import_runs where tenant_id = $1', [tenant]);
    expect(run).toEqual({ message: 'Reading the file stopped: the upload was cancelled. Nothing was stored.', file_name: 'half.csv' });
  });
});
