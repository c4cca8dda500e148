// The import history for the /imports page: the tenant's runs, newest first,
// with who ran them (the user's name and email, the API key's name) and how
// each ended. Read in the page's tenant transaction.
import { sql } from 'kysely';
import type { Tx } from '../db/pool';
import type { ImportCounts, ImportLevel, ImportPlatform, ImportRunStatus, ImportSource, Refusal, RowProblem } from './types';

export interface ImportRun {
  id: string;
  startedAt: Date;
  finishedAt: Date;
  source: ImportSource;
  userId: string | null;
  /** The user's name and email, when the account is still visible to the tenant. */
  userName: string | null;
  userEmail: string | null;
  apiKeyId: string | null;
  apiKeyName: string | null;
  /** Who, in words, for a run without a user (the command line). */
  actorLabel: string | null;
  fileName: string | null;
  bytes: number | null;
  platform: ImportPlatform | null;
  format: string | null;
  level: ImportLevel | null;
  counts: ImportCounts;
  changedDays: { from: string; to: string } | null;
  status: ImportRunStatus;
  refusalCode: Refusal['code'] | null;
  /** Why it was refused, or what stopped it. */
  message: string | null;
  problemCount: number;
  /** The first problems (at most 100). */
  problems: RowProblem[];
}

interface Row {
  id: string;
  started_at: Date;
  finished_at: Date;
  source: ImportSource;
  user_id: string | null;
  user_name: string | null;
  user_email: string | null;
  api_key_id: string | null;
  api_key_name: string | null;
  actor_label: string | null;
  file_name: string | null;
  bytes: string | null;
  platform: ImportPlatform | null;
  format: string | null;
  level: ImportLevel | null;
  rows_read: string;
  rows_inserted: string;
  rows_updated: string;
  rows_unchanged: string;
  rows_rejected: string;
  rows_skipped: string;
  changed_from: string | null;
  changed_to: string | null;
  status: ImportRunStatus;
  refusal_code: Refusal['code'] | null;
  message: string | null;
  problem_count: string;
  problems: RowProblem[];
  total: string;
}

export const MAX_HISTORY_PAGE = 200;

/** One page of the tenant's runs, newest first, and how many there are in all. */
export async function listImportRuns(
  trx: Tx,
  tenantId: string,
  opts: { limit?: number; offset?: number } = {},
): Promise<{ runs: ImportRun[]; total: number }> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 20), 1), MAX_HISTORY_PAGE);
  const offset = Math.max(Math.trunc(opts.offset ?? 0), 0);
  // Counts are bigint: read as text, so the result is the same whichever type parsers the process installed.
  const r = await sql<Row>`
    select r.id, r.started_at, r.finished_at, r.source, r.user_id, u.name as user_name, u.email as user_email,
           r.api_key_id, k.name as api_key_name, r.actor_label, r.file_name, r.bytes::text as bytes, r.platform, r.format, r.level,
           r.rows_read::text as rows_read, r.rows_inserted::text as rows_inserted, r.rows_updated::text as rows_updated,
           r.rows_unchanged::text as rows_unchanged, r.rows_rejected::text as rows_rejected, r.rows_skipped::text as rows_skipped,
           r.changed_from::text as changed_from, r.changed_to::text as changed_to, r.status, r.refusal_code, r.message,
           r.problem_count::text as problem_count, r.problems,
           count(*) over ()::text as total
      from ads_engine.import_runs r
      left join saas.users u on u.id = r.user_id
      left join saas.api_keys k on k.tenant_id = r.tenant_id and k.id = r.api_key_id
     where r.tenant_id = ${tenantId}
     order by r.started_at desc, r.id
     limit ${limit} offset ${offset}`.execute(trx);
  let total = Number(r.rows[0]?.total ?? 0);
  if (r.rows.length === 0 && offset > 0) {
    const c = await sql<{ n: string }>`select count(*)::text as n from ads_engine.import_runs r where r.tenant_id = ${tenantId}`.execute(trx);
    total = Number(c.rows[0]!.n);
  }
  return { runs: r.rows.map(toRun), total };
}

function toRun(x: Row): ImportRun {
  return {
    id: x.id,
    startedAt: new Date(x.started_at),
    finishedAt: new Date(x.finished_at),
    source: x.source,
    userId: x.user_id,
    userName: x.user_name,
    userEmail: x.user_email,
    apiKeyId: x.api_key_id,
    apiKeyName: x.api_key_name,
    actorLabel: x.actor_label,
    fileName: x.file_name,
    bytes: x.bytes === null ? null : Number(x.bytes),
    platform: x.platform,
    format: x.format,
    level: x.level,
    counts: {
      read: Number(x.rows_read),
      inserted: Number(x.rows_inserted),
      updated: Number(x.rows_updated),
      unchanged: Number(x.rows_unchanged),
      rejected: Number(x.rows_rejected),
      skipped: Number(x.rows_skipped),
    },
    changedDays: x.changed_from && x.changed_to ? { from: x.changed_from, to: x.changed_to } : null,
    status: x.status,
    refusalCode: x.refusal_code,
    message: x.message,
    problemCount: Number(x.problem_count),
    problems: Array.isArray(x.problems) ? x.problems : [],
  };
}
