// The wire format between the upload form (UploadForm) and the upload route
// (POST /api/imports, lib/ingest/upload.ts): the file is the raw request body,
// its name and an optional column mapping ride in headers, the options in the
// query string; the answer is NDJSON, progress lines then one final line.
// Client-safe: no server code here.
import type { ColumnMapping, ImportProgress, ImportResult } from '@/lib/ingest/types';

export const UPLOAD_PATH = '/api/imports';

/** The largest file the route takes: checked in the browser before sending, on the server while reading. */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;
export const MAX_UPLOAD_LABEL = '200 MB';

/** The file's name, percent-encoded (a header carries ASCII only). */
export const FILE_NAME_HEADER = 'x-import-file-name';
/** A ColumnMapping as JSON, percent-encoded; absent: the route uses the file's own headers or the saved mapping. */
export const MAPPING_HEADER = 'x-import-mapping';

export const ACCEPTED_EXTENSIONS = ['.csv', '.tsv', '.txt'] as const;
export const ACCEPT_ATTRIBUTE = '.csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain';

export type UploadMode = 'preview' | 'import';

/** Query string of one upload. `tenant` is the tenant the page showed: the server refuses the upload when it is not the current one. */
export interface UploadQuery {
  mode: UploadMode;
  platform: string;
  skipInvalid: boolean;
  tenant: string;
}

export function uploadUrl(q: UploadQuery): string {
  const p = new URLSearchParams({ mode: q.mode, platform: q.platform, skipInvalid: q.skipInvalid ? '1' : '0', tenant: q.tenant });
  return `${UPLOAD_PATH}?${p.toString()}`;
}

export function hasAcceptedExtension(name: string): boolean {
  const lower = name.toLowerCase();
  return ACCEPTED_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export function encodeMapping(mapping: ColumnMapping): string {
  return encodeURIComponent(JSON.stringify(mapping));
}

/** A refusal before any line is streamed: the route answers with this JSON and a 4xx status. */
export interface UploadErrorBody {
  error: { code: UploadErrorCode; message: string };
}

export type UploadErrorCode =
  | 'cross_origin'
  | 'signed_out'
  | 'password_change'
  | 'no_membership'
  | 'not_found'
  | 'tenant_changed'
  | 'forbidden'
  | 'too_large'
  | 'bad_request'
  | 'unsupported_type'
  | 'unavailable'
  | 'failed';

/** One line of the NDJSON answer: progress (the core's ImportProgress as is), then the result, or an error that ended the run. */
export type UploadLine = ImportProgress | { result: ImportResult } | { error: { code: 'failed' | 'too_large'; message: string } };

export function isProgressLine(line: UploadLine): line is ImportProgress {
  return 'phase' in line;
}
