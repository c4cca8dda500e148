// The import's database side, shared by every door: one tenant transaction
// on one connection of the app role's pool; the valid rows streamed by COPY
// into the staging table; duplicates found set-based; ONE upsert into
// ads.metrics_daily that writes only the rows that differ (so a repeat
// changes nothing: no new row version, no updated_at, no rollup delta); the
// staging rows deleted; the run recorded in ads_engine.import_runs and
// saas.audit_log. Raw pg: COPY needs the connection itself. Not server-only:
// the command line imports it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StagedRow, TenantFacts } from './records';
import type { ImportCounts, ImportLevel, ImportPlatform, ImportRunStatus, ImportSource, Refusal, RowProblem } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/** Problems kept with a run in the history (the result itself lists up to MAX_PROBLEMS). */
export const HISTORY_PROBLEMS = 100;

/** From this many staged rows, the check for unchanged rows hashes instead of probing row by row. */
const LARGE_RUN = 5_000;

/** The key of a metrics row (platform, level, id, day), as one string. */
export const rowKey = (platform: string, level: string, platformId: string, day: string) => `${platform}\t${level}\t${platformId}\t${day}`;

/** The insert ... on conflict ... do update of the run's staged rows; what follows RETURNING and the final SELECT is added below. */
const UPSERT_HEAD = `with up as (
  insert into ads.metrics_daily as m
         (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
          spend, impressions, clicks, conversions, conversion_value)
  select $1, s.platform, s.level, s.platform_id, s.day, s.entity_name, s.campaign_id, s.campaign_name,
         s.spend, s.impressions, s.clicks, s.conversions, s.conversion_value
    from ads_engine.import_staging s
   where s.tenant_id = $1 and s.run_id = $2
  on conflict (tenant_id, platform, level, platform_id, day) do update
     set entity_name = coalesce(excluded.entity_name, m.entity_name),
         campaign_id = excluded.campaign_id,
         campaign_name = coalesce(excluded.campaign_name, m.campaign_name),
         spend = excluded.spend, impressions = excluded.impressions, clicks = excluded.clicks,
         conversions = excluded.conversions, conversion_value = excluded.conversion_value
   where (m.spend, m.impressions, m.clicks, m.conversions, m.conversion_value, m.campaign_id, m.entity_name, m.campaign_name)
         is distinct from
         (excluded.spend, excluded.impressions, excluded.clicks, excluded.conversions, excluded.conversion_value, excluded.campaign_id,
          coalesce(excluded.entity_name, m.entity_name), coalesce(excluded.campaign_name, m.campaign_name))`;
const UPSERT_COUNTS = `select count(*) filter (where up.inserted)::text as inserted, count(*) filter (where not up.inserted)::text as updated,
       min(up.day)::text as first_day, max(up.day)::text as last_day`;
/** For a file: counts and the days changed only. */
const UPSERT = `${UPSERT_HEAD}
  returning m.day, (m.xmax = 0) as inserted)
${UPSERT_COUNTS}
  from up`;
/** For the API: the keys written too, to answer row by row. */
const UPSERT_LISTING_KEYS = `${UPSERT_HEAD}
  returning m.platform, m.level, m.platform_id, m.day, (m.xmax = 0) as inserted)
${UPSERT_COUNTS},
       coalesce(json_agg(json_build_array(up.platform, up.level, up.platform_id, up.day::text, up.inserted)), '[]'::json) as listed
  from up`;

/** Memory for the import's hash joins and sorts, for its transaction only (a million rows hash in ~100 MB). */
const WORK_MEM = '128MB';

export class TenantNotFound extends Error {
  constructor(tenantId: string) {
    super(`tenant ${tenantId} does not exist`);
    this.name = 'TenantNotFound';
  }
}

/** One import's transaction: a pooled connection, the tenant (and user) set transaction-locally, the tenant's currency and today. */
export class ImportTransaction {
  readonly runId = randomUUID();
  private released = false;
  private broken: Error | null = null;
  private readonly onError = (err: Error) => {
    this.broken = err;
  };

  private constructor(
    readonly client: pg.PoolClient,
    readonly tenantId: string,
    readonly tenant: TenantFacts,
  ) {}

  static async open(pool: pg.Pool, tenantId: string, userId: string | null): Promise<ImportTransaction> {
    const client = await pool.connect();
    // A connection killed while checked out errors on the client: without a listener that would end the process.
    const early = () => undefined;
    client.on('error', early);
    try {
      await client.query('begin');
      await client.query(
        "select set_config('saas.tenant_id', $1, true), set_config('saas.user_id', $2, true), set_config('work_mem', $3, true), set_config('application_name', 'aegis-import', true)",
        [tenantId, userId ?? '', WORK_MEM],
      );
      const r = await client.query<{ currency: string; today: string }>(
        `select t.currency::text as currency, (now() at time zone ads_engine.valid_timezone(t.timezone))::date::text as today
           from saas.tenants t where t.id = $1`,
        [tenantId],
      );
      if (!r.rows[0]) throw new TenantNotFound(tenantId);
      const tx = new ImportTransaction(client, tenantId, { currency: r.rows[0].currency.trim(), today: r.rows[0].today });
      client.removeListener('error', early);
      client.on('error', tx.onError);
      return tx;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      client.removeListener('error', early);
      client.release(err instanceof TenantNotFound ? undefined : (err as Error));
      throw err;
    }
  }

  /** The COPY stream into the staging table's load partition; write copyLine()s to it. */
  copyStream() {
    return this.client.query(
      copyFrom(
        'COPY ads_engine.import_staging_load (tenant_id, run_id, row_no, platform, level, platform_id, day, entity_name, campaign_id, campaign_name, ' +
          'spend, impressions, clicks, conversions, conversion_value) FROM STDIN',
      ),
    );
  }

  /** What each line of this run starts with. */
  get linePrefix(): string {
    return `${this.tenantId}\t${this.runId}\t`;
  }

  /**
   * The run's staged rows as the table's policy shows them, in one pass:
   * every row copied must be there, i.e. of this transaction's tenant (the
   * load partition takes COPY, which PostgreSQL refuses on a table under
   * row-level security); the range of their days; how many keys (platform,
   * level, id, day) the file has more than once.
   */
  async inspectStaged(copied: number): Promise<{ days: { from: string; to: string } | null; duplicateKeys: number }> {
    const r = await this.client.query<{ n: string; first: string | null; last: string | null; dups: string }>(
      `select coalesce(sum(g.n), 0)::text as n, min(g.day)::text as first, max(g.day)::text as last, count(*) filter (where g.n > 1)::text as dups
         from (select s.day, count(*) as n from ads_engine.import_staging s
                where s.tenant_id = $1 and s.run_id = $2
                group by s.platform, s.level, s.platform_id, s.day) g`,
      [this.tenantId, this.runId],
    );
    const x = r.rows[0]!;
    const seen = Number(x.n);
    if (seen !== copied) throw new Error(`import ${this.runId}: ${copied} rows were copied but ${seen} are visible to the tenant`);
    return { days: x.first && x.last ? { from: x.first, to: x.last } : null, duplicateKeys: Number(x.dups) };
  }

  /**
   * Rows that share their platform, level, id and day with another row of the
   * file: every one of them is a problem (which of them is right cannot be
   * told). With `remove`, they are deleted from the staging table (skipInvalid).
   */
  async duplicates(keyColumn: string | null, remove: boolean, max: number): Promise<{ problems: RowProblem[]; rows: number }> {
    const r = await this.client.query<{ row_no: number; platform_id: string; day: string; others: number[]; total: string }>(
      `with d as (
         select s.platform, s.level, s.platform_id, s.day, array_agg(s.row_no order by s.row_no) as rows_
           from ads_engine.import_staging s where s.tenant_id = $1 and s.run_id = $2
          group by s.platform, s.level, s.platform_id, s.day having count(*) > 1)
       select s.row_no, s.platform_id, s.day::text as day, array_remove(d.rows_, s.row_no) as others, count(*) over ()::text as total
         from ads_engine.import_staging s join d using (platform, level, platform_id, day)
        where s.tenant_id = $1 and s.run_id = $2
        order by s.row_no
        limit $3`,
      [this.tenantId, this.runId, max],
    );
    const total = Number(r.rows[0]?.total ?? 0);
    if (remove) {
      await this.client.query(
        `delete from ads_engine.import_staging s
          using (select platform, level, platform_id, day from ads_engine.import_staging
                  where tenant_id = $1 and run_id = $2 group by 1, 2, 3, 4 having count(*) > 1) d
          where s.tenant_id = $1 and s.run_id = $2
            and (s.platform, s.level, s.platform_id, s.day) = (d.platform, d.level, d.platform_id, d.day)`,
        [this.tenantId, this.runId],
      );
    }
    const list = (xs: number[]) => (xs.length > 5 ? `${xs.slice(0, 5).join(', ')} and ${xs.length - 5} more` : xs.join(', '));
    return {
      rows: total,
      problems: r.rows.map((x) => ({
        row: x.row_no,
        column: keyColumn,
        message: `${x.platform_id} on ${x.day} is also on row${x.others.length > 1 ? 's' : ''} ${list(x.others)}: each id and day once per file.`,
      })),
    };
  }

  /**
   * Rows identical to what is stored (figures, parent, names: a name the file
   * leaves blank matches any) are taken out of the staging table first: they
   * cost the upsert no trigger call, no lock, no row version. The staging
   * table never has statistics (its rows live for one transaction), so the
   * planner takes its run for a handful of rows; for a large run a nested
   * loop over the tenant's rows would be quadratic, so it is turned off for
   * this statement: one hash join over the tenant's rows of the run's days.
   */
  async dropUnchanged(days: { from: string; to: string }, staged: number): Promise<number> {
    const large = staged >= LARGE_RUN;
    let before = 'on';
    if (large) {
      before = (await this.client.query<{ v: string }>("select current_setting('enable_nestloop') as v")).rows[0]!.v;
      await this.client.query("select set_config('enable_nestloop', 'off', true)");
    }
    const r = await this.client.query(
      `delete from ads_engine.import_staging s
        where s.tenant_id = $1 and s.run_id = $2
          and exists (
            select 1 from ads.metrics_daily m
             where m.tenant_id = $1 and m.day between $3::date and $4::date
               and m.platform = s.platform and m.level = s.level and m.platform_id = s.platform_id and m.day = s.day
               and m.spend = s.spend and m.impressions = s.impressions and m.clicks = s.clicks
               and m.conversions = s.conversions and m.conversion_value = s.conversion_value
               and m.campaign_id is not distinct from s.campaign_id
               and m.entity_name is not distinct from coalesce(s.entity_name, m.entity_name)
               and m.campaign_name is not distinct from coalesce(s.campaign_name, m.campaign_name))`,
      [this.tenantId, this.runId, days.from, days.to],
    );
    if (large) await this.client.query("select set_config('enable_nestloop', $1, true)", [before]);
    return r.rowCount ?? 0;
  }

  /**
   * The write phase of a tenant's imports, one at a time (until commit): two
   * imports writing the same rows in different orders would deadlock, and
   * what dropUnchanged found stays true until the upsert. Reading and COPY
   * of concurrent imports still overlap; other tenants never wait.
   */
  async lockTenantWrites(): Promise<void> {
    await this.client.query("select pg_advisory_xact_lock(hashtextextended('aegis.import:' || $1::text, 0))", [this.tenantId]);
  }

  /**
   * The upsert: ONE statement over the rows left, which are new or differ.
   * Inserted, or updating the stored row only where it still differs: an
   * update stamps updated_at (the table's trigger), so the loop's ledger
   * sees the day again; a row identical to the stored one gets no new
   * version. A name the file leaves blank keeps the stored one. With
   * `listKeys`, the keys written (for the API's answer by row).
   */
  async upsert(listKeys: boolean): Promise<{
    inserted: number;
    updated: number;
    changedDays: { from: string; to: string } | null;
    keys: { key: string; inserted: boolean }[] | null;
  }> {
    const r = await this.client.query<{ inserted: string; updated: string; first_day: string | null; last_day: string | null; listed?: [string, string, string, string, boolean][] }>(
      listKeys ? UPSERT_LISTING_KEYS : UPSERT,
      [this.tenantId, this.runId],
    );
    const row = r.rows[0]!;
    return {
      inserted: Number(row.inserted),
      updated: Number(row.updated),
      changedDays: row.first_day && row.last_day ? { from: row.first_day, to: row.last_day } : null,
      keys: listKeys ? (row.listed ?? []).map(([p, l, id, d, ins]) => ({ key: rowKey(p, l, id, d), inserted: ins })) : null,
    };
  }

  /** The staging table is emptied of this run in the same transaction: nothing of it outlives the import. */
  async clearStaging(): Promise<void> {
    await this.client.query('delete from ads_engine.import_staging s where s.tenant_id = $1 and s.run_id = $2', [this.tenantId, this.runId]);
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(text, values);
  }

  async commit(): Promise<void> {
    await this.client.query('commit');
    this.release();
  }

  /** Roll back (a dry run, a refusal); a broken connection is discarded instead of going back to the pool. */
  async rollback(): Promise<void> {
    if (this.released) return;
    if (this.broken) {
      this.release(this.broken);
      return;
    }
    try {
      await this.client.query('rollback');
      this.release();
    } catch (err) {
      this.release(err as Error);
    }
  }

  private release(err?: Error): void {
    if (this.released) return;
    this.released = true;
    this.client.removeListener('error', this.onError);
    // A listener stays until the pool drops a broken client: its late errors must not end the process.
    if (err) this.client.on('error', () => undefined);
    this.client.release(err);
  }
}

/** COPY text format: backslash escaped; the cells reaching here hold no control characters (refused when read). */
function copyText(s: string): string {
  return s.indexOf('\\') === -1 ? s : s.replace(/\\/g, '\\\\');
}

/** One line of the COPY into the staging table, after the run's prefix (ImportTransaction.linePrefix). */
export function copyLine(prefix: string, r: StagedRow): string {
  return (
    prefix +
    r.rowNo +
    '\t' +
    r.platform +
    '\t' +
    r.level +
    '\t' +
    copyText(r.platformId) +
    '\t' +
    r.day +
    '\t' +
    (r.entityName === null ? '\\N' : copyText(r.entityName)) +
    '\t' +
    copyText(r.campaignId) +
    '\t' +
    (r.campaignName === null ? '\\N' : copyText(r.campaignName)) +
    '\t' +
    r.spend +
    '\t' +
    r.impressions +
    '\t' +
    r.clicks +
    '\t' +
    r.conversions +
    '\t' +
    r.conversionValue +
    '\n'
  );
}

// ---------------------------------------------------------------------------
// The history and the audit trail
// ---------------------------------------------------------------------------

export interface RunRecord {
  runId: string;
  tenantId: string;
  startedAt: Date;
  source: ImportSource;
  userId: string | null;
  apiKeyId: string | null;
  actorLabel: string | null;
  fileName: string | null;
  bytes: number | null;
  platform: ImportPlatform | null;
  format: string | null;
  level: ImportLevel | null;
  counts: ImportCounts;
  changedDays: { from: string; to: string } | null;
  status: ImportRunStatus;
  refusal: Refusal | null;
  /** For a failed run: what stopped it, in words for the page. */
  message: string | null;
  problems: RowProblem[];
  problemCount: number;
}

const cut = (s: string | null, max: number) => (s === null ? null : s.length > max ? `${s.slice(0, max - 1)}…` : s);
const clean = (s: string | null, max: number) => cut(s === null ? null : s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim() || null, max);

/** The run's row in ads_engine.import_runs, in the caller's transaction (tenant set). */
export async function insertRun(c: pg.ClientBase, r: RunRecord): Promise<void> {
  await c.query(
    `insert into ads_engine.import_runs
       (tenant_id, id, started_at, source, user_id, api_key_id, actor_label, file_name, bytes, platform, format, level,
        rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_skipped, changed_from, changed_to,
        status, refusal_code, message, problem_count, problems)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25::jsonb)`,
    [
      r.tenantId,
      r.runId,
      r.startedAt,
      r.source,
      r.userId,
      r.apiKeyId,
      clean(r.actorLabel, 200),
      clean(r.fileName, 255),
      r.bytes,
      r.platform,
      cut(r.format, 40),
      r.level,
      r.counts.read,
      r.counts.inserted,
      r.counts.updated,
      r.counts.unchanged,
      r.counts.rejected,
      r.counts.skipped,
      r.changedDays?.from ?? null,
      r.changedDays?.to ?? null,
      r.status,
      r.refusal?.code ?? null,
      cut(r.refusal?.message ?? r.message, 2000),
      r.problemCount,
      JSON.stringify(r.problems.slice(0, HISTORY_PROBLEMS).map((p) => ({ ...p, message: cut(p.message, 300) }))),
    ],
  );
}

/**
 * The audit row of a stored import, written as lib/audit/mutations.ts
 * recordAudit writes one (that module is server-only; the command line runs
 * this): the tenant and, by default, the user of the transaction.
 */
export async function insertAudit(c: pg.ClientBase, r: RunRecord): Promise<void> {
  const label = r.actorLabel ?? (r.apiKeyId ? `API key ${r.apiKeyId}` : null);
  await c.query(
    `with actor as (select coalesce($1::uuid, saas.current_user_id()) as id)
     insert into saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
     select saas.current_tenant_id(), actor.id, coalesce($2::text, (select u.email from saas.users u where u.id = actor.id)),
            'metrics.import', 'import_run', $3, null, $4::jsonb
       from actor`,
    [
      r.userId,
      clean(label, 200),
      r.runId,
      JSON.stringify({
        source: r.source,
        file: r.fileName,
        platform: r.platform,
        format: r.format,
        level: r.level,
        api_key_id: r.apiKeyId,
        counts: r.counts,
        changed_days: r.changedDays,
      }),
    ],
  );
}

/**
 * A refused or failed run, in its own small transaction (the import's own
 * rolled back): the history shows what was tried. Best effort for a failure:
 * when the database itself is gone, there is nothing to write to.
 */
export async function recordRunAlone(pool: pg.Pool, r: RunRecord): Promise<boolean> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch {
    return false;
  }
  const swallow = () => undefined;
  client.on('error', swallow);
  try {
    await client.query('begin');
    await client.query("select set_config('saas.tenant_id', $1, true), set_config('saas.user_id', $2, true)", [r.tenantId, r.userId ?? '']);
    await insertRun(client, r);
    await client.query('commit');
    client.removeListener('error', swallow);
    client.release();
    return true;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    client.release(err as Error);
    if (r.status === 'refused') throw err;
    return false;
  }
}
