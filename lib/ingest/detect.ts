// Recognising an export from its first bytes: the encoding (lib/ingest/text.ts:
// a byte-order mark, UTF-16's NUL bytes, or the first byte that is not ASCII:
// UTF-8 or Windows-1252), the delimiter, the header line
// after any preamble (Google's report name and date range), the platform and
// language of the headers, the level, the currency a header states, and the
// number style and date order the first values show. The page calls
// detectFormat to show the mapping; the import core runs the same function on
// the head of the stream. Pure, client-safe.
import {
  HEADERS,
  REQUIRED_FIELDS,
  headerCurrency,
  matchHeaders,
  normalizeHeader,
  type HeaderField,
  type HeaderMatch,
  type Language,
} from './headers';
import { parseRecords } from './csv';
import { decodeHead, detectEncoding, UnreadableText, type Encoding } from './text';
import { CONTROL_CHARACTERS, orderOfValues, styleOfValues, type DateOrder, type NumberStyle } from './values';
import { PLATFORM_WORDS, TARGET_FIELDS, type ColumnMapping, type DetectedFormat, type ImportLevel, type ImportPlatform, type Refusal, type TargetField } from './types';

/** Bytes read before deciding the format (and all of a smaller file). */
export const SNIFF_BYTES = 64 * 1024;
/** The header is looked for among the first lines only. */
const MAX_HEADER_LINE = 30;
const DELIMITERS = [',', ';', '\t', '|'] as const;

export { detectEncoding, UnreadableText, type Encoding } from './text';

/**
 * The records of a text (the import's CSV dialect, lib/ingest/csv.ts). The
 * last record is dropped unless the text is complete: it may be cut. For
 * sniffing: a quote never closed ends the records quietly.
 */
export function splitRecords(text: string, delimiter: string, complete: boolean, max = 200): string[][] {
  return parseRecords(text, delimiter, complete, max);
}

export interface DetectOptions {
  /** The platform the buyer chose: only its headers are looked for, and it is the platform of a mapped file. */
  platform?: ImportPlatform;
  /** A mapping to apply (the buyer's, or one saved for the platform): its columns must all be in the header line. */
  mapping?: ColumnMapping;
  /** Whether the bytes are the whole file (otherwise the last, possibly cut, line is not looked at). */
  complete?: boolean;
}

/** Where each field is read from, by column index, and what decides the values' styles: the import core's plan for a file. */
export interface Layout {
  columns: Partial<Record<HeaderField, number>>;
  /** The header cell of each column, as in the file: problems name their column with it. */
  headers: string[];
  /** An ad set id column: ad set rows. */
  level: ImportLevel;
  numberStyle: NumberStyle | null;
  dateOrder: DateOrder | null;
  language: Language | null;
}

export type Detection =
  | { ok: true; format: DetectedFormat; layout: Layout }
  | { ok: false; format: DetectedFormat | null; refusal: Refusal };

const blankFormat = (encoding: Encoding): DetectedFormat => ({
  platform: null,
  format: 'unknown',
  level: 'campaign',
  delimiter: ',',
  encoding,
  preambleLines: 0,
  currency: null,
  mapping: {},
  headers: [],
  numberStyle: null,
  dateOrder: null,
  language: null,
});

/** The format of a file from its first bytes (SNIFF_BYTES are plenty), for the page to show and the core to follow. */
export function detectFormat(firstBytes: Uint8Array, opts: DetectOptions = {}): DetectedFormat {
  const d = detect(firstBytes, opts);
  return d.format ?? blankFormat(detectEncoding(firstBytes).encoding);
}

interface Candidate {
  delimiter: string;
  headerIndex: number;
  records: string[][];
  /** The dictionary that reads the line best (at least 3 headers), whichever platform. */
  top: HeaderMatch | null;
  /** The chosen platform's dictionary reading of the line (the best one when no platform was chosen). */
  match: HeaderMatch;
  /** Columns of a given mapping, when it fits this header line. */
  mapped: Partial<Record<HeaderField, number>> | null;
}

/** The full detection: the format, the layout the core reads the rows with, or why the file cannot be read. */
export function detect(firstBytes: Uint8Array, opts: DetectOptions = {}): Detection {
  let head: { text: string; encoding: Encoding; complete: boolean };
  try {
    head = decodeHead(firstBytes, opts.complete ?? firstBytes.length < SNIFF_BYTES);
  } catch (e) {
    if (e instanceof UnreadableText) return { ok: false, format: null, refusal: { code: 'unreadable', message: e.message } };
    throw e;
  }
  const { text, encoding, complete } = head;
  if (text.trim() === '') return { ok: false, format: null, refusal: { code: 'empty', message: 'The file is empty.' } };
  if (text.includes('\u0000')) {
    return { ok: false, format: null, refusal: { code: 'unreadable', message: 'The file holds NUL characters: it is not a CSV export (a spreadsheet or binary file?).' } };
  }

  const candidates: Candidate[] = [];
  for (const delimiter of DELIMITERS) {
    const records = splitRecords(text, delimiter, complete);
    for (let i = 0; i < Math.min(records.length, MAX_HEADER_LINE); i++) {
      const cells = records[i]!.map((c) => c.trim());
      if (cells.length < 2) continue;
      const matches = matchHeaders(cells);
      const top = matches[0]!;
      const own = opts.platform ? matches.find((m) => m.platform === opts.platform)! : top;
      const mapped = opts.mapping ? mappingColumns(opts.mapping, cells) : null;
      if (recognises(top) || mapped) candidates.push({ delimiter, headerIndex: i, records, top: recognises(top) ? top : null, match: own, mapped });
    }
  }

  // A mapping that fits decides; else the line most headers of one platform recognise.
  const withMapping = candidates.filter((c) => c.mapped);
  const best = withMapping.length
    ? withMapping.sort((a, b) => a.headerIndex - b.headerIndex || (b.top?.recognised ?? 0) - (a.top?.recognised ?? 0))[0]!
    : candidates.sort((a, b) => b.top!.recognised - a.top!.recognised || a.headerIndex - b.headerIndex)[0];

  if (!best) {
    const guess = guessTable(text, complete);
    const format: DetectedFormat = {
      ...blankFormat(encoding),
      delimiter: guess?.delimiter ?? ',',
      preambleLines: guess?.headerIndex ?? 0,
      headers: guess ? guess.headers : [],
      platform: opts.platform ?? null,
    };
    if (opts.mapping && guess) {
      const missing = Object.values(opts.mapping).filter((h) => !guess.headers.some((x) => sameHeader(x, h)));
      return {
        ok: false,
        format,
        refusal: { code: 'mapping', message: `The mapping names columns the file does not have: ${missing.map((m) => `“${m}”`).join(', ')}.` },
      };
    }
    return {
      ok: false,
      format,
      refusal: {
        code: 'unknown_format',
        message: guess
          ? 'The columns of this file are not those of a Meta, Google Ads, TikTok or LinkedIn export: choose the platform and map its columns.'
          : 'No header line was found in this file: is it a CSV export?',
      },
    };
  }

  const headers = best.records[best.headerIndex]!.map((c) => c.trim());
  // The dictionary of the export's platform, when the line is one (a mapped file of unknown columns has none).
  const match = recognises(best.match) ? best.match : null;
  const platform = opts.platform ?? match?.platform ?? null;
  const language = match?.language ?? null;
  const columns: Partial<Record<HeaderField, number>> = best.mapped ? { ...best.mapped } : { ...(match?.columns ?? best.match.columns) };
  if (best.mapped && match) {
    // Meta's reporting range still gives the day when the mapping names no day column.
    if (columns.day === undefined && match.columns.range_start !== undefined) columns.range_start = match.columns.range_start;
    if (columns.day === undefined && match.columns.range_end !== undefined) columns.range_end = match.columns.range_end;
  }
  if (columns.day === undefined && columns.range_start !== undefined) {
    // No day column: a report by day still says it in its range (starts = ends), checked on every row.
    columns.day = columns.range_start;
  }

  const level: ImportLevel = columns.adset_id !== undefined ? 'adset' : 'campaign';
  const mapping: ColumnMapping = {};
  for (const f of TARGET_FIELDS) if (columns[f] !== undefined) mapping[f] = headers[columns[f]!]!;

  const currencies = new Set([columns.spend, columns.conversion_value].filter((i) => i !== undefined).map((i) => headerCurrency(headers[i!]!)).filter(Boolean));
  const headerCurrencyCode = currencies.size === 1 ? [...currencies][0]! : null;

  const dataRecords = best.records.slice(best.headerIndex + 1);
  const numericCells = (['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] as const)
    .map((f) => columns[f])
    .filter((i): i is number => i !== undefined)
    .flatMap((i) => dataRecords.map((r) => r[i] ?? ''));
  const dayCells = columns.day !== undefined ? dataRecords.map((r) => r[columns.day!] ?? '') : [];
  const numberStyle = styleOfValues(numericCells) ?? styleHint(language, best.delimiter, match !== null);
  const dateOrder = orderOfValues(dayCells) ?? orderHint(platform, language);

  const format: DetectedFormat = {
    platform,
    format: formatName(match ? match.platform : 'mapped', language, encoding),
    level,
    delimiter: best.delimiter,
    encoding,
    preambleLines: best.headerIndex,
    currency: headerCurrencyCode,
    mapping,
    headers,
    numberStyle,
    dateOrder,
    language,
  };
  const layout: Layout = { columns, headers, level, numberStyle, dateOrder, language };

  if (currencies.size > 1) {
    return { ok: false, format, refusal: { code: 'currency', message: `The columns state different currencies (${[...currencies].join(', ')}).` } };
  }
  const top = best.top;
  if (opts.platform && top && top.platform !== opts.platform && top.recognised > best.match.recognised && !best.mapped) {
    return {
      ok: false,
      format: { ...format, platform: top.platform },
      refusal: { code: 'mapping', message: `This is a ${PLATFORM_WORDS[top.platform]} export, not ${PLATFORM_WORDS[opts.platform]}: choose its platform.` },
    };
  }
  if (!best.mapped && match && opts.platform === undefined) {
    // Two platforms reading the line equally well: the buyer says which.
    const rival = matchHeaders(headers).find((m) => m.platform !== match.platform && m.recognised === match.recognised);
    if (rival) {
      return {
        ok: false,
        format: { ...format, platform: null },
        refusal: {
          code: 'unknown_format',
          message: `The headers fit both ${PLATFORM_WORDS[match.platform]} and ${PLATFORM_WORDS[rival.platform]} exports: choose the platform.`,
        },
      };
    }
  }
  if (!platform) {
    return { ok: false, format, refusal: { code: 'mapping', message: 'Choose the platform this file comes from.' } };
  }
  const adColumn = match?.adLevelColumn ?? null;
  if (adColumn !== null) {
    return {
      ok: false,
      format,
      refusal: {
        code: 'mapping',
        message: `This export is by ad (column “${headers[adColumn]}”): the product stores campaigns and ad sets. Export by campaign or by ad set.`,
      },
    };
  }
  if (columns.adset_name !== undefined && columns.adset_id === undefined) {
    return {
      ok: false,
      format,
      refusal: {
        code: 'mapping',
        message: `The file has ad sets (column “${headers[columns.adset_name]}”) but no ad set ID column: add the ID to the export, or map it.`,
      },
    };
  }
  const missing = REQUIRED_FIELDS.filter((f) => columns[f] === undefined);
  if (missing.length) {
    return {
      ok: false,
      format,
      refusal: {
        code: 'mapping',
        message: `The file has no column for ${missing.map(fieldLabel).join(', ')}${best.mapped ? ': map one' : ': add it to the export, or map it'}.`,
      },
    };
  }
  return { ok: true, format, layout };
}

/**
 * Whether a dictionary reads a line as its platform's export: most of the
 * fields a row needs (an export short of one column is still recognised, and
 * told what it lacks), not merely a few common words such as Date or Clicks.
 */
function recognises(m: HeaderMatch): boolean {
  return m.recognised >= 3 && REQUIRED_FIELDS.filter((f) => m.columns[f] !== undefined).length >= REQUIRED_FIELDS.length - 2;
}

/** The columns a mapping names, when every one of them is a header of the line. */
function mappingColumns(mapping: ColumnMapping, cells: string[]): Partial<Record<HeaderField, number>> | null {
  const entries = Object.entries(mapping).filter(([, h]) => typeof h === 'string' && h.trim() !== '') as [TargetField, string][];
  if (entries.length === 0) return null;
  const out: Partial<Record<HeaderField, number>> = {};
  for (const [field, header] of entries) {
    let i = cells.indexOf(header.trim());
    if (i === -1) i = cells.findIndex((c) => sameHeader(c, header));
    if (i === -1) return null;
    out[field] = i;
  }
  return out;
}

function sameHeader(a: string, b: string): boolean {
  return a.trim() === b.trim() || (normalizeHeader(a) === normalizeHeader(b) && headerCurrency(a) === headerCurrency(b));
}

/** Without any known header: the delimiter that splits the lines most evenly, and the first line of that width. */
function guessTable(text: string, complete: boolean): { delimiter: string; headerIndex: number; headers: string[] } | null {
  let best: { delimiter: string; headerIndex: number; headers: string[]; score: number } | null = null;
  for (const delimiter of DELIMITERS) {
    const records = splitRecords(text, delimiter, complete, 60);
    const widths = new Map<number, number>();
    for (const r of records) if (r.length >= 2) widths.set(r.length, (widths.get(r.length) ?? 0) + 1);
    const top = [...widths.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0];
    if (!top) continue;
    const [width, lines] = top;
    const headerIndex = records.findIndex((r) => r.length === width);
    const headers = records[headerIndex]!.map((c) => c.trim());
    if (headers.some((h) => CONTROL_CHARACTERS.test(h))) continue;
    const score = lines * 10 + width;
    if (!best || score > best.score) best = { delimiter, headerIndex, headers, score };
  }
  return best ? { delimiter: best.delimiter, headerIndex: best.headerIndex, headers: best.headers } : null;
}

/** The style the export's language writes (platform exports in French and German write 1 234,56), or a semicolon file's. */
function styleHint(language: Language | null, delimiter: string, recognised: boolean): NumberStyle | null {
  if (language === 'fr' || language === 'de') return 'comma';
  if (delimiter === ';') return 'comma';
  if (recognised && language === 'en') return 'dot';
  return null;
}

/** LinkedIn writes M/D/YYYY; French and German exports D/M/YYYY (or D.M.YYYY); the others ISO days. */
function orderHint(platform: ImportPlatform | null, language: Language | null): DateOrder | null {
  if (language === 'fr' || language === 'de') return 'dmy';
  if (platform === 'linkedin' && language === 'en') return 'mdy';
  return null;
}

function formatName(platform: ImportPlatform | 'mapped' | null, language: Language | null, encoding: Encoding): string {
  if (platform === null) return 'unknown';
  const base = platform === 'mapped' ? 'mapped' : language && language !== 'en' ? `${platform}-${language}` : platform;
  return encoding === 'utf-16le' || encoding === 'utf-16be' ? `${base}-utf16` : base;
}

// The platforms' names in messages: in types.ts, which client code may import (this module reads CSV with csv-parse, a Node stream).
export { PLATFORM_WORDS } from './types';

const FIELD_WORDS: Record<TargetField, string> = {
  day: 'the day',
  campaign_id: 'the campaign ID',
  campaign_name: 'the campaign name',
  adset_id: 'the ad set ID',
  adset_name: 'the ad set name',
  currency: 'the currency',
  spend: 'spend',
  impressions: 'impressions',
  clicks: 'clicks',
  conversions: 'conversions',
  conversion_value: 'conversion value',
};

export function fieldLabel(f: TargetField): string {
  return FIELD_WORDS[f];
}

/** Every header each platform's export may carry, by language (for the documentation and the tests). */
export function knownHeaders(platform: ImportPlatform, language: Language): Partial<Record<HeaderField, readonly string[]>> {
  return HEADERS[platform][language].fields;
}
