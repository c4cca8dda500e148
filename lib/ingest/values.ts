// Reading one cell of an export: numbers in the file's number style, days in
// its date order, ids, names and currency codes. A style is decided once per
// file (from the format's language, the delimiter and the values seen) and
// then holds for every cell: a cell never gets a reading of its own that a
// later cell could contradict. Pure, client-safe.

/** How a file writes numbers: 'dot' 1,234.56 (English); 'comma' 1.234,56 or 1 234,56 (French, German). */
export type NumberStyle = 'dot' | 'comma';
/** How a file writes a day with the year last: 31/01/2024 ('dmy') or 1/31/2024 ('mdy'). ISO days are read in any file. */
export type DateOrder = 'dmy' | 'mdy';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Characters no cell of a metrics export has any business holding: C0 and C1 controls, DEL, lone surrogates. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Shown in messages: a cell as written, shortened and with its control characters made visible. */
export function quoteCell(raw: string, max = 40): string {
  const visible = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const cut = visible.length > max ? `${visible.slice(0, max - 1)}…` : visible;
  return `“${cut}”`;
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/** Written by platforms (Google's "--", TikTok's "-") or spreadsheets for "nothing": read as 0. */
const EMPTY_NUMBER = new Set(['', '-', '--', '–', '—']);
/** Thousands separators that are never a decimal separator: spaces (plain, no-break, narrow no-break, thin) and apostrophes. */
const SPACE_GROUP = /[ \u00a0\u202f\u2009'\u2019]/;
const SCIENTIFIC = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)[eE][+-]?\d+$/;

export type NumberEvidence = NumberStyle | 'ambiguous' | 'neutral';

/**
 * What one number says about its file's style: 'dot' or 'comma' when only one
 * style reads it, 'ambiguous' when both read it differently (1,234 is 1234 or
 * 1.234), 'neutral' when both read it the same (1234, 12 345).
 */
export function numberEvidence(raw: string): NumberEvidence {
  const s = raw.trim().replace(/^[+-]/, '');
  const dots = countOf(s, '.');
  const commas = countOf(s, ',');
  if (dots === 0 && commas === 0) return 'neutral';
  if (dots > 0 && commas > 0) return s.lastIndexOf('.') > s.lastIndexOf(',') ? 'dot' : 'comma';
  const sep = dots > 0 ? '.' : ',';
  // The style in which this separator is the decimal one, and the other.
  const asDecimal: NumberStyle = sep === '.' ? 'dot' : 'comma';
  const asGrouping: NumberStyle = sep === '.' ? 'comma' : 'dot';
  if ((dots || commas) > 1) return asGrouping;
  const [int = '', frac = ''] = s.split(sep);
  // Grouping is always 1 to 3 digits then groups of exactly 3, never after a lone 0, never beside space grouping.
  if (frac.length !== 3 || !/^\d{1,3}$/.test(int) || int === '0' || SPACE_GROUP.test(s)) return asDecimal;
  return 'ambiguous';
}

function countOf(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i !== -1; i = s.indexOf(c, i + 1)) n++;
  return n;
}

export type NumberKind = 'amount' | 'count';

/** The largest value of each column of ads.metrics_daily: numeric(14,2), numeric(16,2), bigint. */
export const LIMITS = {
  /** numeric(14,2): 12 digits before the point. */
  amount: 12,
  /** numeric(16,2): conversion_value. */
  value: 14,
  count: '9223372036854775807',
} as const;

/**
 * The number of one cell in a given style, as a canonical decimal string
 * ("1234.5", "0"): exact, whatever its size, so nothing passes through a
 * double. Blank and dashes are 0. Negative numbers, text, scientific notation
 * and a number the style cannot read are refused.
 */
export function parseNumber(raw: string, style: NumberStyle, kind: NumberKind, intDigits: number = LIMITS.amount): Parsed<string> {
  const fast = plainNumber(raw, style === 'dot' ? 46 : 44, kind, intDigits);
  if (fast !== null) return ok(fast);
  const s = raw.trim();
  if (EMPTY_NUMBER.has(s)) return ok('0');
  if (SCIENTIFIC.test(s)) {
    return fail(`${quoteCell(s)} is in scientific notation: a spreadsheet rounded it. Export the number in full.`);
  }
  if (/^\(.*\)$/.test(s) || /^-/.test(s) || /-$/.test(s)) return fail(`${quoteCell(s)} is negative: figures are 0 or more.`);
  const body = s.replace(/^\+/, '');
  if (!/^[\d.,' \u00a0\u202f\u2009\u2019]+$/.test(body) || !/\d/.test(body)) return fail(`${quoteCell(s)} is not a number.`);
  const decimal = style === 'dot' ? '.' : ',';
  const grouping = style === 'dot' ? ',' : '.';
  const parts = body.split(decimal);
  if (parts.length > 2) return fail(`${quoteCell(s)} is not a number in this file's style (${styleExample(style)}).`);
  const [intRaw = '', fracRaw] = parts;
  if (fracRaw !== undefined && !/^\d+$/.test(fracRaw)) return fail(`${quoteCell(s)} is not a number in this file's style (${styleExample(style)}).`);
  let int = intRaw;
  if (int === '') {
    if (fracRaw === undefined) return fail(`${quoteCell(s)} is not a number.`);
    int = '0';
  } else if (!/^\d+$/.test(int)) {
    // Thousands separators: one kind in a number, groups of three after the first.
    const seps = new Set(int.replace(/\d/g, ''));
    const sep = [...seps][0]!;
    const allowed = sep === grouping || SPACE_GROUP.test(sep);
    const grouped = new RegExp(`^\\d{1,3}(${escapeRegExp(sep)}\\d{3})+$`);
    if (seps.size !== 1 || !allowed || !grouped.test(int)) {
      return fail(`${quoteCell(s)} is not a number in this file's style (${styleExample(style)}).`);
    }
    int = int.split(sep).join('');
  }
  int = int.replace(/^0+(?=\d)/, '');
  const frac = (fracRaw ?? '').replace(/0+$/, '');
  if (kind === 'count') {
    if (frac !== '') return fail(`${quoteCell(s)} is not a whole number.`);
    if (int.length > LIMITS.count.length || (int.length === LIMITS.count.length && int > LIMITS.count)) {
      return fail(`${quoteCell(s)} is too large (at most ${LIMITS.count}).`);
    }
    return ok(int);
  }
  // Amounts are stored with two decimals, rounded half away from zero as PostgreSQL rounds numeric.
  const rounded = roundTo2(int, frac);
  if (rounded.split('.')[0]!.length > intDigits) {
    return fail(`${quoteCell(s)} is too large (at most ${'9'.repeat(intDigits)}.99).`);
  }
  return ok(rounded);
}

/**
 * The common case without a regular expression: digits and at most one
 * decimal separator (char code `dec`), nothing else, short enough to be in
 * range. Returns the canonical string, or null for the full parser to decide.
 */
function plainNumber(s: string, dec: number, kind: NumberKind, intDigits: number): string | null {
  const n = s.length;
  if (n === 0 || n > 15) return null;
  let point = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (c === dec && point === -1 && i > 0 && i < n - 1) {
      point = i;
      continue;
    }
    return null;
  }
  let int = point === -1 ? s : s.slice(0, point);
  let frac = point === -1 ? '' : s.slice(point + 1);
  if (int.length > 1 && int.charCodeAt(0) === 48) int = int.replace(/^0+(?=\d)/, '');
  if (frac !== '' && frac.charCodeAt(frac.length - 1) === 48) frac = frac.replace(/0+$/, '');
  if (kind === 'count') return frac === '' && int.length < LIMITS.count.length ? int : null;
  if (frac.length > 2 || int.length > intDigits) return null;
  return frac === '' ? int : `${int}.${frac}`;
}

/** int.frac rounded to two decimals, as a canonical string (no trailing zeros, no dot for a whole number). */
function roundTo2(int: string, frac: string): string {
  const head = (frac + '00').slice(0, 2);
  const roundUp = frac.length > 2 && frac[2]! >= '5';
  let digits = int + head;
  if (roundUp) digits = incrementDigits(digits);
  const i = digits.slice(0, -2).replace(/^0+(?=\d)/, '') || '0';
  const f = digits.slice(-2).replace(/0+$/, '');
  return f ? `${i}.${f}` : i;
}

function incrementDigits(d: string): string {
  const a = d.split('');
  let k = a.length - 1;
  while (k >= 0) {
    if (a[k] === '9') {
      a[k] = '0';
      k--;
    } else {
      a[k] = String(Number(a[k]) + 1);
      return a.join('');
    }
  }
  return `1${a.join('')}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function styleExample(style: NumberStyle): string {
  return style === 'dot' ? '1,234.56' : '1 234,56 or 1.234,56';
}

/**
 * A file's number style as it reads: fixed from the start when the file's
 * language, delimiter or first values tell it; otherwise fixed by the first
 * cell that only one style reads. Until then a cell both styles read
 * differently is refused, never guessed.
 */
export class NumberReader {
  constructor(public style: NumberStyle | null) {}

  read(raw: string, kind: NumberKind, intDigits?: number): Parsed<string> {
    if (this.style === null) {
      const e = numberEvidence(raw);
      if (e === 'ambiguous') {
        return fail(
          `${quoteCell(raw.trim())} can be read as ${readAs(raw, 'dot')} or ${readAs(raw, 'comma')}, and nothing before it in the file tells which: ` +
            'write it with its decimals (1,234.00 or 1.234,00).',
        );
      }
      if (e === 'dot' || e === 'comma') this.style = e;
      // A neutral number reads the same in both styles.
      return parseNumber(raw, this.style ?? 'dot', kind, intDigits);
    }
    return parseNumber(raw, this.style, kind, intDigits);
  }
}

function readAs(raw: string, style: NumberStyle): string {
  const s = raw.trim();
  return style === 'dot' ? s.replace(/,/g, '') : s.replace(/\./g, '').replace(',', '.');
}

/**
 * The style the values of a file show: the one that only it reads, when the
 * values agree; null when they show nothing or both (then the file's language
 * decides, and the cells of the other style are refused).
 */
export function styleOfValues(values: Iterable<string>): NumberStyle | null {
  let dot = 0;
  let comma = 0;
  for (const v of values) {
    const e = numberEvidence(v);
    if (e === 'dot') dot++;
    else if (e === 'comma') comma++;
  }
  if (dot > 0 && comma === 0) return 'dot';
  if (comma > 0 && dot === 0) return 'comma';
  return null;
}

// ---------------------------------------------------------------------------
// Days
// ---------------------------------------------------------------------------

const ISO_DAY = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const YEAR_LAST = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})$/;
const YEAR_FIRST_SLASH = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/;

/** Days before this are not ad delivery: most likely a spreadsheet's day 0 or a typing slip. */
export const FIRST_DAY = '2000-01-01';

export type DateEvidence = DateOrder | 'ambiguous' | 'neutral';

/** What one day says about its file's order: 13/01/2024 is 'dmy', 1/13/2024 'mdy', 1/2/2024 'ambiguous', ISO and 1/1/2024 'neutral'. */
export function dateEvidence(raw: string): DateEvidence {
  const m = YEAR_LAST.exec(raw.trim());
  if (!m) return 'neutral';
  if (m[2] === '.') return 'dmy';
  const a = Number(m[1]);
  const b = Number(m[3]);
  if (a > 12 && b <= 12) return 'dmy';
  if (b > 12 && a <= 12) return 'mdy';
  if (a === b) return 'neutral';
  return a <= 12 && b <= 12 ? 'ambiguous' : 'neutral';
}

export function orderOfValues(values: Iterable<string>): DateOrder | null {
  let dmy = 0;
  let mdy = 0;
  for (const v of values) {
    const e = dateEvidence(v);
    if (e === 'dmy') dmy++;
    else if (e === 'mdy') mdy++;
  }
  if (dmy > 0 && mdy === 0) return 'dmy';
  if (mdy > 0 && dmy === 0) return 'mdy';
  return null;
}

function calendarDay(y: number, m: number, d: number): string | null {
  if (m < 1 || m > 12 || d < 1 || d > 31) return null;
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** One day as YYYY-MM-DD in a given order (null: not known yet, then an ambiguous day is refused). */
export function parseDay(raw: string, order: DateOrder | null): Parsed<string> {
  const s = raw.trim();
  if (s === '') return fail('The day is missing.');
  let day: string | null = null;
  const iso = ISO_DAY.exec(s);
  if (iso) {
    const [h, mi, se] = [iso[4], iso[5], iso[6]].map((v) => (v === undefined ? 0 : Number(v)));
    if (h !== 0 || mi !== 0 || se !== 0) return fail(`${quoteCell(s)} is a time, not a day: export the report by day.`);
    day = calendarDay(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  } else if (YEAR_FIRST_SLASH.test(s)) {
    const m = YEAR_FIRST_SLASH.exec(s)!;
    day = calendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
  } else {
    const m = YEAR_LAST.exec(s);
    if (m) {
      if (m[4]!.length === 2) return fail(`${quoteCell(s)} has a two-digit year: export the year in four digits.`);
      const a = Number(m[1]);
      const b = Number(m[3]);
      const y = Number(m[4]);
      const e = dateEvidence(s);
      const used: DateOrder | null = e === 'dmy' || e === 'mdy' ? e : e === 'neutral' ? 'dmy' : order;
      if (used === null) {
        return fail(`${quoteCell(s)} can be ${calendarDay(y, b, a) ?? '?'} or ${calendarDay(y, a, b) ?? '?'}, and nothing before it in the file tells which.`);
      }
      if (order !== null && (e === 'dmy' || e === 'mdy') && e !== order) {
        return fail(`${quoteCell(s)} is not a day in this file's order (${order === 'dmy' ? 'day/month/year' : 'month/day/year'}).`);
      }
      day = used === 'dmy' ? calendarDay(y, b, a) : calendarDay(y, a, b);
    } else if (/^\d{5}(\.\d+)?$/.test(s)) {
      return fail(`${quoteCell(s)} is a spreadsheet's serial number for a day: format the column as a date (YYYY-MM-DD) and export again.`);
    } else {
      return fail(`${quoteCell(s)} is not a day (YYYY-MM-DD, DD/MM/YYYY or as the platform exports it).`);
    }
  }
  if (day === null) return fail(`${quoteCell(s)} is not a calendar day.`);
  if (day < FIRST_DAY) return fail(`${quoteCell(s)} is before ${FIRST_DAY}: not a day of delivery.`);
  return ok(day);
}

/** Days in the file's order, fixed like NumberReader's style: by the format, else by the first day only one order reads. */
export class DayReader {
  /** A file has few distinct days: each is read once (per order: an entry made before the order was known is not reused). */
  private readonly seen = new Map<string, Parsed<string>>();
  private seenOrder: DateOrder | null;

  constructor(public order: DateOrder | null) {
    this.seenOrder = order;
  }

  read(raw: string): Parsed<string> {
    if (this.order === null) {
      const e = dateEvidence(raw);
      if (e === 'dmy' || e === 'mdy') this.order = e;
    }
    if (this.order !== this.seenOrder) {
      this.seen.clear();
      this.seenOrder = this.order;
    }
    let r = this.seen.get(raw);
    if (r === undefined) {
      r = parseDay(raw, this.order);
      if (this.seen.size >= 100_000) this.seen.clear();
      this.seen.set(raw, r);
    }
    return r;
  }
}

// ---------------------------------------------------------------------------
// Ids, names, currency codes
// ---------------------------------------------------------------------------

export const MAX_ID_LENGTH = 200;
export const MAX_NAME_LENGTH = 500;

/** An id as the platform wrote it, trimmed. A spreadsheet's 1.20253E+17 has lost its digits for good: refused, never "repaired". */
export function parseId(raw: string, what: string): Parsed<string> {
  const s = raw.trim();
  if (s === '' || s === '--' || s === '-') return fail(`The ${what} is missing.`);
  if (CONTROL_CHARACTERS.test(s)) return fail(`The ${what} ${quoteCell(s)} holds a control character.`);
  if (SCIENTIFIC.test(s)) {
    return fail(
      `The ${what} ${quoteCell(s)} was turned into a rounded number by a spreadsheet: its last digits are lost and cannot be recovered. ` +
        'Import the file as the platform exported it, or format the column as text before opening it.',
    );
  }
  if (s.length > MAX_ID_LENGTH) return fail(`The ${what} is over ${MAX_ID_LENGTH} characters.`);
  if (!s.isWellFormed()) return fail(`The ${what} ${quoteCell(s)} holds a broken character.`);
  return ok(s);
}

/** A name, trimmed; blank is no name. */
export function parseName(raw: string, what: string): Parsed<string | null> {
  const s = raw.trim();
  if (s === '' || s === '--') return ok(null);
  if (CONTROL_CHARACTERS.test(s)) return fail(`The ${what} ${quoteCell(s)} holds a control character.`);
  if (s.length > MAX_NAME_LENGTH) return fail(`The ${what} is over ${MAX_NAME_LENGTH} characters.`);
  if (!s.isWellFormed()) return fail(`The ${what} ${quoteCell(s)} holds a broken character.`);
  return ok(s);
}

/** An ISO 4217 code (EUR), or null when the cell is blank. */
export function parseCurrency(raw: string): Parsed<string | null> {
  const s = raw.trim().toUpperCase();
  if (s === '' || s === '--') return ok(null);
  if (!/^[A-Z]{3}$/.test(s)) return fail(`${quoteCell(raw.trim())} is not a currency code (such as EUR).`);
  return ok(s);
}
