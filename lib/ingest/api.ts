// The ingest API's request, from the wire to the import core: the key
// (Authorization: Bearer), its rate limit, the media type, the body read with
// a byte cap while it streams, the JSON and its shape, each row checked, then
// lib/ingest's importRows for the key's tenant. The zod schemas here are the
// one description of the body and the answers: the validation uses them and
// lib/ingest/openapi.ts publishes them (GET /api/v1/openapi.json).
import 'server-only';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { appDb, type DbHandle } from '@/lib/db';
import { DATABASE_UNAVAILABLE_API, isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '@/lib/db/unavailable';
import { hasRole } from '@/lib/tenancy/roles';
import { API_RATE_LIMIT, authenticateApiKey, type RateLimit } from './api-keys';
import { importRows } from './import';
import { recordRunAlone } from './store';
import { IMPORT_PLATFORMS, MAX_PROBLEMS, MAX_ROWS_PER_CALL, type MetricInput, type Refusal, type RowsImportResult } from './types';

/** The body's cap, in bytes, counted as it streams (a full request of MAX_ROWS rows is about 12 MB). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Rows a request: what the import core takes in one call. */
export const MAX_ROWS = MAX_ROWS_PER_CALL;
/** Longest message given back per problem (a core message may quote the value). */
const MAX_MESSAGE = 300;

// ---------------------------------------------------------------------------
// The body
// ---------------------------------------------------------------------------

/** numeric(14,2) and numeric(16,2) of ads.metrics_daily. */
const MAX_AMOUNT = 999_999_999_999.99;
const MAX_VALUE = 99_999_999_999_999.99;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A field's type error: "required" when it is missing, what it must be otherwise. */
const typeError = (field: string, what: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `${field}: required.` : `${field}: must be ${what}.`;

const text = (field: string, max: number) =>
  z
    .string({ error: typeError(field, 'a string') })
    .max(max, { error: `${field}: at most ${max} characters.` })
    .refine((v) => !CONTROL.test(v), { error: `${field}: no control characters (line breaks, tabs, NUL).` })
    .refine((v) => v.isWellFormed(), { error: `${field}: contains a broken character (a lone UTF-16 surrogate).` });

const id = (field: string, description: string) =>
  text(field, 200)
    .min(1, { error: `${field}: must not be empty.` })
    .refine((v) => v.trim() === v, { error: `${field}: no spaces before or after the id.` })
    .meta({ description: `${description} A string, as the platform shows it (ids longer than 15 digits lose digits as JSON numbers). 1 to 200 characters.` });

const name = (field: string, description: string) =>
  text(field, 500)
    .nullable()
    .optional()
    .meta({ description: `${description} Up to 500 characters; null or absent: not given.` });

/**
 * Whether a number has at most two decimals as written: its shortest decimal
 * form (what String gives, and what the database receives), exponent
 * included. 0.1 + 0.2 (0.30000000000000004) has 17.
 */
export function hasAtMostTwoDecimals(v: number): boolean {
  const [mantissa, exponent] = String(v).split('e');
  const decimals = (mantissa!.split('.')[1]?.length ?? 0) - Number(exponent ?? 0);
  return decimals <= 2;
}

const amount = (field: string, max: number, description: string) =>
  z
    .number({ error: typeError(field, 'a number (a JSON number, not a string)') })
    .min(0, { error: `${field}: must be 0 or more.` })
    .max(max, { error: `${field}: at most ${max}.` })
    .refine(hasAtMostTwoDecimals, { error: `${field}: at most two decimals.` })
    .meta({ description: `${description} 0 or more, at most two decimals.` });

const count = (field: string, description: string) =>
  z
    .number({ error: typeError(field, 'a whole number (a JSON number, not a string)') })
    // int() also bounds it to the safe integers (what a double holds exactly; JSON Schema maximum 2^53 - 1).
    .int({ error: (iss) => (iss.code === 'too_big' ? `${field}: at most ${Number.MAX_SAFE_INTEGER}.` : `${field}: must be a whole number.`) })
    .min(0, { error: `${field}: must be 0 or more.` })
    .meta({ description });

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A real calendar day (2023-02-29 is not one). */
export function isCalendarDay(v: string): boolean {
  const m = DAY_RE.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

export const LEVELS = ['campaign', 'adset'] as const;

/** One metric row of the body. Its object is strict: an unknown field is a problem of the row, not silently dropped. */
export const metricRowSchema = z
  .strictObject({
    platform: z.enum(IMPORT_PLATFORMS, { error: `platform: one of ${IMPORT_PLATFORMS.join(', ')}.` }).meta({ description: 'The ad platform.' }),
    level: z
      .enum(LEVELS, { error: 'level: campaign or adset.' })
      .optional()
      .meta({ description: 'campaign or adset. Absent: adset when adset_id is given, campaign otherwise.' }),
    campaign_id: id('campaign_id', 'The campaign\u2019s id on the platform (for an ad set row: its parent campaign).'),
    campaign_name: name('campaign_name', 'The campaign\u2019s name.'),
    adset_id: id('adset_id', 'The ad set\u2019s id on the platform: ad set rows only.').optional(),
    adset_name: name('adset_name', 'The ad set\u2019s name: ad set rows only.'),
    day: z
      .string({ error: typeError('day', 'a day, YYYY-MM-DD') })
      .regex(DAY_RE, { error: 'day: a day written YYYY-MM-DD.' })
      .refine(isCalendarDay, { error: 'day: not a calendar day.' })
      .meta({ description: 'The day the figures are for, YYYY-MM-DD, in the account\u2019s time zone.', format: 'date' }),
    spend: amount('spend', MAX_AMOUNT, 'Amount spent that day, in the tenant\u2019s currency.'),
    impressions: count('impressions', 'Impressions that day.'),
    clicks: count('clicks', 'Clicks that day.'),
    conversions: amount('conversions', MAX_AMOUNT, 'Conversions that day (platforms report fractions).'),
    conversion_value: amount('conversion_value', MAX_VALUE, 'Value of those conversions, in the tenant\u2019s currency.'),
    currency: z
      .string({ error: typeError('currency', 'a currency code such as EUR') })
      .regex(/^[A-Z]{3}$/, { error: 'currency: a three-letter code in capitals, such as EUR.' })
      .optional()
      .meta({ description: 'ISO 4217 code the amounts are in; when given it must be the tenant\u2019s currency (amounts are never converted).' }),
  })
  .meta({ description: 'One day of one campaign or ad set. Keyed on (platform, level, id, day): sending it again updates it.' });

export type ApiMetricRow = z.infer<typeof metricRowSchema>;

const rowsField = <T extends z.ZodType>(item: T) =>
  z
    .array(item, { error: typeError('rows', 'an array of metric rows') })
    .min(1, { error: 'rows: send at least one row.' })
    .max(MAX_ROWS, { error: `rows: at most ${MAX_ROWS} rows a request; split the load.` })
    .meta({ description: `The rows, 1 to ${MAX_ROWS}. Problems name a row by its index in this array (from 0).` });

const skipInvalidField = z
  .boolean({ error: 'skip_invalid: must be true or false.' })
  .optional()
  .meta({ description: 'false (default): one invalid row refuses the request and nothing is written (422). true: the valid rows are imported and the others listed.' });

/**
 * The body. The tenant is the key's: the body names none, and a tenant_id
 * (or any other unknown field) is refused, at the top and in every row.
 */
export const metricsBodySchema = z
  .strictObject({ rows: rowsField(metricRowSchema), skip_invalid: skipInvalidField })
  .meta({ description: 'Rows to import for the tenant of the API key. No tenant field: the key decides the tenant.' });

/** The same body with its rows left unchecked: a bad row is a problem of that row, not of the request. */
const envelopeSchema = z.strictObject({ rows: rowsField(z.unknown()), skip_invalid: skipInvalidField });

// ---------------------------------------------------------------------------
// The answers
// ---------------------------------------------------------------------------

export const problemSchema = z
  .object({
    index: z.number().int().min(0).meta({ description: 'Index of the row in the request\u2019s rows (from 0).' }),
    field: z.string().nullable().meta({ description: 'The field at fault; null for the row as a whole.' }),
    message: z.string().meta({ description: 'What is wrong, and what is expected.' }),
  })
  .meta({ description: 'One problem of one row.' });
export type ApiProblem = z.infer<typeof problemSchema>;

export const countsSchema = z
  .object({
    received: z.number().int().meta({ description: 'Rows in the request.' }),
    inserted: z.number().int().meta({ description: 'Rows new to the tenant.' }),
    updated: z.number().int().meta({ description: 'Rows that replaced different figures for the same platform, level, id and day.' }),
    unchanged: z.number().int().meta({ description: 'Rows identical to what was stored: sending a request again changes nothing.' }),
    rejected: z.number().int().meta({ description: 'Invalid rows: left out (skip_invalid) or the reason for a refusal.' }),
  })
  .meta({ description: 'How the rows of the request fared.' });

const problemsField = z.array(problemSchema).meta({ description: `Each problem of each rejected row, at most ${MAX_PROBLEMS}; problem_count has them all.` });

const indexes = (what: string) =>
  z.array(z.number().int().min(0)).meta({ description: `Indexes (in rows, from 0) of the rows ${what}.` });

export const importedSchema = z
  .object({
    status: z.literal('imported'),
    run_id: z.string().meta({ description: 'The import in the tenant\u2019s import history (the /imports page).' }),
    counts: countsSchema,
    inserted: indexes('new to the tenant'),
    updated: indexes('that replaced different figures'),
    unchanged: indexes('identical to what was stored'),
    rejected: problemsField,
    problem_count: z.number().int(),
    changed_days: z
      .object({ from: z.string().meta({ format: 'date' }), to: z.string().meta({ format: 'date' }) })
      .nullable()
      .meta({ description: 'The range of days whose figures were inserted or changed; null when nothing changed.' }),
  })
  .meta({ description: '200: the valid rows are stored (all of them, unless skip_invalid left some out).' });
export type ImportedBody = z.infer<typeof importedSchema>;

export const refusedSchema = z
  .object({
    status: z.literal('refused'),
    error: z.string().meta({ description: 'invalid_rows, or what the import refused (e.g. currency).' }),
    message: z.string(),
    counts: countsSchema,
    rejected: problemsField,
    problem_count: z.number().int(),
  })
  .meta({ description: '422: refused as a whole; nothing was written.' });
export type RefusedBody = z.infer<typeof refusedSchema>;

export const ERROR_CODES = [
  'unauthorized',
  'forbidden',
  'rate_limited',
  'unsupported_media_type',
  'payload_too_large',
  'bad_request',
  'internal',
  'unavailable',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const errorSchema = z
  .object({
    error: z.enum(ERROR_CODES),
    message: z.string().meta({ description: 'For people: what went wrong and what to do.' }),
  })
  .meta({ description: 'Every refusal but 422: a code and a message.' });

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

export const UNAUTHORIZED_MESSAGE = 'Send a valid API key: Authorization: Bearer <key>. Admins make keys on Settings \u2192 API keys.';

const fail = (status: number, error: ErrorCode, message: string, headers?: Record<string, string>) => reply(status, { error, message }, headers);

/** One answer for a missing, malformed, unknown, wrong or revoked key: nothing tells them apart. */
const unauthorized = () => fail(401, 'unauthorized', UNAUTHORIZED_MESSAGE, { 'www-authenticate': 'Bearer realm="aegis"' });

const tooLarge = (what: string) => fail(413, 'payload_too_large', what, { connection: 'close' });

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** The key of `Authorization: Bearer <key>`, or null. */
export function bearerKey(header: string | null): string | null {
  if (!header) return null;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** application/json, with no charset or charset=utf-8. */
export function isJsonMediaType(header: string | null): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim());
    if (k === 'charset' && v?.replace(/^"|"$/g, '') !== 'utf-8') return false;
  }
  return true;
}

async function discard(request: Request): Promise<void> {
  await request.body?.cancel().catch(() => undefined);
}

/**
 * The body's bytes, or 'too_large' as soon as its Content-Length says so or
 * the bytes read pass `limit` (the stream is then cancelled: an endless body
 * costs at most `limit` bytes of memory).
 */
export async function readCapped(request: Request, limit: number): Promise<Uint8Array | 'too_large'> {
  const declared = request.headers.get('content-length');
  if (declared !== null && (!/^\s*\d+\s*$/.test(declared) || Number(declared) > limit)) {
    await discard(request);
    return 'too_large';
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return 'too_large';
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const cut = (s: string, max = MAX_MESSAGE) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export type ParsedBody =
  | { ok: true; rows: unknown[]; skipInvalid: boolean }
  /** rows: how many the body has, when it has an array of them; empty: nothing but white space. */
  | { ok: false; status: 400 | 413; message: string; rows?: number; empty?: boolean };

/** The body's bytes to its rows: UTF-8, JSON, then the envelope (rows themselves are checked one by one after). */
export function parseBody(bytes: Uint8Array): ParsedBody {
  let textBody: string;
  try {
    textBody = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, status: 400, message: 'The body is not valid UTF-8.' };
  }
  if (textBody.trim() === '') return { ok: false, status: 400, message: 'The body is empty: send { "rows": [ ... ] }.', empty: true };
  let value: unknown;
  try {
    value = JSON.parse(textBody);
  } catch (e) {
    return { ok: false, status: 400, message: cut(`Malformed JSON: ${(e as Error).message}`) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, status: 400, message: 'The body must be a JSON object: { "rows": [ ... ], "skip_invalid": false }.' };
  }
  const rows = (value as Record<string, unknown>).rows;
  if (Array.isArray(rows) && rows.length > MAX_ROWS) {
    return { ok: false, status: 413, message: `At most ${MAX_ROWS} rows a request (this one has ${rows.length}): split the load.`, rows: rows.length };
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) return { ok: false, status: 400, message: cut(envelopeMessage(parsed.error)), ...(Array.isArray(rows) ? { rows: rows.length } : {}) };
  return { ok: true, rows: parsed.data.rows, skipInvalid: parsed.data.skip_invalid ?? false };
}

const TENANT_REFUSED = 'tenant_id: not accepted; the API key decides the tenant.';

function unknownKeyMessage(key: string, where: string): string {
  return key === 'tenant_id' ? TENANT_REFUSED : `${cut(JSON.stringify(key), 60)}: unknown field; ${where}.`;
}

function envelopeMessage(error: z.ZodError): string {
  const messages: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) messages.push(unknownKeyMessage(k, 'the body has rows and skip_invalid only'));
    } else {
      messages.push(issue.message);
    }
  }
  return messages.slice(0, 5).join(' ');
}

export interface CheckedRows {
  /** The valid rows, each with its index in the request. */
  valid: { index: number; row: ApiMetricRow }[];
  problems: ApiProblem[];
  /** Rows with at least one problem. */
  rejected: number;
}

const rowKey = (r: ApiMetricRow) => JSON.stringify([r.platform, levelOf(r), r.adset_id ?? r.campaign_id, r.day]);

/** campaign, or adset: stated, or inferred from adset_id. */
export const levelOf = (r: Pick<ApiMetricRow, 'level' | 'adset_id'>) => r.level ?? (r.adset_id !== undefined ? 'adset' : 'campaign');

/** Each row against metricRowSchema, the level against the ids, and no row twice in one request. */
export function checkRows(rows: unknown[]): CheckedRows {
  const valid: CheckedRows['valid'] = [];
  const problems: ApiProblem[] = [];
  const seen = new Map<string, number>();
  let rejected = 0;
  rows.forEach((raw, index) => {
    const own: ApiProblem[] = [];
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      own.push({ index, field: null, message: 'A row must be a JSON object of metric fields.' });
    } else {
      const parsed = metricRowSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          if (issue.code === 'unrecognized_keys') {
            for (const k of issue.keys) own.push({ index, field: k, message: cut(unknownKeyMessage(k, 'see MetricRow in /api/v1/openapi.json')) });
          } else {
            const field = typeof issue.path[0] === 'string' ? issue.path[0] : null;
            own.push({ index, field, message: issue.message });
          }
        }
      } else {
        const row = parsed.data;
        if (row.level === 'adset' && row.adset_id === undefined) {
          own.push({ index, field: 'adset_id', message: 'adset_id: required for an ad set row.' });
        } else if (row.level === 'campaign' && (row.adset_id !== undefined || row.adset_name != null)) {
          own.push({ index, field: row.adset_id !== undefined ? 'adset_id' : 'adset_name', message: 'A campaign row carries no ad set: drop adset_id and adset_name, or send level adset.' });
        } else if (row.adset_id === undefined && row.adset_name != null) {
          own.push({ index, field: 'adset_name', message: 'adset_name: only with an adset_id.' });
        } else {
          const key = rowKey(row);
          const first = seen.get(key);
          if (first !== undefined) {
            own.push({ index, field: null, message: `The same platform, level, id and day as row ${first}: send each once.` });
          } else {
            seen.set(key, index);
            valid.push({ index, row });
          }
        }
      }
    }
    if (own.length) {
      rejected++;
      problems.push(...own);
    }
  });
  return { valid, problems, rejected };
}

// ---------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------

export interface MetricsApiOptions {
  /** The database (default: the app's). */
  db?: DbHandle;
  rateLimit?: RateLimit;
}

const counts = (received: number, c: { inserted: number; updated: number; unchanged: number; rejected: number }) => ({
  received,
  inserted: c.inserted,
  updated: c.updated,
  unchanged: c.unchanged,
  rejected: c.rejected,
});

const listed = (problems: ApiProblem[]) => problems.slice(0, MAX_PROBLEMS).map((p) => ({ ...p, message: cut(p.message) }));

/** POST /api/v1/metrics. Never throws; an unexpected failure is a 500 that says nothing of the inside, a database that is away a 503. */
export async function handleMetricsRequest(request: Request, options: MetricsApiOptions = {}): Promise<Response> {
  try {
    return await handle(request, options);
  } catch (err) {
    console.error(`[api] POST /api/v1/metrics failed: ${(err as Error).message}`);
    await discard(request);
    if (isDatabaseUnavailable(err)) return fail(503, 'unavailable', DATABASE_UNAVAILABLE_API, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    return fail(500, 'internal', 'The import failed on our side; nothing was written. Try again later.');
  }
}

interface PreCoreRefusal {
  tenantId: string;
  keyId: string;
  startedAt: Date;
  code: Refusal['code'];
  /** The answer's status and message. */
  message: string;
  bytes: number | null;
  received?: number;
  rejected?: number;
  problems?: ApiProblem[];
}

/**
 * A request refused before the import core runs (its media type, its size,
 * its JSON, its rows), in the tenant's import history as its key's: who (the
 * key, by name and prefix), when, the rows refused and why. At most
 * API_REFUSALS_PER_HOUR a key (lib/ingest/store.ts). The answer does not wait
 * on it to succeed: a history that cannot be written is logged.
 */
async function recordPreCoreRefusal(dbh: DbHandle, r: PreCoreRefusal): Promise<void> {
  const problems = (r.problems ?? []).map((p) => ({ row: p.index, column: p.field, message: p.message }));
  try {
    await recordRunAlone(dbh.pool, {
      runId: randomUUID(),
      tenantId: r.tenantId,
      startedAt: r.startedAt,
      source: 'api',
      userId: null,
      apiKeyId: r.keyId,
      actorLabel: null,
      fileName: null,
      bytes: r.bytes,
      platform: null,
      format: 'api',
      level: null,
      counts: { read: r.received ?? 0, inserted: 0, updated: 0, unchanged: 0, rejected: r.rejected ?? 0, skipped: 0 },
      changedDays: null,
      status: 'refused',
      refusal: { code: r.code, message: r.message },
      message: null,
      problems,
      problemCount: problems.length,
    });
  } catch (err) {
    console.error(`[api] a refused request could not be recorded in the import history: ${(err as Error).message}`);
  }
}

/** The body's declared size, when it states a plausible one. */
function declaredLength(request: Request): number | null {
  const v = request.headers.get('content-length');
  return v !== null && /^\s*\d{1,15}\s*$/.test(v) ? Number(v) : null;
}

async function handle(request: Request, options: MetricsApiOptions): Promise<Response> {
  const startedAt = new Date();
  const dbh = options.db ?? appDb();
  const limit = options.rateLimit ?? API_RATE_LIMIT;

  // The key first: nothing of a request without one is read, and no cookie counts.
  const key = bearerKey(request.headers.get('authorization'));
  if (!key) {
    await discard(request);
    return unauthorized();
  }
  const auth = await authenticateApiKey(dbh.db, key, limit);
  if (!auth.ok) {
    await discard(request);
    return unauthorized();
  }
  if (!hasRole(auth.role, 'buyer')) {
    await discard(request);
    return fail(403, 'forbidden', 'This key may not write metrics. Make a new key on Settings \u2192 API keys.');
  }
  const rateHeaders = { 'x-ratelimit-limit': String(limit.max) };
  if (!auth.allowed) {
    await discard(request);
    return fail(
      429,
      'rate_limited',
      `At most ${limit.max} requests per ${limit.windowSeconds} s per key: try again in ${auth.retryAfterSeconds} s.`,
      { ...rateHeaders, 'x-ratelimit-remaining': '0', 'retry-after': String(auth.retryAfterSeconds) },
    );
  }
  const headers = { ...rateHeaders, 'x-ratelimit-remaining': String(auth.remaining) };
  const refusedAs = (r: Omit<PreCoreRefusal, 'tenantId' | 'keyId' | 'startedAt'>) => recordPreCoreRefusal(dbh, { ...r, tenantId: auth.tenantId, keyId: auth.keyId, startedAt });

  if (!isJsonMediaType(request.headers.get('content-type'))) {
    await discard(request);
    const message = 'Send the body as JSON: Content-Type: application/json (UTF-8).';
    await refusedAs({ code: 'unreadable', message: `HTTP 415: ${message}`, bytes: null });
    return fail(415, 'unsupported_media_type', message, headers);
  }
  const bytes = await readCapped(request, MAX_BODY_BYTES);
  if (bytes === 'too_large') {
    const message = `The body is over ${MAX_BODY_BYTES} bytes: split the load (at most ${MAX_ROWS} rows a request).`;
    await refusedAs({ code: 'too_large', message: `HTTP 413: ${message}`, bytes: declaredLength(request) });
    return tooLarge(message);
  }

  const body = parseBody(bytes);
  if (!body.ok) {
    const code = body.status === 413 ? 'too_large' : bytes.length === 0 || body.empty ? 'empty' : 'unreadable';
    await refusedAs({ code, message: `HTTP ${body.status}: ${body.message}`, bytes: bytes.length, received: body.rows ?? 0, rejected: body.rows ?? 0 });
    return body.status === 413 ? tooLarge(body.message) : fail(400, 'bad_request', body.message, headers);
  }

  const checked = checkRows(body.rows);
  const received = body.rows.length;
  const refusedRows = (message: string) =>
    refusedAs({ code: 'invalid_rows', message: `HTTP 422: ${message}`, bytes: bytes.length, received, rejected: checked.rejected, problems: checked.problems });
  if (checked.problems.length && !body.skipInvalid) {
    const refused: RefusedBody = {
      status: 'refused',
      error: 'invalid_rows',
      message: `${checked.rejected} of ${received} rows are invalid: nothing was written. Correct them, or send "skip_invalid": true to import the others.`,
      counts: counts(received, { inserted: 0, updated: 0, unchanged: 0, rejected: checked.rejected }),
      rejected: listed(checked.problems),
      problem_count: checked.problems.length,
    };
    await refusedRows(refused.message);
    return reply(422, refused, headers);
  }

  if (checked.valid.length === 0) {
    const refused: RefusedBody = {
      status: 'refused',
      error: 'invalid_rows',
      message: `None of the ${received} rows is valid: nothing was written.`,
      counts: counts(received, { inserted: 0, updated: 0, unchanged: 0, rejected: checked.rejected }),
      rejected: listed(checked.problems),
      problem_count: checked.problems.length,
    };
    await refusedRows(refused.message);
    return reply(422, refused, headers);
  }

  // The core sees the rows this layer accepted, in order; its indexes are mapped back to the request's.
  const sent: MetricInput[] = checked.valid.map((v) => v.row);
  const outcome: RowsImportResult = await importRows(dbh.pool, sent, { tenantId: auth.tenantId, apiKeyId: auth.keyId, skipInvalid: body.skipInvalid });
  const at = (i: number) => checked.valid[i]?.index ?? i;
  const problems = [...checked.problems, ...outcome.problems.map((p) => ({ index: at(p.index), field: p.field, message: p.message }))].sort(
    (a, b) => a.index - b.index,
  );
  const problemCount = checked.problems.length + outcome.problemCount;
  const rejected = checked.rejected + outcome.counts.rejected;
  if (!outcome.ok) {
    if (outcome.refusal.code === 'too_large') return tooLarge(outcome.refusal.message);
    const refused: RefusedBody = {
      status: 'refused',
      error: outcome.refusal.code,
      message: cut(`${outcome.refusal.message} Nothing was written.`, 600),
      counts: counts(received, { inserted: 0, updated: 0, unchanged: 0, rejected }),
      rejected: listed(problems),
      problem_count: problemCount,
    };
    return reply(422, refused, headers);
  }
  const imported: ImportedBody = {
    status: 'imported',
    run_id: outcome.runId,
    counts: counts(received, { inserted: outcome.inserted.length, updated: outcome.updated.length, unchanged: outcome.unchanged.length, rejected }),
    inserted: outcome.inserted.map(at),
    updated: outcome.updated.map(at),
    unchanged: outcome.unchanged.map(at),
    rejected: listed(problems),
    problem_count: problemCount,
    changed_days: outcome.changedDays,
  };
  return reply(200, imported, headers);
}
