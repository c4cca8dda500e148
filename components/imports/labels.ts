// Words for what the import core reports: platforms, levels, delimiters,
// encodings, fields. Client-safe.
import { formatNumber } from '@/lib/format/number';
import { REQUIRED_FIELDS } from '@/lib/ingest/headers';
import { IMPORT_PLATFORMS, PLATFORM_WORDS, type DetectedFormat, type ImportLevel, type ImportPlatform, type TargetField } from '@/lib/ingest/types';

export const PLATFORM_CHOICES: { value: 'detect' | ImportPlatform; label: string }[] = [
  { value: 'detect', label: 'Detect from the file' },
  ...IMPORT_PLATFORMS.map((p) => ({ value: p, label: PLATFORM_WORDS[p] })),
];

export function levelLabel(level: ImportLevel): string {
  return level === 'adset' ? 'Ad sets' : 'Campaigns';
}

export function delimiterLabel(d: string): string {
  switch (d) {
    case ',':
      return 'comma (,)';
    case ';':
      return 'semicolon (;)';
    case '\t':
      return 'tab';
    case '|':
      return 'pipe (|)';
    default:
      return JSON.stringify(d);
  }
}

export function encodingLabel(e: DetectedFormat['encoding']): string {
  return e === 'utf-8' ? 'UTF-8' : e === 'utf-16le' ? 'UTF-16 (little-endian)' : e === 'utf-16be' ? 'UTF-16 (big-endian)' : 'Windows-1252';
}

/** The product's fields as the mapping editor names them, and whether a file must have them. */
export const FIELD_INFO: Record<TargetField, { label: string; hint: string }> = {
  day: { label: 'Day', hint: 'The date of the row (one day per row).' },
  campaign_id: { label: 'Campaign ID', hint: "The platform's id of the campaign." },
  campaign_name: { label: 'Campaign name', hint: 'Optional: shown on the pages.' },
  adset_id: { label: 'Ad set ID', hint: 'Only for an ad-set export: makes the rows ad-set rows.' },
  adset_name: { label: 'Ad set name', hint: 'Optional, with the ad set ID.' },
  currency: { label: 'Currency', hint: 'Optional: checked against the tenant currency.' },
  spend: { label: 'Spend', hint: 'Amount spent.' },
  impressions: { label: 'Impressions', hint: '' },
  clicks: { label: 'Clicks', hint: '' },
  conversions: { label: 'Conversions', hint: 'Results, purchases or conversions.' },
  conversion_value: { label: 'Conversion value', hint: 'Revenue of the conversions; blank is 0.' },
};

export function plural(n: number, one: string, many: string, locale: string): string {
  return `${formatNumber(n, { locale })} ${n === 1 ? one : many}`;
}

/** Whether a file must provide the field for its rows to be stored (the core's rule). */
export function isRequiredField(f: TargetField): boolean {
  return REQUIRED_FIELDS.includes(f);
}

/** A platform as its exports name it ("Google Ads"). */
export function importPlatformLabel(p: ImportPlatform): string {
  return PLATFORM_WORDS[p];
}
