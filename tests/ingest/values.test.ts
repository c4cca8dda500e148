// Reading one cell: numbers in a file's style (decided once, never per cell),
// days in its order, ids a spreadsheet rounded, names with control characters,
// the limits of the columns of ads.metrics_daily. Pure, no database.
import { describe, expect, it } from 'vitest';
import {
  DayReader,
  NumberReader,
  dateEvidence,
  numberEvidence,
  orderOfValues,
  parseCurrency,
  parseDay,
  parseId,
  parseName,
  parseNumber,
  styleOfValues,
} from '../../lib/ingest/values';

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }) => (r.ok ? r.value : `ERR ${r.message}`);

describe('numbers', () => {
  it('reads each style exactly, as canonical decimals', () => {
    const cases: [string, 'dot' | 'comma', string][] = [
      ['1234.56', 'dot', '1234.56'],
      ['1,234.56', 'dot', '1234.56'],
      ['1,234,567.5', 'dot', '1234567.5'],
      ['0.10', 'dot', '0.1'],
      ['.5', 'dot', '0.5'],
      ['007', 'dot', '7'],
      ['1 234,56', 'comma', '1234.56'],
      ['1\u202f234,56', 'comma', '1234.56'],
      ['1\u00a0234\u00a0567,5', 'comma', '1234567.5'],
      ['1.234,56', 'comma', '1234.56'],
      ['1.234.567', 'comma', '1234567'],
      ['12,5', 'comma', '12.5'],
      ["1'234.50", 'dot', '1234.5'],
      ['', 'dot', '0'],
      ['--', 'comma', '0'],
      ['-', 'dot', '0'],
      ['  42  ', 'dot', '42'],
    ];
    for (const [raw, style, want] of cases) expect(value(parseNumber(raw, style, 'amount')), `${raw} (${style})`).toBe(want);
  });

  it('rounds amounts to two decimals half away from zero, as numeric(14,2) does', () => {
    expect(value(parseNumber('2.345', 'dot', 'amount'))).toBe('2.35');
    expect(value(parseNumber('2.344999', 'dot', 'amount'))).toBe('2.34');
    expect(value(parseNumber('9.995', 'dot', 'amount'))).toBe('10');
    expect(value(parseNumber('999999999999.994', 'dot', 'amount'))).toBe('999999999999.99');
    expect(value(parseNumber('999999999999.995', 'dot', 'amount'))).toMatch(/^ERR .*too large/);
  });

  it('refuses text, negatives, scientific notation, fractions of a count and values beyond the column types', () => {
    expect(value(parseNumber('12 EUR', 'dot', 'amount'))).toMatch(/not a number/);
    expect(value(parseNumber('n/a', 'dot', 'amount'))).toMatch(/not a number/);
    expect(value(parseNumber('-3.50', 'dot', 'amount'))).toMatch(/negative/);
    expect(value(parseNumber('(3.50)', 'dot', 'amount'))).toMatch(/negative/);
    expect(value(parseNumber('1.2E+06', 'dot', 'amount'))).toMatch(/scientific notation/);
    expect(value(parseNumber('12.5', 'dot', 'count'))).toMatch(/whole number/);
    expect(value(parseNumber('12.0', 'dot', 'count'))).toBe('12');
    expect(value(parseNumber('9223372036854775807', 'dot', 'count'))).toBe('9223372036854775807');
    expect(value(parseNumber('9223372036854775808', 'dot', 'count'))).toMatch(/too large/);
    expect(value(parseNumber('1000000000000', 'dot', 'amount'))).toMatch(/too large/);
    expect(value(parseNumber('99999999999999.99', 'dot', 'amount', 14))).toBe('99999999999999.99');
    // A grouping that is not groups of three, or two kinds of grouping in one number.
    expect(value(parseNumber('12,34.5', 'dot', 'amount'))).toMatch(/not a number in this file's style/);
    expect(value(parseNumber('1.234 567,8', 'comma', 'amount'))).toMatch(/not a number in this file's style/);
    // The other style's number in a file whose style is known.
    expect(value(parseNumber('1.234,56', 'dot', 'amount'))).toMatch(/not a number in this file's style/);
    expect(value(parseNumber('12,5', 'dot', 'amount'))).toMatch(/not a number in this file's style/);
  });

  it('tells what a value says about its file: only one style, both the same, or ambiguous', () => {
    expect(numberEvidence('1,234')).toBe('ambiguous');
    expect(numberEvidence('1.234')).toBe('ambiguous');
    expect(numberEvidence('1,234.5')).toBe('dot');
    expect(numberEvidence('1.234,5')).toBe('comma');
    expect(numberEvidence('12,5')).toBe('comma');
    expect(numberEvidence('12.50')).toBe('dot');
    expect(numberEvidence('0,123')).toBe('comma');
    expect(numberEvidence('1234,567')).toBe('comma');
    expect(numberEvidence('1,234,567')).toBe('dot');
    expect(numberEvidence('1 234')).toBe('neutral');
    expect(numberEvidence('1234')).toBe('neutral');
    expect(styleOfValues(['12', '1,234', '5.75'])).toBe('dot');
    expect(styleOfValues(['12', '1,234'])).toBeNull();
    expect(styleOfValues(['12.5', '12,5'])).toBeNull();
  });

  it('never reads a cell of unknown style by a guess: an ambiguous value is a problem until one value decides, then the style holds', () => {
    const r = new NumberReader(null);
    expect(value(r.read('1,234', 'amount'))).toMatch(/can be read as 1234 or 1.234/);
    expect(value(r.read('17', 'amount'))).toBe('17');
    expect(r.style).toBeNull();
    expect(value(r.read('3,50', 'amount'))).toBe('3.5');
    expect(r.style).toBe('comma');
    expect(value(r.read('1,234', 'amount'))).toBe('1.23');
    expect(value(r.read('1.234', 'count'))).toBe('1234');
    expect(value(r.read('2.5', 'amount'))).toMatch(/not a number in this file's style/);
  });
});

describe('days', () => {
  it('reads ISO days in any file, with a midnight time part, and days with the year last in the file order', () => {
    expect(value(parseDay('2024-01-31', null))).toBe('2024-01-31');
    expect(value(parseDay('2024-1-5', null))).toBe('2024-01-05');
    expect(value(parseDay('2024-01-31 00:00:00', null))).toBe('2024-01-31');
    expect(value(parseDay('2024/01/31', null))).toBe('2024-01-31');
    expect(value(parseDay('31/01/2024', 'dmy'))).toBe('2024-01-31');
    expect(value(parseDay('31.01.2024', null))).toBe('2024-01-31');
    expect(value(parseDay('1/31/2024', 'mdy'))).toBe('2024-01-31');
    expect(value(parseDay('2/3/2024', 'mdy'))).toBe('2024-02-03');
    expect(value(parseDay('2/3/2024', 'dmy'))).toBe('2024-03-02');
    expect(value(parseDay('5/5/2024', null))).toBe('2024-05-05');
  });

  it('refuses what is not a day of delivery', () => {
    expect(value(parseDay('', null))).toMatch(/missing/);
    expect(value(parseDay('2023-02-29', null))).toMatch(/not a calendar day/);
    expect(value(parseDay('31/02/2024', 'dmy'))).toMatch(/not a calendar day/);
    expect(value(parseDay('2024-01-31 13:00', null))).toMatch(/a time, not a day/);
    expect(value(parseDay('45321', null))).toMatch(/serial number/);
    expect(value(parseDay('31/01/24', 'dmy'))).toMatch(/two-digit year/);
    expect(value(parseDay('1999-12-31', null))).toMatch(/before 2000-01-01/);
    expect(value(parseDay('Jan 31, 2024', null))).toMatch(/not a day/);
    expect(value(parseDay('2/3/2024', null))).toMatch(/can be 2024-03-02 or 2024-02-03/);
    expect(value(parseDay('1/31/2024', 'dmy'))).toMatch(/not a day in this file's order/);
  });

  it('decides the order of a file once, from the first day only one order reads', () => {
    expect(dateEvidence('13/01/2024')).toBe('dmy');
    expect(dateEvidence('1/13/2024')).toBe('mdy');
    expect(dateEvidence('1/2/2024')).toBe('ambiguous');
    expect(orderOfValues(['1/2/2024', '1/13/2024'])).toBe('mdy');
    const d = new DayReader(null);
    expect(value(d.read('1/2/2024'))).toMatch(/can be/);
    expect(value(d.read('1/13/2024'))).toBe('2024-01-13');
    expect(d.order).toBe('mdy');
    expect(value(d.read('1/2/2024'))).toBe('2024-01-02');
    expect(value(d.read('13/1/2024'))).toMatch(/not a day in this file's order/);
  });
});

describe('ids, names, currency codes', () => {
  it('refuses an id a spreadsheet turned into a rounded number, with a message saying why it cannot be repaired', () => {
    expect(value(parseId('1.20253E+17', 'campaign ID'))).toMatch(/turned into a rounded number by a spreadsheet: its last digits are lost/);
    expect(value(parseId('1,20253E+17', 'campaign ID'))).toMatch(/rounded number/);
    expect(value(parseId('6.02e17', 'ad set ID'))).toMatch(/rounded number/);
    expect(value(parseId(' 120253000000000017 ', 'campaign ID'))).toBe('120253000000000017');
    expect(value(parseId('urn:li:sponsoredCampaign:123', 'campaign ID'))).toBe('urn:li:sponsoredCampaign:123');
    expect(value(parseId('', 'campaign ID'))).toMatch(/missing/);
    expect(value(parseId('12\u00003', 'campaign ID'))).toMatch(/control character/);
    expect(value(parseId('x'.repeat(201), 'campaign ID'))).toMatch(/over 200/);
  });

  it('trims names, keeps their characters, refuses control characters and broken text', () => {
    expect(value(parseName('  Été "soldes", FR 🚀 ', 'campaign name'))).toBe('Été "soldes", FR 🚀');
    expect(value(parseName('', 'campaign name'))).toBeNull();
    expect(value(parseName('a\tb', 'campaign name'))).toMatch(/control character/);
    expect(value(parseName('a\u0085b', 'campaign name'))).toMatch(/control character/);
    expect(value(parseName('a\ud800b', 'campaign name'))).toMatch(/broken character/);
  });

  it('reads currency codes', () => {
    expect(value(parseCurrency(' eur '))).toBe('EUR');
    expect(value(parseCurrency(''))).toBeNull();
    expect(value(parseCurrency('€'))).toMatch(/not a currency code/);
  });
});
