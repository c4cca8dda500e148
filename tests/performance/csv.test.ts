// The CSV export: plain machine-readable numbers, RFC 4180 quoting, no
// formula injection, a BOM first. Every expected string is written out by hand.
import { describe, expect, it } from 'vitest';
import { BOM, csvNumber, csvText, quoteField, toCsv, toFixedDecimal, type CsvColumn } from '@/lib/performance/csv';

describe('toFixedDecimal', () => {
  it('rounds the decimal text half away from zero, not the binary value', () => {
    // 1.005 is stored as 1.00499999999999989…: toFixed(2) gives "1.00"; written, it reads 1.005 -> 1.01.
    expect((1.005).toFixed(2)).toBe('1.00');
    expect(toFixedDecimal(1.005, 2)).toBe('1.01');
    expect(toFixedDecimal(-1.005, 2)).toBe('-1.01');
    // 12.345 (stored as 12.3449999…) -> 12.35.
    expect(toFixedDecimal(12.345, 2)).toBe('12.35');
    expect(toFixedDecimal(2.5, 4)).toBe('2.5000');
    expect(toFixedDecimal(0, 2)).toBe('0.00');
  });

  it('writes no negative zero', () => {
    // -0.001 to 2 decimals is 0.00, not -0.00.
    expect(toFixedDecimal(-0.001, 2)).toBe('0.00');
    expect(toFixedDecimal(-0, 4)).toBe('0.0000');
  });

  it('keeps tiny numbers out of exponent notation', () => {
    // 1e-7 as text is "1e-7": to 6 decimals it is 0.000000.
    expect(toFixedDecimal(1e-7, 6)).toBe('0.000000');
    expect(toFixedDecimal(0.0000015, 6)).toBe('0.000002');
  });
});

describe('csvNumber', () => {
  it('writes each format at its precision, dot decimal, no grouping, no symbol', () => {
    expect(csvNumber(1234567.891, 'money')).toBe('1234567.89');
    expect(csvNumber(1234.5, 'money')).toBe('1234.50');
    // ROAS 3.14159 -> 4 decimals 3.1416.
    expect(csvNumber(3.14159, 'ratio')).toBe('3.1416');
    // CTR as a fraction: 0.0123456789 -> 6 decimals 0.012346 (1.2346 %).
    expect(csvNumber(0.0123456789, 'fraction')).toBe('0.012346');
    // A change already in percent: -33.3333… -> -33.33.
    expect(csvNumber(-100 / 3, 'percent')).toBe('-33.33');
  });

  it('writes counts as they are, with at most 2 decimals', () => {
    expect(csvNumber(12, 'count')).toBe('12');
    expect(csvNumber(12.5, 'count')).toBe('12.5');
    // 12.504 -> 12.50 -> 12.5; 100.004 -> 100.00 -> 100.
    expect(csvNumber(12.504, 'count')).toBe('12.5');
    expect(csvNumber(100.004, 'count')).toBe('100');
    expect(csvNumber(-3, 'count')).toBe('-3');
  });

  it('leaves a missing or impossible value empty', () => {
    expect(csvNumber(null, 'money')).toBe('');
    expect(csvNumber(undefined, 'ratio')).toBe('');
    expect(csvNumber(Number.NaN, 'fraction')).toBe('');
    expect(csvNumber(Number.POSITIVE_INFINITY, 'count')).toBe('');
  });
});

describe('csvText and quoteField', () => {
  it('puts an apostrophe before a text that a spreadsheet would run as a formula', () => {
    expect(csvText('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvText('+33 1 23')).toBe("'+33 1 23");
    expect(csvText('-Brand')).toBe("'-Brand");
    expect(csvText('@import')).toBe("'@import");
    expect(csvText('\tTabbed')).toBe("'\tTabbed");
    expect(csvText('\rReturn')).toBe("'\rReturn");
    // Only the first character counts.
    expect(csvText('Brand = best')).toBe('Brand = best');
    expect(csvText('')).toBe('');
  });

  it('quotes a field holding a quote, comma, CR or LF and doubles its quotes (RFC 4180)', () => {
    expect(quoteField('plain')).toBe('plain');
    expect(quoteField('He said "hi", twice')).toBe('"He said ""hi"", twice"');
    expect(quoteField('line 1\nline 2')).toBe('"line 1\nline 2"');
    expect(quoteField('a\r\nb')).toBe('"a\r\nb"');
    expect(quoteField('"')).toBe('""""');
  });
});

describe('toCsv', () => {
  const columns: CsvColumn[] = [
    { key: 'name', header: 'Campaign', format: 'text' },
    { key: 'entityId', header: 'Id', format: 'text' },
    { key: 'spend', header: 'Spend', format: 'money' },
    { key: 'conversions', header: 'Conversions', format: 'count' },
    { key: 'roas', header: 'ROAS', format: 'ratio' },
    { key: 'ctr', header: 'CTR', format: 'fraction' },
    { key: 'roasDelta', header: 'ROAS Δ % vs baseline', format: 'percent' },
  ];

  it('writes a BOM, the header line and one CRLF-ended line per row, in order', () => {
    const csv = toCsv(columns, [
      { name: 'Café, "Paris"', entityId: '120', spend: 1234.5, conversions: 7, roas: 3.14159, ctr: 0.0123456789, roasDelta: -12.345 },
      { name: '=HYPERLINK("http://x")', entityId: -5, spend: null, conversions: 0.5, roas: null, ctr: 0, roasDelta: null },
      { name: 'Total (2 rows)', spend: 1234.5 },
    ]);
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv.startsWith(BOM)).toBe(true);
    expect(csv).toBe(
      '\uFEFF' +
        'Campaign,Id,Spend,Conversions,ROAS,CTR,ROAS Δ % vs baseline\r\n' +
        // The comma and the quotes make it quoted, the quotes doubled; 1234.5 -> 1234.50; -12.345 -> -12.35.
        '"Café, ""Paris""",120,1234.50,7,3.1416,0.012346,-12.35\r\n' +
        // The formula gets its apostrophe, then quotes for its own quotes; a number in a text column stays a number (-5).
        `"'=HYPERLINK(""http://x"")",-5,,0.5,,0.000000,\r\n` +
        // Fields the row lacks are empty.
        'Total (2 rows),,1234.50,,,,\r\n',
    );
  });

  it('guards and quotes the headers too', () => {
    const csv = toCsv([{ key: 'a', header: '-a, b', format: 'text' }], [{ a: 'x' }]);
    expect(csv).toBe(`\uFEFF"'-a, b"\r\nx\r\n`);
  });

  it('writes a header line alone without rows', () => {
    expect(toCsv([{ key: 'a', header: 'A', format: 'money' }], [])).toBe('\uFEFFA\r\n');
  });

  it('writes booleans as text', () => {
    expect(toCsv([{ key: 'a', header: 'A', format: 'text' }], [{ a: true }, { a: false }])).toBe('\uFEFFA\r\ntrue\r\nfalse\r\n');
  });
});
