// Running the import core in the tests: a file's bytes as a stream (in small
// pieces when asked, so characters are split between chunks), and reads of
// what the database holds for a tenant, as the owner in the tenant's
// transaction.
import { Readable } from 'node:stream';
import type pg from 'pg';
import { importCsv } from '../../lib/ingest/import';
import type { CsvImportOptions, ImportResult } from '../../lib/ingest/types';

export function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

export function importBytes(
  pool: pg.Pool,
  bytes: Buffer,
  opts: Partial<CsvImportOptions> & { tenantId: string },
  more: { chunk?: number; fileName?: string } = {},
): Promise<ImportResult> {
  return importCsv(
    pool,
    { stream: Readable.from(more.chunk ? chunks(bytes, more.chunk) : [bytes]), fileName: more.fileName ?? 'export.csv', bytesTotal: bytes.length },
    { source: 'cli', ...opts },
  );
}

/** One value of a query, as the owner, inside the tenant's transaction (RLS is forced on the owner too). */
export async function ownerValue<T = string>(owner: pg.Pool, tenant: string, text: string, values: unknown[] = []): Promise<T> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const r = await c.query(text, values);
    await c.query('commit');
    const row = r.rows[0] as Record<string, unknown> | undefined;
    return (row ? Object.values(row)[0] : undefined) as T;
  } finally {
    c.release();
  }
}

export async function ownerRows<T extends pg.QueryResultRow>(owner: pg.Pool, tenant: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const r = await c.query<T>(text, values);
    await c.query('commit');
    return r.rows;
  } finally {
    c.release();
  }
}

/** Everything an import may leave for a tenant: metrics rows, rollup rows, staging rows, runs by status, audit rows. */
export async function footprint(owner: pg.Pool, tenant: string) {
  const [r] = await ownerRows<{ metrics: number; daily: number; weekly: number; staging: number; succeeded: number; refused: number; failed: number; audit: number }>(
    owner,
    tenant,
    `select (select count(*) from ads.metrics_daily where tenant_id = $1)::int as metrics,
            (select count(*) from ads_engine.metrics_platform_daily where tenant_id = $1)::int as daily,
            (select count(*) from ads_engine.metrics_entity_weekly where tenant_id = $1)::int as weekly,
            (select count(*) from ads_engine.import_staging where tenant_id = $1)::int as staging,
            (select count(*) from ads_engine.import_runs where tenant_id = $1 and status = 'succeeded')::int as succeeded,
            (select count(*) from ads_engine.import_runs where tenant_id = $1 and status = 'refused')::int as refused,
            (select count(*) from ads_engine.import_runs where tenant_id = $1 and status = 'failed')::int as failed,
            (select count(*) from saas.audit_log where tenant_id = $1 and action = 'metrics.import')::int as audit`,
    [tenant],
  );
  return r!;
}
