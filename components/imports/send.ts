// Sends one file to the upload route and reads its NDJSON answer as it comes.
// XMLHttpRequest rather than fetch: it reports the bytes sent (fetch cannot),
// and its responseText grows line by line while the server works.
import type { ColumnMapping, ImportProgress, ImportResult } from '@/lib/ingest/types';
import { encodeMapping, FILE_NAME_HEADER, isProgressLine, MAPPING_HEADER, uploadUrl, type UploadErrorBody, type UploadLine, type UploadQuery } from '@/lib/ingest/upload-protocol';

export type UploadOutcome =
  | { kind: 'result'; result: ImportResult }
  | { kind: 'error'; message: string; status: number }
  | { kind: 'aborted' };

export interface UploadHandlers {
  /** Bytes handed to the network so far. */
  onSent: (loaded: number, total: number) => void;
  onProgress: (p: ImportProgress) => void;
}

export interface RunningUpload {
  done: Promise<UploadOutcome>;
  abort: () => void;
}

const INTERRUPTED = 'The connection to the server was lost before the answer came.';

function statusMessage(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as Partial<UploadErrorBody>;
    if (body.error?.message) return body.error.message;
  } catch {
    // not our JSON: a proxy's page, say
  }
  if (status === 413) return 'The file is too large for the server.';
  if (status === 401) return 'Your session has ended. Sign in again.';
  return `The server refused the upload (HTTP ${status}).`;
}

export function sendUpload(file: File, query: UploadQuery, mapping: ColumnMapping | undefined, handlers: UploadHandlers): RunningUpload {
  const xhr = new XMLHttpRequest();
  let consumed = 0;
  let final: UploadOutcome | null = null;
  let settled = false;

  const readLines = () => {
    const text = xhr.responseText;
    let end = text.indexOf('\n', consumed);
    while (end !== -1) {
      const raw = text.slice(consumed, end).trim();
      consumed = end + 1;
      if (raw) {
        let line: UploadLine | null = null;
        try {
          line = JSON.parse(raw) as UploadLine;
        } catch {
          line = null;
        }
        if (line && isProgressLine(line)) handlers.onProgress(line);
        else if (line && 'result' in line) final = { kind: 'result', result: line.result };
        else if (line && 'error' in line) final = { kind: 'error', message: line.error.message, status: 200 };
      }
      end = text.indexOf('\n', consumed);
    }
  };

  const done = new Promise<UploadOutcome>((resolveOnce) => {
    const resolve = (o: UploadOutcome) => {
      settled = true;
      resolveOnce(o);
    };
    xhr.upload.onprogress = (e) => handlers.onSent(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onprogress = () => {
      if (xhr.status !== 200) return;
      readLines();
      // The last line is in: the answer is complete. When the server stopped reading early (a file refused
      // after its first bytes), the browser may still be sending the rest: no need to wait for it.
      if (final && !settled) {
        resolve(final);
        xhr.abort();
      }
    };
    xhr.onload = () => {
      if (settled) return;
      if (xhr.status !== 200) {
        resolve({ kind: 'error', message: statusMessage(xhr.status, xhr.responseText), status: xhr.status });
        return;
      }
      readLines();
      resolve(final ?? { kind: 'error', message: INTERRUPTED, status: 200 });
    };
    xhr.onerror = () => {
      if (!settled) resolve({ kind: 'error', message: INTERRUPTED, status: 0 });
    };
    xhr.onabort = () => {
      if (!settled) resolve({ kind: 'aborted' });
    };
  });

  xhr.open('POST', uploadUrl(query));
  xhr.setRequestHeader(FILE_NAME_HEADER, encodeURIComponent(file.name));
  if (mapping) xhr.setRequestHeader(MAPPING_HEADER, encodeMapping(mapping));
  // The bytes as they are: the server finds the encoding and the delimiter itself.
  xhr.setRequestHeader('content-type', 'application/octet-stream');
  xhr.send(file);
  return { done, abort: () => xhr.abort() };
}
