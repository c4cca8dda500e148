// importCsv: a platform export (or any CSV with a mapping) into
// ads.metrics_daily, streaming. The first 64 KB decide the format
// (lib/ingest/detect.ts); then the bytes flow, never held whole, through a
// streaming decoder (UTF-8, UTF-16 LE/BE), csv-parse, the record reader
// (every cell checked, problems by row and column) and COPY into the staging
// table, all inside one tenant transaction that the set-based checks and the
// one upsert end (lib/ingest/settle.ts). Used by the upload route, the command
// line and the benchmark. Not server-only: the command line imports it.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, type CsvError } from 'csv-parse';
import type pg from 'pg';
import { detect, detectEncoding, SNIFF_BYTES, UnreadableText, type Detection, type Encoding } from './detect';
import { loadMappingOn, saveMappingOn, cleanMapping } from './mapping';
import { currencyRefusal, RecordReader, toMetricRow, type StagedRow } from './records';
import { refuse, recordFailure, settle, type RunContext, type Tally } from './settle';
import { copyLine, ImportTransaction, isUuid } from './store';
import {
  IMPORT_PLATFORMS,
  MAX_PROBLEMS,
  PREVIEW_ROWS,
  type ColumnMapping,
  type CsvImportOptions,
  type CsvInput,
  type ImportProgress,
  type ImportResult,
  type Refusal,
} from './types';

export { detectFormat } from './detect';
export { importRows } from './import-rows';

/** How often progress is reported while reading (and at every change of phase). */
const PROGRESS_MS = 100;
/** COPY data goes to the server in pieces of about this many characters. */
const COPY_CHUNK = 256 * 1024;
/** The longest line csv-parse takes (a longer one is refused as unreadable). */
const MAX_RECORD_CHARS = 1_000_000;

/** A refusal found while the rows stream (another currency, a header not where the sniff saw it). */
class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

/** An error of the caller's stream (a cancelled upload, a size limit): rethrown as it came. */
class InputFailed extends Error {
  constructor(readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

function checkOptions(o: CsvImportOptions): void {
  if (!isUuid(o.tenantId)) throw new Error('importCsv: tenantId must be a uuid');
  if (o.userId != null && !isUuid(o.userId)) throw new Error('importCsv: userId must be a uuid');
  if (!['upload', 'api', 'cli'].includes(o.source)) throw new Error('importCsv: source must be upload, api or cli');
  if (o.source === 'upload' && !o.userId) throw new Error('importCsv: an upload needs the user who sent it');
  if (o.source === 'api') throw new Error('importCsv: the API imports JSON rows (importRows), with its key');
  if (o.platform !== undefined && !(IMPORT_PLATFORMS as readonly string[]).includes(o.platform)) throw new Error('importCsv: unknown platform');
}

/** The caller's stream as Buffers, counting bytes; the head is read first and handed back before the rest. */
class ByteSource {
  bytesRead = 0;
  private readonly it: AsyncIterator<Uint8Array | string>;
  private pending: Buffer | null = null;

  constructor(stream: CsvInput['stream']) {
    this.it = (stream as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  }

  private async next(): Promise<Buffer | null> {
    let r: IteratorResult<Uint8Array | string>;
    try {
      r = await this.it.next();
    } catch (err) {
      throw new InputFailed(err);
    }
    if (r.done) return null;
    const b = typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.bytesRead += b.length;
    return b;
  }

  /** At least n bytes (fewer at the end of the stream), and whether that was all. */
  async head(n: number): Promise<{ bytes: Buffer; complete: boolean }> {
    const parts: Buffer[] = [];
    let size = 0;
    while (size < n) {
      const b = await this.next();
      if (b === null) {
        const bytes = Buffer.concat(parts);
        this.pending = bytes;
        return { bytes, complete: true };
      }
      parts.push(b);
      size += b.length;
    }
    const bytes = Buffer.concat(parts);
    this.pending = bytes;
    return { bytes, complete: false };
  }

  /** Everything from the first byte: the head, then the rest of the stream. */
  async *all(): AsyncGenerator<Buffer> {
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      yield p;
    }
    for (;;) {
      const b = await this.next();
      if (b === null) return;
      yield b;
    }
  }

  async close(): Promise<void> {
    await this.it.return?.().catch(() => undefined);
  }
}

/** Bytes to text, with a streaming decoder (a character split between two chunks is joined); the mark is dropped. */
async function* decoded(bytes: AsyncIterable<Buffer>, encoding: Encoding, bom: number): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  let offset = 0;
  let first = true;
  for await (const chunk of bytes) {
    const part = first ? chunk.subarray(bom) : chunk;
    if (first) offset = bom;
    first = false;
    let text: string;
    try {
      text = decoder.decode(part, { stream: true });
    } catch {
      throw new UnreadableText(encoding, offset);
    }
    offset += part.length;
    if (text) yield text;
  }
  let tail: string;
  try {
    tail = decoder.decode();
  } catch {
    throw new UnreadableText(encoding, offset);
  }
  if (tail) yield tail;
}

function csvMessage(err: CsvError): string {
  const where = /line (\d+)/.exec(err.message);
  const at = where ? ` (line ${where[1]})` : '';
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `The file is not valid CSV: a quote is opened and never closed${at}.`;
    case 'CSV_MAX_RECORD_SIZE':
      return `The file is not valid CSV: a line is over ${MAX_RECORD_CHARS.toLocaleString('en')} characters${at}.`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
      return `The file is not valid CSV: a quote in the middle of a cell${at}.`;
    default:
      return `The file is not valid CSV${at}.`;
  }
}

/** csv-parse's errors carry a code (CSV_QUOTE_NOT_CLOSED, INVALID_OPENING_QUOTE ...). */
function isCsvError(err: unknown): err is CsvError {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && (code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE');
}

const sameCells = (a: string[], b: string[]) => a.length >= b.length && b.every((h, i) => (a[i] ?? '').trim() === h);

/**
 * Import one file for a tenant. Resolves with what happened (stored, or
 * refused with every problem listed); rejects only when something outside the
 * file failed (the database, the caller's stream), after recording the run as
 * failed. Nothing is stored unless the whole file is.
 */
export async function importCsv(pool: pg.Pool, input: CsvInput, opts: CsvImportOptions): Promise<ImportResult> {
  checkOptions(opts);
  // A mapping that is not one (a header with a control character, an unknown field) refuses the file, once the run can be recorded.
  let mapping: ColumnMapping | undefined;
  let mappingProblem: string | null = null;
  try {
    mapping = opts.mapping === undefined ? undefined : cleanMapping(opts.mapping);
  } catch (err) {
    mappingProblem = `The column mapping is not valid: ${(err as Error).message}.`;
  }
  const startedAt = new Date();
  const source = new ByteSource(input.stream);
  const tally: Tally = { read: 0, skipped: 0, rejected: 0, staged: 0, problems: [], problemCount: 0 };
  let phase: ImportProgress['phase'] = 'reading';
  const report = () =>
    opts.onProgress?.({ phase, rowsRead: tally.read + tally.skipped, bytesRead: source.bytesRead, bytesTotal: input.bytesTotal ?? null });
  const progress = (p: ImportProgress['phase']) => {
    phase = p;
    report();
  };
  progress('reading');

  let head: { bytes: Buffer; complete: boolean };
  try {
    head = await source.head(SNIFF_BYTES);
  } catch (err) {
    // Nothing was started: no run to record beyond what the caller knows.
    throw err instanceof InputFailed ? err.cause : err;
  }

  let tx: ImportTransaction;
  try {
    tx = await ImportTransaction.open(pool, opts.tenantId, opts.userId ?? null);
  } catch (err) {
    await source.close();
    throw err;
  }
  const ctx: RunContext = {
    pool,
    tx,
    tenantId: opts.tenantId,
    userId: opts.userId ?? null,
    apiKeyId: null,
    actorLabel: opts.actorLabel ?? null,
    source: opts.source,
    startedAt,
    fileName: input.fileName,
    bytes: () => source.bytesRead,
    platform: opts.platform ?? null,
    format: null,
    level: null,
    skipInvalid: opts.skipInvalid === true,
    dryRun: opts.dryRun === true,
    progress,
  };
  const result = (s: Awaited<ReturnType<typeof settle>>, d: Detection | null, preview: StagedRow[]): ImportResult => ({
    ok: s.ok,
    refusal: s.refusal,
    format: d?.format ?? null,
    counts: s.counts,
    problems: s.problems,
    problemCount: s.problemCount,
    runId: s.runId,
    changedDays: s.changedDays,
    ...(ctx.dryRun ? { previewRows: preview.map(toMetricRow) } : {}),
  });

  let detection: Detection | null = null;
  const preview: StagedRow[] = [];
  try {
    if (mappingProblem) {
      await source.close();
      return result(await refuse(ctx, { code: 'mapping', message: mappingProblem }, tally), null, preview);
    }
    if (head.bytes.length === 0) {
      await source.close();
      return result(await refuse(ctx, { code: 'empty', message: 'The file is empty.' }, tally), null, preview);
    }
    detection = detect(head.bytes, { platform: opts.platform, mapping, complete: head.complete });
    let savedMapping = false;
    if (!detection.ok && detection.refusal.code === 'unknown_format' && !mapping) {
      // A file of unknown columns: the mapping the tenant saved for its platform (or for the one platform it fits).
      const platforms = opts.platform ? [opts.platform] : IMPORT_PLATFORMS;
      const fits: Detection[] = [];
      for (const p of platforms) {
        const saved = await loadMappingOn(tx.client, opts.tenantId, p);
        if (!saved) continue;
        const d = detect(head.bytes, { platform: p, mapping: saved, complete: head.complete });
        if (d.ok) fits.push(d);
      }
      if (fits.length === 1) {
        detection = fits[0]!;
        savedMapping = true;
      }
    }
    if (detection.format) {
      ctx.platform = detection.format.platform;
      ctx.format = detection.format.format;
      ctx.level = detection.format.level;
    }
    if (!detection.ok) {
      await source.close();
      return result(await refuse(ctx, detection.refusal, tally), detection, preview);
    }
    const { format, layout } = detection;
    const platform = format.platform!;
    if (format.currency && format.currency !== tx.tenant.currency) {
      await source.close();
      const col = layout.columns.spend !== undefined ? ` (column “${layout.headers[layout.columns.spend]}”)` : '';
      return result(await refuse(ctx, { code: 'currency', message: currencyRefusal(format.currency, tx.tenant.currency, col) }, tally), detection, preview);
    }
    if (mapping && !savedMapping && !ctx.dryRun) {
      ctx.beforeCommit = (c) => saveMappingOn(c, opts.tenantId, platform, mapping);
    }

    const reader = new RecordReader(layout, platform, tx.tenant);
    const prefix = tx.linePrefix;
    const headerAt = format.preambleLines + 1;
    let recordNo = 0;
    let headerSeen = false;
    let lastReport = Date.now();
    let out = '';
    /** One record of csv-parse: the header looked for, then each row read, staged or counted. */
    const onRecord = (record: string[], cb: TransformCallback): void => {
      recordNo++;
      if (!headerSeen) {
        if (sameCells(record, format.headers)) headerSeen = true;
        else if (recordNo > headerAt + 20) {
          return void cb(new Refused({ code: 'unreadable', message: 'The header line was not found where the start of the file has it.' }));
        }
        return void cb();
      }
      const o = reader.read(record, recordNo);
      if (o.kind === 'row') {
        tally.read++;
        tally.staged++;
        if (preview.length < PREVIEW_ROWS) preview.push(o.row);
        out += copyLine(prefix, o.row);
      } else if (o.kind === 'skipped') {
        tally.skipped++;
      } else if (o.kind === 'invalid') {
        tally.read++;
        tally.rejected++;
        tally.problemCount += o.problems.length;
        for (const p of o.problems) if (tally.problems.length < MAX_PROBLEMS) tally.problems.push(p);
      } else {
        const col = layout.columns.currency !== undefined ? layout.headers[layout.columns.currency] : 'currency';
        return void cb(new Refused({ code: 'currency', message: currencyRefusal(o.currency, tx.tenant.currency, ` (row ${recordNo}, column “${col}”)`) }));
      }
      if ((recordNo & 4095) === 0) {
        const now = Date.now();
        if (now - lastReport >= PROGRESS_MS) {
          lastReport = now;
          report();
        }
      }
      if (out.length >= COPY_CHUNK) {
        const chunk = out;
        out = '';
        return void cb(null, chunk);
      }
      cb();
    };
    const toCopy = new Transform({
      writableObjectMode: true,
      readableObjectMode: false,
      transform(record: string[], _enc: BufferEncoding, cb: TransformCallback) {
        // A throw here would escape the pipeline (streams do not catch it): it becomes the stream's error.
        try {
          onRecord(record, cb);
        } catch (err) {
          cb(err as Error);
        }
      },
      flush(cb: TransformCallback) {
        if (!headerSeen) return cb(new Refused({ code: 'unreadable', message: 'The header line was not found where the start of the file has it.' }));
        cb(null, out || undefined);
      },
    });
    const parser = parse({
      delimiter: format.delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      max_record_size: MAX_RECORD_CHARS,
    });
    const copy = tx.copyStream();
    const { bom } = detectEncoding(head.bytes);
    try {
      await pipeline(Readable.from(decoded(source.all(), format.encoding, bom)), parser, toCopy, copy);
    } catch (err) {
      const refusal =
        err instanceof Refused
          ? err.refusal
          : err instanceof UnreadableText
            ? { code: 'unreadable' as const, message: err.message }
            : isCsvError(err)
              ? { code: 'unreadable' as const, message: csvMessage(err) }
              : null;
      if (refusal) return result(await refuse(ctx, refusal, tally), detection, preview);
      throw err;
    }
    report();
    if (copy.rowCount !== tally.staged) throw new Error(`import ${tx.runId}: ${tally.staged} rows sent, ${copy.rowCount} copied`);

    const keyColumn = layout.headers[layout.level === 'adset' ? layout.columns.adset_id! : layout.columns.campaign_id!] ?? null;
    const s = await settle(ctx, tally, { keyColumn, listKeys: false });
    return result(s, detection, preview);
  } catch (err) {
    await source.close();
    const cause = err instanceof InputFailed ? err.cause : err;
    const message =
      err instanceof InputFailed
        ? `Reading the file stopped: ${err.message}. Nothing was stored.`
        : 'The import failed on the server: nothing was stored.';
    await recordFailure(ctx, tally, message);
    throw cause;
  }
}
