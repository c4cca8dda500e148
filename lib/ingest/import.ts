// importCsv: a platform export (or any CSV with a mapping) into
// ads.metrics_daily, streaming. The first 64 KB decide the format
// (lib/ingest/detect.ts); then the bytes flow, never held whole, through a
// streaming decoder (UTF-8, UTF-16 LE/BE, Windows-1252: lib/ingest/text.ts),
// the CSV reader (lib/ingest/csv.ts), the record reader (every cell checked,
// problems by row and column) and COPY into the staging table, all inside one
// tenant transaction that the set-based checks and the write end
// (lib/ingest/settle.ts). Reading and COPY overlap: the database stores one
// piece while the next is read. Used by the upload route, the command line and
// the benchmark. Not server-only: the command line imports it.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { CsvError, CsvParser } from './csv';
import { detect, detectEncoding, SNIFF_BYTES, UnreadableText, type Detection } from './detect';
import { loadMappingOn, saveMappingOn, cleanMapping } from './mapping';
import { currencyRefusal, RecordReader, StagedKeys, toMetricRow, type StagedRow } from './records';
import { refuse, recordFailure, settle, type RunContext, type Tally } from './settle';
import { copyLine, ImportTransaction, isUuid } from './store';
import { TextStream } from './text';
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
/** The longest record read (a longer one is refused as unreadable). */
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

function csvMessage(err: CsvError): string {
  return err.code === 'quote_not_closed'
    ? `The file is not valid CSV: a quote opened on row ${err.row.toLocaleString('en')} is never closed.`
    : `The file is not valid CSV: row ${err.row.toLocaleString('en')} is over ${MAX_RECORD_CHARS.toLocaleString('en')} characters.`;
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
  const tally: Tally = { read: 0, skipped: 0, rejected: 0, staged: 0, keys: new StagedKeys(), problems: [], problemCount: 0 };
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
    const { encoding, bom } = detectEncoding(head.bytes);
    const text = new TextStream(encoding, bom);
    const csv = new CsvParser(format.delimiter, MAX_RECORD_CHARS);
    let headerSeen = false;
    let lastReport = Date.now();
    let out = '';
    /** One record: the header looked for, then each row read, staged or counted. */
    const onRecord = (record: string[]): void => {
      const recordNo = csv.records;
      if (!headerSeen) {
        if (sameCells(record, format.headers)) headerSeen = true;
        else if (recordNo > headerAt + 20) throw new Refused({ code: 'unreadable', message: 'The header line was not found where the start of the file has it.' });
        return;
      }
      const o = reader.read(record, recordNo);
      if (o.kind === 'row') {
        tally.read++;
        tally.staged++;
        tally.keys.add(o.row.platform, o.row.level, o.row.platformId, o.row.day);
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
        throw new Refused({ code: 'currency', message: currencyRefusal(o.currency, tx.tenant.currency, ` (row ${recordNo}, column “${col}”)`) });
      }
      if ((recordNo & 4095) === 0) {
        const now = Date.now();
        if (now - lastReport >= PROGRESS_MS) {
          lastReport = now;
          report();
        }
      }
    };
    /** Text as it is decoded, to the reader; a byte that cannot be read refuses the file with its row. */
    const take = (t: string) => {
      csv.push(t, onRecord);
      if (text.failure !== null) throw new UnreadableText(text.encoding, text.failure + 1, text.encoding === 'utf-8' ? csv.records + 1 : null);
    };
    /** The COPY data, in pieces of about COPY_CHUNK characters, as the file is read. */
    async function* copyData(): AsyncGenerator<string> {
      for await (const bytes of source.all()) {
        take(text.decode(bytes));
        if (out.length >= COPY_CHUNK) {
          const chunk = out;
          out = '';
          yield chunk;
        }
      }
      take(text.end());
      csv.end(onRecord);
      if (!headerSeen) throw new Refused({ code: 'unreadable', message: 'The header line was not found where the start of the file has it.' });
      if (out) yield out;
    }
    const copy = tx.copyStream();
    try {
      await pipeline(Readable.from(copyData()), copy);
    } catch (err) {
      const refusal =
        err instanceof Refused
          ? err.refusal
          : err instanceof UnreadableText
            ? { code: 'unreadable' as const, message: err.message }
            : err instanceof CsvError
              ? { code: 'unreadable' as const, message: csvMessage(err) }
              : null;
      if (refusal) return result(await refuse(ctx, refusal, tally), detection, preview);
      throw err;
    }
    if (text.encoding !== format.encoding) {
      // An all-ASCII head read as UTF-8; a later byte made the file Windows-1252.
      detection = { ...detection, format: { ...format, encoding: text.encoding } };
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
