// What the /imports page shows, read in the tenant's transaction: the
// tenant's number style and time zone, its last complete day (what the
// optimiser runs for), the mappings saved per platform (the mapping editor's
// starting point), and one page of the import history, newest first, shaped
// for the table (times written in the tenant's time zone).
import 'server-only';
import type { BadgeTone } from '@/components/tables/DataTable';
import type { Tx } from '@/lib/db';
import type { NumberStyle } from '@/lib/format/number';
import { formatInZone } from '@/lib/format/time';
import { tenantStyle } from '@/lib/performance/queries';
import { PLATFORM_WORDS } from './detect';
import { listImportRuns, type ImportRun } from './history';
import { loadMapping } from './mapping';
import { IMPORT_PLATFORMS, type ColumnMapping, type ImportPlatform, type ImportSource } from './types';

export const IMPORT_HISTORY_PAGE_SIZE = 20;
/** A page number past this is read as the last page: no offset scan of a huge table from a URL. */
const MAX_PAGE = 10_000;

export interface ImportHistoryRow {
  id: string;
  /** When it started, in the tenant's time zone ("1 Dec, 18:51 CET"). */
  when: string;
  startedAt: string;
  who: string;
  source: string;
  fileName: string | null;
  platform: string;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  status: string;
  tone: BadgeTone;
  /** Why it was refused or failed; null otherwise. */
  reason: string | null;
}

export interface ImportHistoryPage {
  rows: ImportHistoryRow[];
  page: number;
  pages: number;
  total: number;
  timeZone: string;
}

export interface ImportsPageData {
  style: NumberStyle;
  timeZone: string;
  /** The tenant's yesterday in its time zone (YYYY-MM-DD). */
  yesterday: string;
  savedMappings: Partial<Record<ImportPlatform, ColumnMapping>>;
  history: ImportHistoryPage;
}

/** ?page= as a page number (1 when absent or not a number). */
export function parseHistoryPage(params: Record<string, string | string[] | undefined>): number {
  const raw = Array.isArray(params.page) ? params.page[0] : params.page;
  const n = raw && /^\d{1,6}$/.test(raw) ? Number(raw) : 1;
  return Math.min(Math.max(n, 1), MAX_PAGE);
}

const SOURCE_LABEL: Record<ImportSource, string> = { upload: 'Upload', api: 'API', cli: 'Command line' };

function statusOf(run: ImportRun): { status: string; tone: BadgeTone; reason: string | null } {
  switch (run.status) {
    case 'succeeded':
      return { status: 'Imported', tone: 'good', reason: null };
    case 'refused':
      return { status: 'Refused', tone: 'bad', reason: run.message };
    case 'failed':
      return { status: 'Failed', tone: 'bad', reason: run.message ?? 'Nothing was stored.' };
    default:
      return { status: 'Running', tone: 'neutral', reason: null };
  }
}

/** The person (name, else email), the API key by its name, or what the command line said of itself. */
function whoOf(run: ImportRun): string {
  if (run.userName || run.userEmail) return run.userName ?? run.userEmail!;
  if (run.apiKeyName) return `API key “${run.apiKeyName}”`;
  if (run.actorLabel) return run.actorLabel;
  if (run.userId) return `user ${run.userId.slice(0, 8)}`;
  return run.source === 'api' ? 'API key (revoked)' : run.source === 'cli' ? 'command line' : 'unknown';
}

export function historyRow(run: ImportRun, timeZone: string, locale: string): ImportHistoryRow {
  const s = statusOf(run);
  return {
    id: run.id,
    when: formatInZone(run.startedAt, timeZone, locale),
    startedAt: run.startedAt.toISOString(),
    who: whoOf(run),
    source: SOURCE_LABEL[run.source],
    fileName: run.fileName,
    platform: run.platform ? PLATFORM_WORDS[run.platform] : run.source === 'api' ? 'several platforms' : 'platform not recognised',
    inserted: run.counts.inserted,
    updated: run.counts.updated,
    unchanged: run.counts.unchanged,
    rejected: run.counts.rejected,
    ...s,
  };
}

/** One page of the tenant's import history, newest first. */
export async function importHistoryPage(trx: Tx, tenantId: string, page: number, timeZone: string, locale: string): Promise<ImportHistoryPage> {
  const size = IMPORT_HISTORY_PAGE_SIZE;
  const wanted = Math.min(Math.max(Math.trunc(page), 1), MAX_PAGE);
  const first = await listImportRuns(trx, tenantId, { limit: size, offset: (wanted - 1) * size });
  const pages = Math.max(1, Math.ceil(first.total / size));
  // Past the end (an old link, a run deleted): the last page instead of an empty one.
  const list = wanted > pages ? await listImportRuns(trx, tenantId, { limit: size, offset: (pages - 1) * size }) : first;
  return {
    rows: list.runs.map((r) => historyRow(r, timeZone, locale)),
    page: Math.min(wanted, pages),
    pages,
    total: list.total,
    timeZone,
  };
}

export async function importsPageData(trx: Tx, tenantId: string, opts: { page: number }): Promise<ImportsPageData> {
  const t = await tenantStyle(trx, tenantId);
  const savedMappings: Partial<Record<ImportPlatform, ColumnMapping>> = {};
  for (const p of IMPORT_PLATFORMS) {
    const m = await loadMapping(trx, tenantId, p);
    if (m) savedMappings[p] = m;
  }
  return {
    style: { currency: t.currency, locale: t.locale },
    timeZone: t.timezone,
    yesterday: t.lastDay,
    savedMappings,
    history: await importHistoryPage(trx, tenantId, opts.page, t.timezone, t.locale),
  };
}
