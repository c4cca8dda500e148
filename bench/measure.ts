// Timing helpers of the benchmark suite (bench/suite.ts): rolled-back tenant
// transactions, a queue of tenants shared by N workers, and the summaries.
import pg from 'pg';
import { median } from '../db/seed/stats';
import { withTenant, type Db, type Tx } from '../lib/db/pool';

export { median };

/** Nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const r2 = (x: number) => Math.round(x * 100) / 100;

export interface Timing {
  median_ms: number;
  p90_ms: number;
  runs_ms: number[];
}

export const timing = (runs: readonly number[]): Timing => ({ median_ms: r2(median(runs)), p90_ms: r2(quantile(runs, 0.9)), runs_ms: runs.map(r2) });

/** The spread of many runs (one per tenant), without the runs themselves. */
export interface Spread {
  median_ms: number;
  p90_ms: number;
  max_ms: number;
}
export const spread = (runs: readonly number[]): Spread => ({ median_ms: r2(median(runs)), p90_ms: r2(quantile(runs, 0.9)), max_ms: r2(Math.max(...runs)) });

export const SET_TENANT = "select set_config('saas.tenant_id', $1, true)";

/** Thrown to roll a measured transaction back. */
export class Rollback extends Error {}

/**
 * ms of fn in a transaction of the tenant (begin, the tenant's setting, fn, rollback: nothing stays), `warmup` untimed
 * runs first. `role`: a SET LOCAL ROLE first (an owner or superuser connection measuring as the app role).
 */
export async function timeInTenant(
  client: pg.ClientBase,
  tenant: string,
  opts: { repeat: number; warmup?: number; role?: string },
  fn: (c: pg.ClientBase) => Promise<unknown>,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < (opts.warmup ?? 1) + opts.repeat; i++) {
    await client.query('begin');
    try {
      if (opts.role) await client.query(`set local role ${client.escapeIdentifier(opts.role)}`);
      await client.query(SET_TENANT, [tenant]);
      const t0 = performance.now();
      await fn(client);
      if (i >= (opts.warmup ?? 1)) times.push(performance.now() - t0);
    } finally {
      await client.query('rollback');
    }
  }
  return times;
}

/** fn in the tenant's transaction as the app does it (withTenant), rolled back afterwards. */
export async function rolledBack(db: Db, tenant: string, fn: (trx: Tx) => Promise<unknown>): Promise<void> {
  await withTenant(
    tenant,
    async (trx) => {
      await fn(trx);
      throw new Rollback();
    },
    {},
    db,
  ).catch((err: unknown) => {
    if (!(err instanceof Rollback)) throw err;
  });
}

export interface QueueResult {
  ms: number;
  /** ms per item, in the order of items. */
  each: number[];
}

/** Every item once, taken in order by `workers` concurrent workers (the scheduler's jobs); the wall time of the whole. */
export async function drain<T>(items: readonly T[], workers: number, fn: (item: T) => Promise<void>): Promise<QueueResult> {
  const each = new Array<number>(items.length).fill(0);
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const s = performance.now();
      await fn(items[i]!);
      each[i] = performance.now() - s;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
  return { ms: performance.now() - t0, each };
}

/** Seconds since t0 (performance.now()), one decimal. */
export const since = (t0: number) => Math.round((performance.now() - t0) / 100) / 10;
