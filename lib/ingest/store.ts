// The import's database side, shared by every door: one tenant transaction
// on one connection of the app role's pool; the valid rows streamed by COPY
// into the staging table; duplicates found set-based; the staged rows
// classified against the stored ones in one join, then the rows that differ
// updated and the new keys inserted, set-based (so a repeat writes nothing: no
// new row version, no updated_at, no rollup delta); the staging rows deleted;
// the run recorded in ads_engine.import_runs and saas.audit_log. Raw pg: COPY
// needs the connection itself. Not server-only: the command line imports it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StagedRow, TenantFacts } from './records';
import type { ImportCounts, ImportLevel, ImportPlatform, ImportRunStatus, ImportSource, Refusal, RowProblem } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/** Problems kept with a run in the history (the result itself lists up to MAX_PROBLEMS). */
export const HISTORY_PROBLEMS = 100;

/** From this many staged rows, the statements that compare staged rows with stored ones hash instead of probing row by row. */
const LARGE_RUN = 5_000;

/** The key of a metrics row (platform, level, id, day), as one string. */
export const rowKey = (platform: string, level: string, platformId: string, day: string) => `${platform}\t${level}\t${platformId}\t${day}`;

/** A staged row `s` and the stored row `m` of its key. */
const SAME_KEY = `m.platform = s.platform::ads.platform and m.level = s.level::ads.entity_level and m.platform_id = s.platform_id and m.day = s.day`;
/**
 * The stored row already says what the staged one says: the same figures and
 * parent, and the same names (a name the file leaves blank matches any).
 * UPDATE_WHERE is its negation, for the stored rows to write.
 */
const SAME_ROW = `(m.spend = s.spend and m.impressions = s.impressions and m.clicks = s.clicks and m.conversions = s.conversions
       and m.conversion_value = s.conversion_value and m.campaign_id is not distinct from s.campaign_id
       and m.entity_name is not distinct from coalesce(s.entity_name, m.entity_name)
       and m.campaign_name is not distinct from coalesce(s.campaign_name, m.campaign_name))`;
const UPDATE_WHERE = `(m.spend, m.impressions, m.clicks, m.conversions, m.conversion_value, m.campaign_id, m.entity_name, m.campaign_name)
       is distinct from
       (s.spend, s.impressions, s.clicks, s.conversions, s.conversion_value, s.campaign_id,
        coalesce(s.entity_name, m.entity_name), coalesce(s.campaign_name, m.campaign_name))`;

/**
 * The run's staged rows against the stored ones, per day: how many are
 * staged (as the table's policy shows them), how many have a stored row, how
 * many of those are identical. One pass (a hash join over the tenant's rows of
 * the file's days).
 */
const CLASSIFY = `select coalesce(sum(g.n), 0)::int as n, coalesce(sum(g.stored), 0)::int as stored, coalesce(sum(g.same), 0)::int as same,
       coalesce(array_agg(g.day::text order by g.day) filter (where g.stored > g.same), '{}') as changed_days,
       coalesce(array_agg(g.day::text order by g.day) filter (where g.n > g.stored), '{}') as new_days
  from (select s.day, count(*) as n, count(m.day) as stored, count(*) filter (where ${SAME_ROW}) as same
          from ads_engine.import_staging s
          left join ads.metrics_daily m on m.tenant_id = $1 and m.day between $3::date and $4::date and ${SAME_KEY}
         where s.tenant_id = $1 and s.run_id = $2
         group by s.day) g`;

/** The stored rows that differ from the staged ones, on the days where classify found some. */
const UPDATE = `update ads.metrics_daily m
     set entity_name = coalesce(s.entity_name, m.entity_name), campaign_id = s.campaign_id,
         campaign_name = coalesce(s.campaign_name, m.campaign_name), spend = s.spend, impressions = s.impressions,
         clicks = s.clicks, conversions = s.conversions, conversion_value = s.conversion_value
    from ads_engine.import_staging s
   where s.tenant_id = $1 and s.run_id = $2 and s.day = any($3::date[])
     and m.tenant_id = $1 and m.day = any($3::date[]) and ${SAME_KEY}
     and ${UPDATE_WHERE}`;

/**
 * New keys. The first report is stated with the row (first_conversions,
 * first_conversion_value, first_loaded_at: what the table's insert trigger
 * would fill in), so that trigger's WHEN lets it be (db/media_buying/030_indexes.sql).
 * $3: the days with new keys, or null when no staged row has a stored one.
 */
const INSERT = `insert into ads.metrics_daily as m
         (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
          spend, impressions, clicks, conversions, conversion_value, first_conversions, first_conversion_value, first_loaded_at)
  select $1, s.platform::ads.platform, s.level::ads.entity_level, s.platform_id, s.day, s.entity_name, s.campaign_id, s.campaign_name,
         s.spend, s.impressions, s.clicks, s.conversions, s.conversion_value, s.conversions, s.conversion_value, now()
    from ads_engine.import_staging s
   where s.tenant_id = $1 and s.run_id = $2
     and ($3::date[] is null or (s.day = any($3::date[])
          and not exists (select 1 from ads.metrics_daily m where m.tenant_id = $1 and m.day = any($3::date[]) and ${SAME_KEY})))`;

const KEYS = `coalesce(json_agg(json_build_array(w.platform, w.level, w.platform_id, w.day::text)), '[]'::json) as keys`;

export interface Classified {
  /** Staged rows visible through the table's policy. */
  staged: number;
  /** Staged rows with a stored row of the same key, and those identical to it. */
  stored: number;
  same: number;
  /** Days with at least one stored row that differs, and with at least one new key. */
  changedDays: string[];
  newDays: string[];
}

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
   * The write phase of a tenant's imports, one at a time (until commit): two
   * imports writing the same rows in different orders would deadlock, and
   * what classify found stays true until the write. Reading and COPY
   * of concurrent imports still overlap; other tenants never wait.
   */
  async lockTenantWrites(): Promise<void> {
    await this.client.query("select pg_advisory_xact_lock(hashtextextended('aegis.import:' || $1::text, 0))", [this.tenantId]);
  }

  /**
   * A statement over a large run, with nested loops and sorts turned off for
   * it: the staging table never has statistics (its rows live for one
   * transaction), so the planner takes a run for a row or two, and would probe
   * the stored rows once per staged row, or sort a million rows on disk to
   * group them by day. Hash joins and hash aggregates are what a run needs.
   */
  private async planned<R extends pg.QueryResultRow>(large: boolean, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!large) return this.client.query<R>(text, values);
    const before = (
      await this.client.query<{ n: string; s: string }>(
        "select current_setting('enable_nestloop') as n, current_setting('enable_sort') as s, set_config('enable_nestloop', 'off', true), set_config('enable_sort', 'off', true)",
      )
    ).rows[0]!;
    const r = await this.client.query<R>(text, values);
    await this.client.query("select set_config('enable_nestloop', $1, true), set_config('enable_sort', $2, true)", [before.n, before.s]);
    return r;
  }

  /**
   * What the write phase has to do, from the staged rows against the stored
   * ones of the file's days (after lockTenantWrites: nothing changes them
   * meanwhile). Every row copied must be visible through the table's policy,
   * i.e. of this transaction's tenant (the load partition takes COPY, which
   * PostgreSQL refuses on a table under row-level security). A tenant without
   * a stored row on those days (a first import) needs no join: every row is
   * new, and the insert's count is the visibility check.
   */
  async classify(copied: number, days: { from: string; to: string }): Promise<Classified> {
    const any = await this.client.query(
      'select 1 from ads.metrics_daily m where m.tenant_id = $1 and m.day between $2::date and $3::date limit 1',
      [this.tenantId, days.from, days.to],
    );
    if (any.rowCount === 0) return { staged: copied, stored: 0, same: 0, changedDays: [], newDays: [] };
    const r = await this.planned<{ n: number; stored: number; same: number; changed_days: string[]; new_days: string[] }>(copied >= LARGE_RUN, CLASSIFY, [
      this.tenantId,
      this.runId,
      days.from,
      days.to,
    ]);
    const x = r.rows[0]!;
    if (x.n !== copied) throw new Error(`import ${this.runId}: ${copied} rows were copied but ${x.n} are visible to the tenant`);
    return { staged: x.n, stored: x.stored, same: x.same, changedDays: x.changed_days, newDays: x.new_days };
  }

  /**
   * The write: the stored rows that differ are updated (an update stamps
   * updated_at through the table's trigger, so the loop's ledger sees the day
   * again; a name the file leaves blank keeps the stored one), the new keys
   * inserted; an identical row is not touched (no new version, no rollup
   * delta). With `listKeys`, the keys written (for the API's answer by row).
   */
  async write(
    c: Classified,
    listKeys: boolean,
  ): Promise<{ inserted: number; updated: number; keys: { key: string; inserted: boolean }[] | null }> {
    const large = c.staged >= LARGE_RUN;
    const keys: { key: string; inserted: boolean }[] | null = listKeys ? [] : null;
    const run = async (text: string, days: string[] | null, inserted: boolean): Promise<number> => {
      const values = [this.tenantId, this.runId, days];
      if (!listKeys) return (await this.planned(large, text, values)).rowCount ?? 0;
      const r = await this.planned<{ n: number; keys: [string, string, string, string][] }>(
        large,
        `with w as (${text} returning m.platform, m.level, m.platform_id, m.day) select count(*)::int as n, ${KEYS} from w`,
        values,
      );
      for (const [p, l, id, d] of r.rows[0]!.keys) keys!.push({ key: rowKey(p, l, id, d), inserted });
      return r.rows[0]!.n;
    };
    const updated = c.changedDays.length ? await run(UPDATE, c.changedDays, false) : 0;
    let inserted = 0;
    if (c.stored === 0) {
      inserted = await run(INSERT, null, true);
      if (inserted !== c.staged) throw new Error(`import ${this.runId}: ${c.staged} rows were copied but ${inserted} are visible to the tenant`);
    } else if (c.newDays.length) {
      inserted = await run(INSERT, c.newDays, true);
    }
    return { inserted, updated, keys };
  }

  /** The range of the run's staged days (after rows were taken out). */
  async stagedDays(): Promise<{ from: string; to: string } | null> {
    const r = await this.client.query<{ first: string | null; last: string | null }>(
      'select min(s.day)::text as first, max(s.day)::text as last from ads_engine.import_staging s where s.tenant_id = $1 and s.run_id = $2',
      [this.tenantId, this.runId],
    );
    const x = r.rows[0]!;
    return x.first && x.last ? { from: x.first, to: x.last } : null;
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

/**
 * The run's row in ads_engine.import_runs, in the caller's transaction
 * (tenant set). An API run without a label is labelled with its key, by name
 * and public prefix: who it was, even when the page cannot join the key.
 */
export async function insertRun(c: pg.ClientBase, r: RunRecord): Promise<void> {
  await c.query(
    `insert into ads_engine.import_runs
       (tenant_id, id, started_at, source, user_id, api_key_id, actor_label, file_name, bytes, platform, format, level,
        rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_skipped, changed_from, changed_to,
        status, refusal_code, message, problem_count, problems)
     values ($1, $2, $3, $4, $5, $6,
             coalesce($7, (select left(format('API key “%s” (aegis_%s_…)', regexp_replace(k.name, '[[:cntrl:]]', ' ', 'g'), k.key_prefix), 200)
                             from saas.api_keys k where k.tenant_id = $1 and k.id = $6)),
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25::jsonb)`,
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
 * Refused API requests recorded per key in any hour. The rate limit bounds a
 * key's requests (60 a minute), not how long a broken client keeps sending:
 * past this many in the last hour a key's refusals are answered but not
 * recorded, and the last one recorded says so. Uploads and the command line
 * are not capped (a person sends them).
 */
export const API_REFUSALS_PER_HOUR = 20;

/**
 * The record to write for an API refusal, or null when its key has had its
 * API_REFUSALS_PER_HOUR in the last hour. The key's refusals are counted one
 * request at a time (an advisory lock until commit), so the cap is exact.
 */
async function withinRefusalCap(c: pg.ClientBase, r: RunRecord): Promise<RunRecord | null> {
  await c.query("select pg_advisory_xact_lock(hashtextextended('aegis.api-refusals:' || $1::text, 0))", [r.apiKeyId]);
  const n = (
    await c.query<{ n: number }>(
      `select count(*)::int as n from ads_engine.import_runs x
        where x.tenant_id = $1 and x.api_key_id = $2 and x.source = 'api' and x.status = 'refused' and x.started_at > now() - interval '1 hour'`,
      [r.tenantId, r.apiKeyId],
    )
  ).rows[0]!.n;
  if (n >= API_REFUSALS_PER_HOUR) return null;
  if (n < API_REFUSALS_PER_HOUR - 1) return r;
  const note = ` (${API_REFUSALS_PER_HOUR} refusals of this key within an hour: its next ones are not recorded until the hour has passed.)`;
  return { ...r, refusal: r.refusal && { ...r.refusal, message: `${cut(r.refusal.message, 2000 - note.length)}${note}` } };
}

/**
 * A refused or failed run, in its own small transaction (the import's own
 * rolled back): the history shows what was tried. Best effort for a failure:
 * when the database itself is gone, there is nothing to write to. Whether a
 * row was written (an API refusal past its key's cap is not).
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
    const rec = r.source === 'api' && r.status === 'refused' && r.apiKeyId ? await withinRefusalCap(client, r) : r;
    if (rec) await insertRun(client, rec);
    await client.query('commit');
    client.removeListener('error', swallow);
    client.release();
    return rec !== null;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    client.release(err as Error);
    if (r.status === 'refused') throw err;
    return false;
  }
}
