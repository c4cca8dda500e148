// How instants and days are written on the pages and checked in input. Pure,
// shared by server and client components. Instants are shown in UTC, labelled
// as such, until pages show them in the tenant's time zone.

/** A calendar day as the database and the URL carry it: 'YYYY-MM-DD'. */
export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export function isDayString(v: unknown): v is string {
  return typeof v === 'string' && DAY_PATTERN.test(v);
}

/** An ISO instant (or Date) as 'YYYY-MM-DD HH:MM[:SS] UTC'. */
export function formatUtc(instant: string | Date, precision: 'minutes' | 'seconds' = 'seconds'): string {
  const iso = typeof instant === 'string' ? instant : instant.toISOString();
  return `${iso.replace('T', ' ').slice(0, precision === 'seconds' ? 19 : 16)} UTC`;
}

/** The day part of an ISO instant or day. */
export function formatDay(iso: string): string {
  return iso.slice(0, 10);
}

const zoned = new Map<string, Intl.DateTimeFormat>();

/**
 * An instant in the tenant's time zone and locale, with the zone named ("1 Dec, 18:51 CET"): the same text on
 * server and client. An unknown zone or locale falls back to UTC and en-GB rather than the host's defaults.
 */
export function formatInZone(instant: string | Date, timeZone: string, locale: string): string {
  const key = `${locale}|${timeZone}`;
  let f = zoned.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
    try {
      f = new Intl.DateTimeFormat(Intl.DateTimeFormat.supportedLocalesOf([locale]).length ? locale : 'en-GB', { ...opts, timeZone });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', { ...opts, timeZone: 'UTC' });
    }
    zoned.set(key, f);
  }
  const d = typeof instant === 'string' ? new Date(instant) : instant;
  return Number.isFinite(d.getTime()) ? f.format(d) : '—';
}
