// The CSV dialect of the import core, streaming: text in pieces of any size,
// records out. One reader for the sniff of a file's first bytes (detect.ts)
// and for the rows that follow (import.ts), so the header line the sniff finds
// is by construction the one the stream reads. Quotes as RFC 4180: a cell that
// starts with a quote runs to the next lone quote ("" is a quote), so
// delimiters and line breaks inside it belong to the cell; text after its
// closing quote is kept; a quote anywhere else is text. A record ends at a line
// feed, a carriage return or both. Written here rather than taken from
// csv-parse: a million records of a dozen cells take a fifth of its time (cut
// by slices of each piece instead of byte by byte), and the import's
// benchmark is bound by reading (docs/imports.md). Pure, client-safe.

const QUOTE = 34;
const LF = 10;
const CR = 13;

export type CsvErrorCode = 'quote_not_closed' | 'record_too_long';

/** A text that is not CSV, with the row (counted as records, from 1) where it goes wrong. */
export class CsvError extends Error {
  constructor(
    readonly code: CsvErrorCode,
    readonly row: number,
  ) {
    super(code === 'quote_not_closed' ? `a quote opened on row ${row} is never closed` : `row ${row} is too long`);
    this.name = 'CsvError';
  }
}

export class CsvParser {
  /** Records handed out so far. */
  records = 0;
  private cells: string[] = [];
  /** The current cell's text from earlier pieces. */
  private cell = '';
  private quoted = false;
  /** Inside quotes, the piece ended on a quote: the next character says whether it closed the cell or was doubled. */
  private quoteAtEnd = false;
  private atCellStart = true;
  /** The piece ended on a carriage return: a line feed starting the next one belongs to it. */
  private crAtEnd = false;
  /** Characters of the current record in earlier pieces. */
  private recordChars = 0;
  private readonly delimiter: number;

  constructor(
    delimiter: string,
    private readonly maxRecordChars = Infinity,
  ) {
    if (delimiter.length !== 1) throw new Error('CsvParser: the delimiter is one character');
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Reads a piece of text; every record it completes goes to onRecord, in order. */
  push(text: string, onRecord: (cells: string[]) => void): void {
    const n = text.length;
    const d = this.delimiter;
    let i = 0;
    if (this.crAtEnd) {
      this.crAtEnd = false;
      if (n > 0 && text.charCodeAt(0) === LF) i = 1;
    }
    let cells = this.cells;
    let cell = this.cell;
    let quoted = this.quoted;
    let atCellStart = this.atCellStart;
    if (this.quoteAtEnd && i < n) {
      this.quoteAtEnd = false;
      if (text.charCodeAt(i) === QUOTE) {
        cell += '"';
        i++;
      } else quoted = false;
    }
    let from = i;
    let recordFrom = i;
    let carried = this.recordChars;
    while (i < n) {
      if (quoted) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          i = n;
          break;
        }
        cell += text.slice(from, q);
        if (q + 1 === n) {
          this.quoteAtEnd = true;
          i = n;
          from = n;
          break;
        }
        if (text.charCodeAt(q + 1) === QUOTE) {
          cell += '"';
          i = q + 2;
        } else {
          quoted = false;
          i = q + 1;
        }
        from = i;
        continue;
      }
      if (atCellStart && text.charCodeAt(i) === QUOTE) {
        quoted = true;
        atCellStart = false;
        i++;
        from = i;
        continue;
      }
      // An unquoted run, to the next delimiter or line break.
      let c = 0;
      while (i < n) {
        c = text.charCodeAt(i);
        if (c === d || c === LF || c === CR) break;
        i++;
      }
      if (i === n) {
        atCellStart = false;
        break;
      }
      cells.push(from === i ? cell : cell + text.slice(from, i));
      cell = '';
      atCellStart = true;
      i++;
      from = i;
      if (c !== d) {
        if (carried + (i - recordFrom) > this.maxRecordChars) throw new CsvError('record_too_long', this.records + 1);
        this.records++;
        onRecord(cells);
        cells = [];
        carried = 0;
        if (c === CR) {
          if (i === n) this.crAtEnd = true;
          else if (text.charCodeAt(i) === LF) i++;
        }
        from = i;
        recordFrom = i;
      }
    }
    if (from < n) cell += text.slice(from, n);
    this.cells = cells;
    this.cell = cell;
    this.quoted = quoted;
    this.atCellStart = atCellStart;
    this.recordChars = carried + (n - recordFrom);
    if (this.recordChars > this.maxRecordChars) throw new CsvError('record_too_long', this.records + 1);
  }

  /** The end of the text: its last record when no line break ends it. A quote still open makes the text unreadable. */
  end(onRecord: (cells: string[]) => void): void {
    if (this.quoted && !this.quoteAtEnd) throw new CsvError('quote_not_closed', this.records + 1);
    if (this.cells.length > 0 || this.cell !== '' || !this.atCellStart || this.quoteAtEnd) {
      this.cells.push(this.cell);
      this.records++;
      onRecord(this.cells);
    }
    this.cells = [];
    this.cell = '';
    this.quoted = false;
    this.quoteAtEnd = false;
    this.atCellStart = true;
    this.recordChars = 0;
  }
}

/** Every record of a whole text (or of its complete lines only, when `complete` is false: the last may be cut). Tolerant: the sniff's reader. */
export function parseRecords(text: string, delimiter: string, complete: boolean, max = Infinity): string[][] {
  const records: string[][] = [];
  const keep = (r: string[]) => {
    if (records.length < max) records.push(r);
  };
  const p = new CsvParser(delimiter);
  p.push(text, keep);
  if (complete) {
    try {
      p.end(keep);
    } catch (e) {
      // A quote never closed: what came before it still tells the format; the import refuses the file.
      if (!(e instanceof CsvError)) throw e;
    }
  }
  return records;
}
