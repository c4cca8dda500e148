// The daily optimisation loop from TypeScript: one tenant per transaction
// (withTenant, as the app role), the work itself in ads_engine.run_daily_loop.
// Used by the command line (scripts/optimize.ts), the scheduler
// (scripts/worker.ts) and the UI (run.ts). Listing tenants is the owner's
// business: ads_engine.tenants_due is not executable by the app role, so
// listTenants takes an owner connection. Not server-only: scripts import it too.
import { sql } from 'kysely';
import { evaluateAbTests, type AbTestsEvaluation } from '../abtests/evaluate';
import { isUuid, withTenant, type Db, type Tx } from '../db/pool';
import { isDayString } from '../format/time';

export type LoopTrigger = 'schedule' | 'manual' | 'cli';

/** What one run did, as returned by ads_engine.run_daily_loop. */
export interface LoopSummary {
  /** The day processed: the one asked for, else the tenant's yesterday in its time zone. */
  as_of: string;
  /** Whether metrics for as_of (or later) had been loaded when the loop ran. */
  data_arrived: boolean;
  baselines: number;
  campaigns_analyzed: number;
  recommendations: number;
  anomalies: number;
  recommendations_expired: number;
  anomalies_deleted: number;
  ab_tests_completed: number;
  /** Measurements of applied recommendations' outcomes made by this run (7 and 14 days after they were applied). */
  outcomes_measured: number;
  /**
   * Nothing the loop reads had changed since its last full pass for this day: only maintenance, the outcome
   * measurements and the A/B tests ran, nothing was created, and baselines / campaigns_analyzed repeat that pass's counts.
   */
  skipped: boolean;
  /** Why the work was redone (the tables written since the last pass, or why that pass cannot be reused); empty when skipped. */
  changes: string[];
  /** The A/B tests the pass reads after the SQL loop: running ones and completed ones without a winner. */
  ab_tests_to_read: number;
  /**
   * The A/B tests read after the SQL loop (lib/abtests/evaluate.ts), in the same transaction. Not in
   * the summary stored in ads_engine.optimizer_runs, which the SQL loop writes before this step.
   */
  ab_tests_evaluated: AbTestsEvaluation;
}

export interface LoopOptions {
  /** Last complete day to process (YYYY-MM-DD); defaults to the tenant's yesterday in its time zone (saas.tenants.timezone). */
  asOf?: string;
  trigger?: LoopTrigger;
  /** Signed-in user who asked for the run (UI), recorded in the run log. */
  userId?: string | null;
}

export type TenantRunResult =
  | { tenantId: string; ok: true; summary: LoopSummary; ms: number }
  | { tenantId: string; ok: false; error: string; ms: number };


function checkOptions(opts: LoopOptions): void {
  if (opts.asOf !== undefined && !isDayString(opts.asOf)) throw new Error('asOf must be a day as YYYY-MM-DD');
}

const NOTHING_EVALUATED: AbTestsEvaluation = { evaluated: 0, winners: 0, completedWithoutWinner: 0, invalid: 0 };

async function loopIn(trx: Tx, tenantId: string, opts: LoopOptions, ownTransaction: boolean): Promise<LoopSummary> {
  checkOptions(opts);
  // A skipped pass that measured and completed nothing writes its run log alone (and, with A/B tests, when they were
  // read). In a transaction of its own (runDailyLoop) that commit need not wait for the disk: losing it in a crash
  // costs one more pass, which skips again.
  const r = await sql<{ summary: Omit<LoopSummary, 'ab_tests_evaluated'> }>`
    select x.summary,
           case when ${ownTransaction} and (x.summary ->> 'skipped')::boolean and (x.summary ->> 'outcomes_measured')::integer = 0
                     and (x.summary ->> 'ab_tests_completed')::integer = 0
                then set_config('synchronous_commit', 'off', true) end as async_commit
    from (select ads_engine.run_daily_loop(${tenantId}::uuid, ${opts.asOf ?? null}::date, ${opts.trigger ?? 'manual'}) as summary offset 0) x`.execute(trx);
  const summary = r.rows[0]?.summary;
  if (!summary) throw new Error('ads_engine.run_daily_loop returned nothing');
  // Read on every pass, a skipped one too (their state records when they were read).
  if (summary.ab_tests_to_read === 0) return { ...summary, ab_tests_evaluated: NOTHING_EVALUATED };
  const abTests = await evaluateAbTests(trx, tenantId, summary.as_of);
  // The tests' writes belong to the pass; from here a full pass may be reused by the next one.
  await sql`select ads_engine.finish_daily_loop(${tenantId}::uuid)`.execute(trx);
  return { ...summary, ab_tests_evaluated: abTests };
}

/**
 * The loop inside a tenant transaction the caller already holds (the UI's
 * action wrapper); runDailyLoop opens one itself. The A/B tests are read
 * after the SQL loop (which completes the tests past their end date), in the
 * same transaction: a failure in either undoes both. A pass that finds
 * nothing changed since the last one for the same day skips the work
 * (summary.skipped; docs/engine.md).
 */
export async function loopInTransaction(trx: Tx, tenantId: string, opts: LoopOptions = {}): Promise<LoopSummary> {
  return loopIn(trx, tenantId, opts, false);
}

/**
 * Runs the loop for one tenant in one tenant transaction. On failure the
 * transaction rolls back (nothing half-done stays), the failure is logged
 * in ads_engine.optimizer_runs in a second transaction, and the error is rethrown.
 */
export async function runDailyLoop(db: Db, tenantId: string, opts: LoopOptions = {}): Promise<LoopSummary> {
  if (!isUuid(tenantId)) throw new Error('runDailyLoop: tenantId must be a uuid');
  checkOptions(opts);
  const trigger = opts.trigger ?? 'manual';
  const asOf = opts.asOf ?? null;
  try {
    return await withTenant(tenantId, (trx) => loopIn(trx, tenantId, { asOf: opts.asOf, trigger }, true), { userId: opts.userId ?? null }, db);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await withTenant(
      tenantId,
      (trx) =>
        sql`select ads_engine.record_run_failure(${tenantId}::uuid, ${asOf}::date, ${trigger}, ${message})`.execute(
          trx,
        ),
      { userId: opts.userId ?? null },
      db,
    ).catch(() => undefined); // the log is best effort: the original error matters
    throw err;
  }
}

export interface DueTenant {
  tenantId: string;
  frequency: string;
  lastRunAt: Date | null;
  due: boolean;
  /** The day a run now would process: the tenant's yesterday in its time zone (YYYY-MM-DD). */
  asOf: string;
  /** Whether metrics for asOf have been loaded. */
  dataArrived: boolean;
}

export interface ListOptions {
  /** Every tenant, due or not (the command line); otherwise the due ones (the scheduler). */
  all?: boolean;
  now?: Date;
  /**
   * Hours after the tenant's local midnight after which a daily run goes
   * ahead although yesterday's metrics have not arrived (0..24; default 12).
   */
  graceHours?: number;
}

/**
 * Tenants whose loop is due now (per optimization_frequency and the arrival
 * of yesterday's data), or every tenant with all = true. ownerDb must connect
 * as the owner (or a member of aegis_owner, or a superuser): the app role may
 * not list tenants. Runs outside any tenant transaction, as the definer
 * function ads_engine.tenants_due requires.
 */
export async function listTenants(ownerDb: Db, opts: ListOptions = {}): Promise<DueTenant[]> {
  const now = opts.now ?? new Date();
  const grace = opts.graceHours ?? 12;
  if (!Number.isFinite(grace) || grace < 0 || grace > 24) throw new Error('graceHours must be between 0 and 24');
  const r = await sql<{ tenant_id: string; frequency: string; last_run_at: Date | null; due: boolean; as_of: string; data_arrived: boolean }>`
    select tenant_id, frequency, last_run_at, due, as_of, data_arrived
    from ads_engine.tenants_due(${now.toISOString()}::timestamptz, ${opts.all ?? false}, make_interval(secs => ${grace * 3600}))`.execute(ownerDb);
  return r.rows.map((row) => ({
    tenantId: row.tenant_id,
    frequency: row.frequency,
    lastRunAt: row.last_run_at,
    due: row.due,
    asOf: row.as_of,
    dataArrived: row.data_arrived,
  }));
}

export interface AllTenantsOptions extends LoopOptions {
  /** Only the tenants that are due (the scheduler); otherwise every tenant. */
  dueOnly?: boolean;
  /** Restrict to these tenants (e.g. --tenant on the command line); no listing then. */
  tenantIds?: string[];
  /** The owner connection that lists the tenants (needed unless tenantIds is given). */
  listDb?: Db;
  now?: Date;
  graceHours?: number;
  /** Called after each tenant, in order: for progress output. */
  onResult?: (result: TenantRunResult) => void;
}

/** Why a run over every tenant cannot start: listing them needs the owner. */
export const LIST_NEEDS_OWNER =
  'listing tenants needs the owner connection (DATABASE_OWNER_URL): the app role may not enumerate tenants. Set it, or name the tenants.';

/**
 * Runs the loop for every tenant (or the due ones), one after the other, each
 * in its own transaction as the app role (appDb). The list comes from the
 * owner connection opts.listDb, unless opts.tenantIds names the tenants. One
 * tenant's failure is logged and reported in the results; the others still run.
 */
export async function runAllTenants(appDb: Db, opts: AllTenantsOptions = {}): Promise<TenantRunResult[]> {
  checkOptions(opts);
  let work: { tenantId: string; asOf?: string }[];
  if (opts.tenantIds && opts.tenantIds.length > 0) {
    const bad = opts.tenantIds.filter((t) => !isUuid(t));
    if (bad.length) throw new Error(`not a tenant id: ${bad.join(', ')}`);
    work = opts.tenantIds.map((tenantId) => ({ tenantId, asOf: opts.asOf }));
  } else {
    if (!opts.listDb) throw new Error(LIST_NEEDS_OWNER);
    const listed = await listTenants(opts.listDb, { all: !opts.dueOnly, now: opts.now, graceHours: opts.graceHours });
    // The day each tenant is due for, unless one was asked for.
    work = listed.filter((t) => t.due || !opts.dueOnly).map((t) => ({ tenantId: t.tenantId, asOf: opts.asOf ?? (opts.dueOnly ? t.asOf : undefined) }));
  }
  const results: TenantRunResult[] = [];
  for (const { tenantId, asOf } of work) {
    const started = performance.now();
    let result: TenantRunResult;
    try {
      const summary = await runDailyLoop(appDb, tenantId, { ...opts, asOf });
      result = { tenantId, ok: true, summary, ms: Math.round(performance.now() - started) };
    } catch (err) {
      result = { tenantId, ok: false, error: err instanceof Error ? err.message : String(err), ms: Math.round(performance.now() - started) };
    }
    results.push(result);
    opts.onResult?.(result);
  }
  return results;
}

function abTestsText(e: AbTestsEvaluation | undefined): string {
  if (!e) return '';
  const parts = [`${e.winners} new winner${e.winners === 1 ? '' : 's'}`, `${e.completedWithoutWinner} completed without one`];
  if (e.invalid > 0) parts.push(`${e.invalid} with unreadable totals`);
  return `, ${e.evaluated} A/B tests evaluated (${parts.join(', ')})`;
}

/** One line per tenant for logs and the command line. */
export function formatResult(r: TenantRunResult): string {
  if (!r.ok) return `${r.tenantId}  FAILED  ${r.error}  (${r.ms} ms)`;
  const s = r.summary;
  return (
    `${r.tenantId}  ok  as of ${s.as_of}${s.data_arrived === false ? ' (no metrics for that day yet)' : ''}: ` +
    `${s.baselines} baselines, ${s.campaigns_analyzed} campaigns analysed, ` +
    `${s.recommendations} new recommendations, ${s.anomalies} new anomalies, ${s.recommendations_expired} expired, ` +
    `${s.anomalies_deleted} old anomalies deleted, ${s.ab_tests_completed} A/B tests completed, ` +
    `${s.outcomes_measured} outcomes measured${abTestsText(s.ab_tests_evaluated)}` +
    `${s.skipped ? '; nothing changed since the last pass for that day, so nothing was recomputed' : ''}  (${r.ms} ms)`
  );
}
