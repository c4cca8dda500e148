// The CSV dialect of the import core, streaming: text in pieces of any size,
// records out, read by csv-parse. One reader for the sniff of a file's first
// bytes (detect.ts) and for the rows that follow (import.ts), so the header
// line the sniff finds is by construction the one the stream reads.
//
// The dialect (csv-parse's options below): quotes as RFC 4180, a cell that
// starts with a quote runs to the next lone quote ("" is a quote), so
// delimiters and line breaks inside it belong to the cell; a quote anywhere
// else is text, and so is text after a closing quote (the cell is then kept
// as written, quotes included); a record ends at CRLF, LF or CR; an empty line
// is a record of one empty cell; records may have any number of cells (the
// record reader names a short row's missing column). The byte-order mark is
// dropped before (lib/ingest/text.ts).
//
// csv-parse's parser is a stream; here it is driven synchronously (each piece
// written, its records read out at once), so the import's loop sees a
// record's number when it reads it and the sniff needs no event loop.
import { Parser, type CsvError as ParseError } from 'csv-parse';

export type CsvErrorCode = 'quote_not_closed' | 'record_too_long' | 'not_csv';

/** A text that is not CSV, with the row (counted as records, from 1) where it goes wrong. */
export class CsvError extends Error {
  constructor(
    readonly code: CsvErrorCode,
    readonly row: number,
  ) {
    super(
      code === 'quote_not_closed' ? `a quote opened on row ${row} is never closed` : code === 'record_too_long' ? `row ${row} is too long` : `row ${row} is not CSV`,
    );
    this.name = 'CsvError';
  }
}

function parserOptions(delimiter: string, maxRecordChars: number) {
  return {
    delimiter,
    quote: '"',
    escape: '"',
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: false,
    bom: false,
    trim: false,
    // csv-parse counts a record's characters; 0 is its "no limit".
    max_record_size: Number.isFinite(maxRecordChars) ? maxRecordChars : 0,
    // Every record is buffered until read out, which happens right after each piece.
    readableHighWaterMark: Number.MAX_SAFE_INTEGER,
  };
}

export class CsvParser {
  /** Records handed out so far. */
  records = 0;
  private readonly parser: Parser;

  constructor(delimiter: string, maxRecordChars = Infinity) {
    if (delimiter.length !== 1) throw new Error('CsvParser: the delimiter is one character');
    this.parser = new Parser(parserOptions(delimiter, maxRecordChars));
    // The failure is read from `errored` right after the write that caused it; the event would come later.
    this.parser.on('error', () => undefined);
  }

  /** Reads a piece of text; every record it completes goes to onRecord, in order. */
  push(text: string, onRecord: (cells: string[]) => void): void {
    if (text) this.parser.write(text);
    this.drain(onRecord);
  }

  /** The end of the text: its last record when no line break ends it. A quote still open makes the text unreadable. */
  end(onRecord: (cells: string[]) => void): void {
    this.parser.end();
    this.drain(onRecord);
  }

  private drain(onRecord: (cells: string[]) => void): void {
    for (let r = this.parser.read() as string[] | null; r !== null; r = this.parser.read() as string[] | null) {
      this.records++;
      onRecord(r);
    }
    const err = this.parser.errored as ParseError | null;
    if (err) throw new CsvError(err.code === 'CSV_QUOTE_NOT_CLOSED' ? 'quote_not_closed' : err.code === 'CSV_MAX_RECORD_SIZE' ? 'record_too_long' : 'not_csv', this.records + 1);
  }
}

/** Every record of a whole text (or of its complete lines only, when `complete` is false: the last may be cut). Tolerant: the sniff's reader. */
export function parseRecords(text: string, delimiter: string, complete: boolean, max = Infinity): string[][] {
  const records: string[][] = [];
  const keep = (r: string[]) => {
    if (records.length < max) records.push(r);
  };
  const p = new CsvParser(delimiter);
  try {
    p.push(text, keep);
    if (complete) p.end(keep);
  } catch (e) {
    // A quote never closed: what came before it still tells the format; the import refuses the file.
    if (!(e instanceof CsvError)) throw e;
  }
  return records;
}
