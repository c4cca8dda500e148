// The import's CSV reader (csv-parse, driven piece by piece) on its own: the records of a text do not depend on
// how it is cut into pieces (a quote, a doubled quote or a CRLF split between
// two pieces), quotes as RFC 4180, and the two ways a text is not CSV, each
// with its row. Pure: no database.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, CsvParser, parseRecords } from '../../lib/ingest/csv';

function read(pieces: string[], delimiter = ',', max = Infinity): string[][] {
  const out: string[][] = [];
  const p = new CsvParser(delimiter, max);
  for (const t of pieces) p.push(t, (r) => out.push(r));
  p.end((r) => out.push(r));
  return out;
}

/** A text cut at the given places. */
const cut = (text: string, at: number[]) => {
  const marks = [...new Set(at.map((a) => a % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...marks].map((m, i, all) => text.slice(m, all[i + 1] ?? text.length));
};

describe('the CSV reader', () => {
  it('quotes as RFC 4180: delimiters and line breaks inside, "" for a quote; CRLF, LF and CR end a record', () => {
    expect(read(['a,"b,c"\r\n"d\ne","f""g"\nh;i\r"",x\n'])).toEqual([['a', 'b,c'], ['d\ne', 'f"g'], ['h;i'], ['', 'x']]);
    // A quote inside an unquoted cell is text; a cell with text after its closing quote is kept as written.
    expect(read(['ab"c,"d"e,f\n'])).toEqual([['ab"c', '"d"e', 'f']]);
    // An empty line is a record of one empty cell; a last line without a line break is a record; a final line break adds none.
    expect(read(['a\n\nb'])).toEqual([['a'], [''], ['b']]);
    expect(read(['a,\n'])).toEqual([['a', '']]);
    expect(read(['x\ty\n'], '\t')).toEqual([['x', 'y']]);
  });

  it('the same records however the text is cut', () => {
    const cell = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"', '""', '","', '\r\n', '\n', '\r', ',', 'é', '€'));
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(cell, fc.boolean()), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(), { maxLength: 12 }),
        (lines, eol, at) => {
          const text = lines.map((cells) => cells.map(([c, q]) => (q ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join(eol);
          let whole: string[][] | CsvError;
          try {
            whole = read([text]);
          } catch (e) {
            whole = e as CsvError;
          }
          let pieces: string[][] | CsvError;
          try {
            pieces = read(cut(text, at));
          } catch (e) {
            pieces = e as CsvError;
          }
          expect(pieces).toEqual(whole);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('pieces of one character: a CRLF, a doubled quote and a closing quote each split in two', () => {
    const text = 'a,"b""c"\r\n"d",e\r\n';
    expect(read([...text])).toEqual([['a', 'b"c'], ['d', 'e']]);
    expect(read(['a,"b"', '"c"\r', '\n"d"', ',e\r', '\n'])).toEqual([['a', 'b"c'], ['d', 'e']]);
  });

  it('a quote never closed, or a record over the limit: not CSV, with the row it starts on', () => {
    expect(() => read(['a,b\nc,"d\ne,f\n'])).toThrow(expect.objectContaining({ code: 'quote_not_closed', row: 2 }));
    expect(() => read(['a\n', 'b'.repeat(6), 'b'.repeat(6), '\nc\n'], ',', 8)).toThrow(expect.objectContaining({ code: 'record_too_long', row: 2 }));
    expect(read(['a\n', 'bbbbbb\n'], ',', 8)).toEqual([['a'], ['bbbbbb']]);
    // The sniff's reader is tolerant: the records before the open quote.
    expect(parseRecords('a,b\nc,"d\ne,f\n', ',', true)).toEqual([['a', 'b']]);
  });
});
