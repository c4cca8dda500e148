// Getting data in: the shapes shared by the one import core (lib/ingest) and its
// three doors — the /imports page, the ingest API (POST /api/v1/metrics) and the
// command line (npm run import). Every door hands rows to the same parser,
// validation and upsert. Pure types, client-safe.

export const IMPORT_PLATFORMS = ['meta', 'google', 'tiktok', 'linkedin'] as const;
export type ImportPlatform = (typeof IMPORT_PLATFORMS)[number];

export type ImportLevel = 'campaign' | 'adset';
export type ImportSource = 'upload' | 'api' | 'cli';

/** The product's fields a column can map to. */
export const TARGET_FIELDS = [
  'day',
  'campaign_id',
  'campaign_name',
  'adset_id',
  'adset_name',
  'currency',
  'spend',
  'impressions',
  'clicks',
  'conversions',
  'conversion_value',
] as const;
export type TargetField = (typeof TARGET_FIELDS)[number];

/** Which column of the file (its header text, exactly as in the file) feeds each field; absent: not in the file. */
export type ColumnMapping = Partial<Record<TargetField, string>>;

/** One metric row as it will be stored in ads.metrics_daily (after parsing and validation). */
export interface MetricRow {
  platform: ImportPlatform;
  level: ImportLevel;
  /** The entity's platform id: the campaign id for campaign rows, the ad set id for ad set rows. */
  platformId: string;
  day: string;
  entityName: string | null;
  campaignId: string;
  campaignName: string | null;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  conversionValue: number;
}

/**
 * One problem of one row and column. Rows are numbered as a spreadsheet numbers the file's lines: the first line is 1 (the
 * header, or Google's report name: its header is line 3); a cell spanning lines is one row. column: the header cell, or null for the row as a whole.
 */
export interface RowProblem {
  row: number;
  column: string | null;
  message: string;
}

/** Why a whole file (or request) is refused before any row is looked at. */
export interface Refusal {
  code: 'unreadable' | 'unknown_format' | 'currency' | 'empty' | 'too_large' | 'invalid_rows' | 'mapping';
  message: string;
}

export interface DetectedFormat {
  platform: ImportPlatform | null;
  /** e.g. 'meta', 'meta-fr', 'google', 'google-de', 'google-utf16', 'tiktok', 'linkedin', 'mapped' */
  format: string;
  level: ImportLevel;
  delimiter: string;
  /** As saved: a byte-order mark or UTF-16's NUL bytes decide, else the first byte that is not ASCII (lib/ingest/text.ts). */
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
  /** Lines before the header (Google's report name and date range). */
  preambleLines: number;
  /** Currency the file states (a column or a header suffix such as "Amount spent (EUR)"), if any. */
  currency: string | null;
  mapping: ColumnMapping;
  /** The file's header cells, in order. */
  headers: string[];
  /** How the file writes numbers: 'dot' 1,234.56, 'comma' 1 234,56 / 1.234,56; null: not known yet (decided by the first telling value). */
  numberStyle?: 'dot' | 'comma' | null;
  /** How the file writes days with the year last: 'dmy' 31/01/2024, 'mdy' 1/31/2024; null: ISO days only, or not known yet. */
  dateOrder?: 'dmy' | 'mdy' | null;
  /** The language of the headers, for a recognised export. */
  language?: 'en' | 'fr' | 'de' | null;
}

export interface ImportCounts {
  /** Data rows read (totals and blank rows not counted). */
  read: number;
  inserted: number;
  updated: number;
  /** Rows identical to what was stored: a repeat import changes nothing. */
  unchanged: number;
  /** Invalid rows left out (only with skipInvalid; otherwise the import is refused). */
  rejected: number;
  /** Totals rows, blank rows and the like, skipped by design. */
  skipped: number;
}

export interface ImportResult {
  ok: boolean;
  refusal: Refusal | null;
  format: DetectedFormat | null;
  counts: ImportCounts;
  /** Problems, at most MAX_PROBLEMS listed; problemCount has them all. */
  problems: RowProblem[];
  problemCount: number;
  /** The import's record in the history (ads_engine.import_runs); null when refused before it started. */
  runId: string | null;
  /** The days whose rows were inserted or changed (for the loop to rerun), as a range. */
  changedDays: { from: string; to: string } | null;
  /** A dry run only: the first PREVIEW_ROWS rows as they will be stored. */
  previewRows?: MetricRow[];
}

/** Rows a dry run returns as they will be stored. */
export const PREVIEW_ROWS = 20;

/** What the history records of a run: stored, refused as a whole (the message says why), or failed on the way (nothing kept). */
export type ImportRunStatus = 'succeeded' | 'refused' | 'failed';

export interface ImportProgress {
  phase: 'reading' | 'validating' | 'writing' | 'done';
  rowsRead: number;
  /** Bytes read so far and the total when known (an upload's size), for a progress bar. */
  bytesRead: number;
  bytesTotal: number | null;
}

export const MAX_PROBLEMS = 1000;

// ---------------------------------------------------------------------------
// The doors' options
// ---------------------------------------------------------------------------

/** A file to import: its bytes as a stream, never held whole in memory. */
export interface CsvInput {
  stream: NodeJS.ReadableStream | AsyncIterable<Uint8Array | string>;
  fileName: string | null;
  /** Its size when known (an upload's Content-Length, a file's stat): the progress bar's total. */
  bytesTotal: number | null;
}

export interface CsvImportOptions {
  tenantId: string;
  /** The signed-in user (upload), recorded as who imported; null from the command line. */
  userId?: string | null;
  source: ImportSource;
  /** Who, in words, when there is no user (the command line's "cli: alice@host"). */
  actorLabel?: string | null;
  /** The platform the buyer chose; absent: detected from the headers. A recognised export of another platform is refused. */
  platform?: ImportPlatform;
  /** Which column feeds each field, overriding what the headers say; saved for the tenant and platform once the import succeeds. */
  mapping?: ColumnMapping;
  /** Leave invalid rows out (counted rejected) instead of refusing the file. */
  skipInvalid?: boolean;
  onProgress?: (p: ImportProgress) => void;
  /** The whole import, then rolled back: real counts, every problem and the first rows as stored (previewRows); nothing recorded. */
  dryRun?: boolean;
}

/** One row of the ingest API, as JSON (lib/ingest/api.ts validates the request's shape; importRows checks every row again). */
export interface MetricInput {
  platform: ImportPlatform;
  level?: ImportLevel;
  campaign_id: string;
  campaign_name?: string | null;
  adset_id?: string;
  adset_name?: string | null;
  day: string;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  conversion_value: number;
  currency?: string;
}

export interface RowsImportOptions {
  tenantId: string;
  apiKeyId: string | null;
  skipInvalid?: boolean;
  /** Defaults to 'api'. */
  source?: ImportSource;
  userId?: string | null;
}

/** One problem of one row of a request: its index in the request's rows (from 0) and the field at fault. */
export interface RowsProblem {
  index: number;
  field: string | null;
  message: string;
}

interface RowsOutcomeBase {
  counts: ImportCounts;
  /** Every problem, by row index (at most MAX_PROBLEMS; problemCount has them all). */
  problems: RowsProblem[];
  problemCount: number;
  /** Indexes of the rows left out (skipInvalid) or that refused the request, each with its reasons. */
  rejected: { index: number; reasons: string[] }[];
}

/** What importRows did: the rows by index in each outcome, or the refusal (nothing written). */
export type RowsImportResult =
  | (RowsOutcomeBase & {
      ok: true;
      refusal: null;
      runId: string;
      changedDays: { from: string; to: string } | null;
      inserted: number[];
      updated: number[];
      unchanged: number[];
    })
  | (RowsOutcomeBase & { ok: false; refusal: Refusal; runId: string | null; changedDays: null; inserted: []; updated: []; unchanged: [] });

/** The most rows importRows takes in one call. */
export const MAX_ROWS_PER_CALL = 50_000;

/** The platforms' names in messages and labels. */
export const PLATFORM_WORDS: Record<ImportPlatform, string> = { meta: 'Meta', google: 'Google Ads', tiktok: 'TikTok', linkedin: 'LinkedIn' };
