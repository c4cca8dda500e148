// CSV text for a spreadsheet: the columns and rows a table shows, as plain
// machine-readable values (dot decimal, no currency symbol, no grouping), RFC
// 4180 quoting, and text that cannot run as a formula. Pure: the table calls
// it with what it shows and downloads the result.

/**
 * How a column's numbers are written. money: 2 decimals; ratio: 4 (ROAS 3.2100, pacing 0.8600);
 * fraction: 6 (CTR 0.012346, a fraction, not a percent); percent: a value already in percent, 2 decimals
 * (a change of +12.3 % is 12.30); count: as is, at most 2 decimals (12, 12.5). text: the value as text.
 */
export type CsvFormat = 'text' | 'money' | 'ratio' | 'fraction' | 'percent' | 'count';

export interface CsvColumn {
  /** The row field written. */
  key: string;
  header: string;
  format: CsvFormat;
}

export type CsvValue = string | number | boolean | null | undefined;
export type CsvRow = Readonly<Record<string, CsvValue>>;

/** Excel reads a file without it as the system code page and mangles accents. */
export const BOM = '\uFEFF';

const DECIMALS: Readonly<Record<Exclude<CsvFormat, 'text' | 'count'>, number>> = { money: 2, ratio: 4, fraction: 6, percent: 2 };

/**
 * x rounded half away from zero to d decimals, as written in decimal: toFixed rounds the binary value,
 * so 1.005 (stored as 1.00499999…) would come out "1.00"; shifting the decimal text by d places rounds what the
 * number reads as. Numbers whose text has an exponent (under 1e-6 or from 1e21) are left to toFixed.
 */
export function toFixedDecimal(x: number, d: number): string {
  const abs = Math.abs(x);
  const text = String(abs);
  const shifted = text.includes('e') ? NaN : Math.round(Number(`${text}e${d}`));
  // Beyond 2^53 the shifted text is no longer an exact integer (and from 1e21 it has an exponent): toFixed then.
  const rounded = Number.isSafeInteger(shifted) ? Number(`${shifted}e-${d}`) : abs;
  const out = rounded.toFixed(d);
  // No "-0.00": a tiny negative rounds to a plain zero.
  return x < 0 && Number(out) !== 0 ? `-${out}` : out;
}

/** A number in a column's format; empty for a missing or non-finite value. */
export function csvNumber(value: number | null | undefined, format: Exclude<CsvFormat, 'text'>): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  if (format === 'count') {
    if (Number.isInteger(value)) return String(value);
    // 12.50 -> 12.5: a count keeps only the decimals it has.
    return toFixedDecimal(value, 2).replace(/\.?0+$/, '');
  }
  return toFixedDecimal(value, DECIMALS[format]);
}

/** Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell: a leading apostrophe where it would start a formula. */
export function csvText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * RFC 4180: a field holding a quote, comma, CR or LF is quoted, its quotes doubled. A semicolon or tab too:
 * Excel in de-DE or fr-FR splits a .csv on ';', and an unquoted "x;=1+1" would hand it a formula cell.
 */
export function quoteField(field: string): string {
  return /[",;\t\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

function cell(value: CsvValue, format: CsvFormat): string {
  if (value === null || value === undefined) return '';
  if (format !== 'text') {
    if (typeof value === 'number') return csvNumber(value, format);
    // A number column holding text (never expected): written as text, guarded.
    return quoteField(csvText(String(value)));
  }
  // A number in a text column is a value, not a formula: -5 stays -5.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return quoteField(csvText(String(value)));
}

/**
 * The CSV text: a BOM, the header line, then one line per row, in the order given, every line ending in CRLF.
 * Fields a row lacks are empty.
 */
export function toCsv(columns: readonly CsvColumn[], rows: readonly CsvRow[]): string {
  const lines = [columns.map((c) => quoteField(csvText(c.header))).join(',')];
  for (const row of rows) lines.push(columns.map((c) => cell(row[c.key], c.format)).join(','));
  return `${BOM}${lines.join('\r\n')}\r\n`;
}
