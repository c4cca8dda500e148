// How an import ends, whichever door it came through: once its valid rows are
// staged, the set-based checks (the rows are the tenant's; no key twice), the
// decision (refused as a whole, or the invalid rows left out), the write (the
// stored rows that differ updated, the new keys inserted, identical ones left),
// the history and the audit row, then commit, or roll back for a dry run. A
// refusal is recorded in a small transaction of its own.
import type pg from 'pg';
import type { StagedKeys } from './records';
import { insertAudit, insertRun, recordRunAlone, type ImportTransaction, type RunRecord } from './store';
import { MAX_PROBLEMS, type ImportCounts, type ImportLevel, type ImportPlatform, type ImportProgress, type ImportSource, type Refusal, type RowProblem } from './types';

export interface RunContext {
  pool: pg.Pool;
  tx: ImportTransaction;
  tenantId: string;
  userId: string | null;
  apiKeyId: string | null;
  actorLabel: string | null;
  source: ImportSource;
  startedAt: Date;
  fileName: string | null;
  bytes: () => number | null;
  platform: ImportPlatform | null;
  format: string | null;
  level: ImportLevel | null;
  skipInvalid: boolean;
  dryRun: boolean;
  progress: (phase: ImportProgress['phase']) => void;
  /** Written in the import's transaction just before it commits (the mapping it was given). */
  beforeCommit?: (c: pg.ClientBase) => Promise<void>;
}

/** What reading the rows found. */
export interface Tally {
  /** Data rows read: valid + invalid. */
  read: number;
  skipped: number;
  /** Rows with at least one problem. */
  rejected: number;
  /** Rows staged by COPY. */
  staged: number;
  /** Their keys: the range of their days, and whether a key may be there twice. */
  keys: StagedKeys;
  problems: RowProblem[];
  problemCount: number;
  /** Set by settle: the problems of duplicated keys. */
  duplicates?: RowProblem[];
}

export interface Settled {
  ok: boolean;
  refusal: Refusal | null;
  counts: ImportCounts;
  problems: RowProblem[];
  problemCount: number;
  runId: string | null;
  changedDays: { from: string; to: string } | null;
  /** The keys written, and whether each was inserted (listKeys only). */
  keys: { key: string; inserted: boolean }[] | null;
  /** Every problem of a duplicated key (up to dupLimit). */
  duplicates: RowProblem[];
}

export const byRow = (a: RowProblem, b: RowProblem) => a.row - b.row;

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

export function record(ctx: RunContext, fields: Pick<RunRecord, 'counts' | 'changedDays' | 'status' | 'refusal' | 'message' | 'problems' | 'problemCount'>): RunRecord {
  return {
    runId: ctx.tx.runId,
    tenantId: ctx.tenantId,
    startedAt: ctx.startedAt,
    source: ctx.source,
    userId: ctx.userId,
    apiKeyId: ctx.apiKeyId,
    actorLabel: ctx.actorLabel,
    fileName: ctx.fileName,
    bytes: ctx.bytes(),
    platform: ctx.platform,
    format: ctx.format,
    level: ctx.level,
    ...fields,
  };
}

/** Roll back and, unless a dry run, record the refusal; the result says nothing was stored. */
export async function refuse(ctx: RunContext, refusal: Refusal, tally: Tally): Promise<Settled> {
  await ctx.tx.rollback();
  const counts: ImportCounts = { read: tally.read, inserted: 0, updated: 0, unchanged: 0, rejected: tally.rejected, skipped: tally.skipped };
  const problems = tally.problems.slice().sort(byRow).slice(0, MAX_PROBLEMS);
  let runId: string | null = null;
  if (!ctx.dryRun) {
    const recorded = await recordRunAlone(
      ctx.pool,
      record(ctx, { counts, changedDays: null, status: 'refused', refusal, message: null, problems, problemCount: tally.problemCount }),
    );
    if (recorded) runId = ctx.tx.runId;
  }
  ctx.progress('done');
  return { ok: false, refusal, counts, problems, problemCount: tally.problemCount, runId, changedDays: null, keys: null, duplicates: tally.duplicates ?? [] };
}

/** From staged rows to the end of the transaction. */
export async function settle(
  ctx: RunContext,
  tally: Tally,
  opts: { keyColumn: string | null; listKeys: boolean; dupLimit?: number },
): Promise<Settled> {
  const { tx } = ctx;
  ctx.progress('validating');
  // Keys twice in the file, listed set-based (every row of each); only asked when reading saw one.
  const dups = tally.keys.repeated ? await tx.duplicates(opts.keyColumn, ctx.skipInvalid, opts.dupLimit ?? MAX_PROBLEMS) : { problems: [], rows: 0 };
  const t: Tally = {
    ...tally,
    rejected: tally.rejected + dups.rows,
    problems: [...tally.problems, ...dups.problems],
    problemCount: tally.problemCount + dups.rows,
    duplicates: dups.problems,
  };
  const valid = tally.staged - dups.rows;
  // The days read, or those of the rows left once the repeated keys were taken out.
  const days = dups.rows > 0 && ctx.skipInvalid ? await tx.stagedDays() : tally.keys.days;

  if (t.read === 0) return refuse(ctx, { code: 'empty', message: 'The file has no data rows: only a header (and totals or blank lines).' }, t);
  if (t.problemCount > 0 && !ctx.skipInvalid) {
    return refuse(
      ctx,
      {
        code: 'invalid_rows',
        message: `${plural(t.rejected, 'row')} of ${plural(t.read, 'row')} ${t.rejected === 1 ? 'has' : 'have'} problems: nothing was imported. Correct them, or choose to skip the rows with problems.`,
      },
      t,
    );
  }
  if (valid === 0) {
    return refuse(ctx, { code: 'invalid_rows', message: `Every row has a problem (${plural(t.rejected, 'row')}): there is nothing to import.` }, t);
  }

  ctx.progress('writing');
  await tx.lockTenantWrites();
  const c = await tx.classify(valid, days!);
  const up = c.staged > c.same ? await tx.write(c, opts.listKeys) : { inserted: 0, updated: 0, keys: opts.listKeys ? [] : null };
  // The range of the days inserted or changed: every day listed has at least one row written.
  const written = c.stored === 0 ? [days!.from, days!.to] : [...c.changedDays, ...c.newDays].sort();
  const changedDays = up.inserted + up.updated > 0 && written.length ? { from: written[0]!, to: written.at(-1)! } : null;
  await tx.clearStaging();
  const counts: ImportCounts = {
    read: t.read,
    inserted: up.inserted,
    updated: up.updated,
    unchanged: valid - up.inserted - up.updated,
    rejected: t.rejected,
    skipped: t.skipped,
  };
  const problems = t.problems.sort(byRow).slice(0, MAX_PROBLEMS);
  let runId: string | null = null;
  if (ctx.dryRun) {
    await tx.rollback();
  } else {
    const rec = record(ctx, { counts, changedDays, status: 'succeeded', refusal: null, message: null, problems, problemCount: t.problemCount });
    await insertRun(tx.client, rec);
    await insertAudit(tx.client, rec);
    await ctx.beforeCommit?.(tx.client);
    await tx.commit();
    runId = tx.runId;
  }
  ctx.progress('done');
  return { ok: true, refusal: null, counts, problems, problemCount: t.problemCount, runId, changedDays, keys: up.keys, duplicates: dups.problems };
}

/** Record a run that broke off (best effort: the database may be what broke), unless a dry run. */
export async function recordFailure(ctx: RunContext, tally: Tally, message: string): Promise<void> {
  await ctx.tx.rollback();
  if (ctx.dryRun) return;
  const counts: ImportCounts = { read: tally.read, inserted: 0, updated: 0, unchanged: 0, rejected: tally.rejected, skipped: tally.skipped };
  await recordRunAlone(
    ctx.pool,
    record(ctx, { counts, changedDays: null, status: 'failed', refusal: null, message, problems: [], problemCount: 0 }),
  ).catch(() => false);
}
