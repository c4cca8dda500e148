// The upload route's logic (POST /api/imports), apart from Next's request
// context so tests drive it with real Requests: who is asking (same origin,
// session, membership, role), the upload's options and limits, then the file
// streamed into the import core with progress sent back as NDJSON.
//
// The browser sends the File itself as the request body (not multipart): the
// body is the file byte for byte, read as a stream and never held whole in
// memory; Content-Length is the file's size (the progress bar's total, and the
// size limit checked before a byte is read); no multipart parser is needed.
// The name rides in a header (a custom header also makes any cross-site
// attempt a CORS preflight, which this route never approves).
import 'server-only';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { z } from 'zod';
import {
  FILE_NAME_HEADER,
  hasAcceptedExtension,
  MAPPING_HEADER,
  MAX_UPLOAD_BYTES,
  MAX_UPLOAD_LABEL,
  type UploadErrorBody,
  type UploadErrorCode,
  type UploadLine,
} from './upload-protocol';
import { appDb, isUuid, type DbHandle } from '@/lib/db';
import { NO_MEMBERSHIP, NOT_A_MEMBER, PASSWORD_CHANGE_REQUIRED, roleRefusal, SIGNED_OUT, TENANT_CHANGED } from '@/lib/request/action-core';
import { loadAccess } from '@/lib/tenancy/membership';
import { hasRole, type Role } from '@/lib/tenancy/roles';
import { importCsv } from './import';
import { MAX_HEADER_LENGTH } from './mapping';
import { CONTROL_CHARACTERS } from './values';
import { IMPORT_PLATFORMS, TARGET_FIELDS, type ColumnMapping, type ImportPlatform, type ImportProgress, type ImportResult } from './types';

/** Buyers and admins import; viewers read the history only. */
export const UPLOAD_MIN_ROLE: Role = 'buyer';

/** Progress lines are sent at most this often (phase changes always go at once). */
export const PROGRESS_INTERVAL_MS = 150;

export interface UploadContext {
  userId: string;
  tenantId: string;
  role: Role;
}

/** What the session says: the account id (null when signed out or stale) and the tenant chosen in the top bar (cookie). */
export interface SessionInfo {
  userId: string | null;
  preferredTenantId: string | null;
}

export type ContextOutcome = { ok: true; ctx: UploadContext } | { ok: false; response: Response };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function refusal(status: number, code: UploadErrorCode, message: string): Response {
  const body: UploadErrorBody = { error: { code, message } };
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export const CROSS_ORIGIN = "Uploads are accepted from this application's own pages only.";

function firstValue(v: string | null): string | null {
  const first = v?.split(',')[0]?.trim();
  return first ? first : null;
}

function hostOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Why the request is not from this application's own pages, or null when it is.
 * A browser marks a cross-site request in Sec-Fetch-Site and always sends Origin
 * with a POST: either must say same origin, and neither may say otherwise. The
 * origin's host is compared with the host the request was sent to (the Host
 * header, or the first proxy's X-Forwarded-Host, as Next's own server-action
 * check does: behind a TLS proxy the scheme cannot be told) or NEXTAUTH_URL's.
 */
export function crossOriginReason(req: Request, env: { NEXTAUTH_URL?: string } = process.env): string | null {
  const site = req.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin') return `Sec-Fetch-Site is ${site}`;
  const origin = req.headers.get('origin');
  if (origin === null) return site === 'same-origin' ? null : 'no Origin or Sec-Fetch-Site header';
  const from = origin === 'null' ? null : hostOf(origin);
  if (!from) return 'opaque origin';
  const allowed = new Set(
    [firstValue(req.headers.get('x-forwarded-host')), firstValue(req.headers.get('host')), hostOf(req.url), hostOf(env.NEXTAUTH_URL)]
      .filter((h): h is string => Boolean(h))
      .map((h) => h.toLowerCase()),
  );
  return allowed.has(from) ? null : `Origin ${origin} is not this application`;
}

/**
 * The authenticated context of an upload, or the response that refuses it:
 * cross-site (403) before anything else, no session (401), an account on a
 * temporary password or without any membership (403), a named tenant the user
 * does not belong to (404) or that is no longer the current one (409: the tab
 * is stale), a role below buyer (403). The tenant is chosen as the pages choose
 * it: the top bar's choice among the memberships, read from the database.
 */
export async function resolveUploadContext(
  req: Request,
  readSession: () => Promise<SessionInfo>,
  opts: { db?: DbHandle; env?: { NEXTAUTH_URL?: string } } = {},
): Promise<ContextOutcome> {
  if (crossOriginReason(req, opts.env)) return { ok: false, response: refusal(403, 'cross_origin', CROSS_ORIGIN) };
  const session = await readSession();
  if (!session.userId) return { ok: false, response: refusal(401, 'signed_out', SIGNED_OUT) };
  const access = await loadAccess(session.userId, session.preferredTenantId, opts.db?.db);
  if (!access) return { ok: false, response: refusal(401, 'signed_out', SIGNED_OUT) };
  if (access.mustChangePassword) return { ok: false, response: refusal(403, 'password_change', PASSWORD_CHANGE_REQUIRED) };
  const current = access.current;
  if (!current) return { ok: false, response: refusal(403, 'no_membership', NO_MEMBERSHIP) };
  const named = new URL(req.url).searchParams.get('tenant');
  if (named !== null && named !== '') {
    // Not told apart from a tenant that does not exist.
    if (!isUuid(named) || !access.memberships.some((m) => m.tenantId === named)) {
      return { ok: false, response: refusal(404, 'not_found', NOT_A_MEMBER) };
    }
    if (named !== current.tenantId) return { ok: false, response: refusal(409, 'tenant_changed', TENANT_CHANGED) };
  }
  if (!hasRole(current.role, UPLOAD_MIN_ROLE)) return { ok: false, response: refusal(403, 'forbidden', roleRefusal(UPLOAD_MIN_ROLE, current.role)) };
  return { ok: true, ctx: { userId: access.user.id, tenantId: current.tenantId, role: current.role } };
}

const mappingSchema = z.partialRecord(
  z.enum(TARGET_FIELDS),
  z
    .string()
    .trim()
    .min(1)
    .max(MAX_HEADER_LENGTH)
    .refine((v) => !CONTROL_CHARACTERS.test(v)),
);

const querySchema = z.object({
  mode: z.enum(['preview', 'import'], { error: 'mode must be preview or import.' }),
  platform: z.enum(['detect', ...IMPORT_PLATFORMS], { error: `platform must be detect or one of ${IMPORT_PLATFORMS.join(', ')}.` }).default('detect'),
  skipInvalid: z.enum(['0', '1'], { error: 'skipInvalid must be 0 or 1.' }).default('0'),
});

export interface UploadRequest {
  dryRun: boolean;
  platform: ImportPlatform | undefined;
  skipInvalid: boolean;
  mapping: ColumnMapping | undefined;
  fileName: string;
  /** The declared size (Content-Length), or null when the body is sent in chunks. */
  bytesTotal: number | null;
  body: ReadableStream<Uint8Array>;
}

function decodeHeader(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** The upload's options from the query and headers, or the 4xx that refuses them (before a byte of the body is read). */
export function parseUploadRequest(req: Request, limit = MAX_UPLOAD_BYTES): { ok: true; value: UploadRequest } | { ok: false; response: Response } {
  const bad = (message: string) => ({ ok: false as const, response: refusal(400, 'bad_request', message) });
  const url = new URL(req.url);
  const q = querySchema.safeParse({
    mode: url.searchParams.get('mode') ?? undefined,
    platform: url.searchParams.get('platform') || undefined,
    skipInvalid: url.searchParams.get('skipInvalid') ?? undefined,
  });
  if (!q.success) return bad(q.error.issues[0]?.message ?? 'The upload options are not valid.');

  const declared = req.headers.get('content-length');
  if (declared !== null && !/^\s*\d+\s*$/.test(declared)) return bad('Content-Length is not a number.');
  const bytesTotal = declared === null ? null : Number(declared);
  if (bytesTotal !== null && bytesTotal > limit) return { ok: false, response: refusal(413, 'too_large', tooLargeMessage(limit)) };

  const fileName = decodeHeader(req.headers.get(FILE_NAME_HEADER))?.trim() ?? '';
  if (!fileName) return bad('The file name is missing.');
  if (fileName.length > 255 || /[\u0000-\u001f]/.test(fileName)) return bad('The file name is not valid.');
  if (!hasAcceptedExtension(fileName)) {
    return { ok: false, response: refusal(415, 'unsupported_type', `${fileName} is not a CSV export: choose a .csv, .tsv or .txt file.`) };
  }

  let mapping: ColumnMapping | undefined;
  const rawMapping = req.headers.get(MAPPING_HEADER);
  if (rawMapping !== null) {
    const text = decodeHeader(rawMapping);
    let json: unknown;
    try {
      json = text === null ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const m = mappingSchema.safeParse(json);
    if (!m.success) return bad('The column mapping is not valid.');
    mapping = m.data;
  }

  if (!req.body || bytesTotal === 0) return bad('The file is empty.');
  return {
    ok: true,
    value: {
      dryRun: q.data.mode === 'preview',
      platform: q.data.platform === 'detect' ? undefined : q.data.platform,
      skipInvalid: q.data.skipInvalid === '1',
      mapping,
      fileName,
      bytesTotal,
      body: req.body,
    },
  };
}

export function tooLargeMessage(limit = MAX_UPLOAD_BYTES): string {
  return limit === MAX_UPLOAD_BYTES
    ? `The file is over the ${MAX_UPLOAD_LABEL} limit. Export a shorter date range, or split the file.`
    : `The file is over the limit of ${limit} bytes.`;
}

export class UploadTooLarge extends Error {
  constructor(limit: number) {
    super(tooLargeMessage(limit));
    this.name = 'UploadTooLarge';
  }
}

/** Passes the bytes through and errors the stream as soon as more than `limit` have come. */
export function byteLimit(limit: number): TransformStream<Uint8Array, Uint8Array> & { exceeded: () => boolean } {
  let seen = 0;
  let over = false;
  const t = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limit) {
        over = true;
        controller.error(new UploadTooLarge(limit));
        return;
      }
      controller.enqueue(chunk);
    },
  });
  return Object.assign(t, { exceeded: () => over });
}

/** Progress as lines: at most one per interval, except that a new phase always goes out at once. */
export function throttledProgress(send: (p: ImportProgress) => void, intervalMs = PROGRESS_INTERVAL_MS, now: () => number = Date.now) {
  let lastAt = -Infinity;
  let lastPhase: ImportProgress['phase'] | null = null;
  return (p: ImportProgress) => {
    const t = now();
    if (p.phase !== lastPhase || t - lastAt >= intervalMs) {
      lastAt = t;
      lastPhase = p.phase;
      send({ phase: p.phase, rowsRead: p.rowsRead, bytesRead: p.bytesRead, bytesTotal: p.bytesTotal });
    }
  };
}

export const NDJSON_HEADERS = {
  'content-type': 'application/x-ndjson; charset=utf-8',
  // no-transform: no compression layer holds the lines back; X-Accel-Buffering: nor does a proxy such as nginx.
  'cache-control': 'no-store, no-transform',
  'x-accel-buffering': 'no',
};

export const IMPORT_FAILED = 'The import failed on the server; nothing was changed. Try again; if it fails again, tell your administrator.';

export interface UploadDeps {
  db?: DbHandle;
  limit?: number;
  progressIntervalMs?: number;
}

/**
 * The upload for an authenticated context: its options, then the body streamed
 * through the size limit into importCsv (a dry run for the preview). The answer
 * starts at once and streams NDJSON: progress lines, then `{ result }`, or
 * `{ error }` when the run failed unexpectedly (nothing is kept then: the core
 * writes in one transaction).
 */
export async function handleUpload(req: Request, ctx: UploadContext, deps: UploadDeps = {}): Promise<Response> {
  const limit = deps.limit ?? MAX_UPLOAD_BYTES;
  const parsed = parseUploadRequest(req, limit);
  // A refusal leaves the body unread, never cancelled (see uploadRoute).
  if (!parsed.ok) return parsed.response;
  const u = parsed.value;
  const handle = deps.db ?? appDb();
  const limiter = byteLimit(limit);
  // preventCancel: past the limit (or when the core stops reading early) the request body is left alone rather than
  // cancelled, so the socket survives and the last line reaches the browser.
  const limited = u.body.pipeThrough(limiter, { preventCancel: true });
  const input = Readable.fromWeb(limited as NodeReadableStream<Uint8Array>);
  const encoder = new TextEncoder();
  // False once the answer is closed or the browser has gone: nothing more is sent (enqueueing then would throw).
  let open = true;

  const out = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (line: UploadLine) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        } catch {
          open = false;
        }
      };
      const onProgress = throttledProgress(send, deps.progressIntervalMs);
      const finish = () => {
        if (!open) return;
        open = false;
        controller.close();
      };
      void importCsv(
        handle.pool,
        { stream: input, fileName: u.fileName, bytesTotal: u.bytesTotal },
        {
          tenantId: ctx.tenantId,
          userId: ctx.userId,
          source: 'upload',
          platform: u.platform,
          mapping: u.mapping,
          skipInvalid: u.skipInvalid,
          dryRun: u.dryRun,
          onProgress,
        },
      )
        .then((result: ImportResult) => {
          send(limiter.exceeded() ? { error: { code: 'too_large', message: tooLargeMessage(limit) } } : { result });
        })
        .catch((err: unknown) => {
          if (limiter.exceeded() || err instanceof UploadTooLarge) {
            send({ error: { code: 'too_large', message: tooLargeMessage(limit) } });
          } else {
            console.error(`[imports] upload of ${JSON.stringify(u.fileName)} failed: ${err instanceof Error ? err.message : String(err)}`);
            send({ error: { code: 'failed', message: IMPORT_FAILED } });
          }
        })
        .finally(finish);
    },
    cancel() {
      // The browser went away: the core's next read fails, so its run keeps nothing (and is recorded as failed).
      open = false;
      input.destroy(new Error('the upload was cancelled'));
    },
  });
  return new Response(out, { status: 200, headers: NDJSON_HEADERS });
}

export interface UploadRouteDeps extends UploadDeps {
  /** How the route learns who is asking: next-auth's session and the tenant cookie in the app, a fixed answer in tests. */
  session: () => Promise<SessionInfo>;
  env?: { NEXTAUTH_URL?: string };
}

/** POST /api/imports: the context first (nothing is read before it is settled), then the upload. */
export function uploadRoute(deps: UploadRouteDeps): (req: Request) => Promise<Response> {
  return async (req) => {
    const resolved = await resolveUploadContext(req, deps.session, { db: deps.db, env: deps.env });
    // The body is left unread, not cancelled: cancelling it destroys the request's socket under Node, and the
    // refusal would never reach the browser. Node discards what is left of the body once the answer is sent.
    if (!resolved.ok) return resolved.response;
    return handleUpload(req, resolved.ctx, deps);
  };
}
