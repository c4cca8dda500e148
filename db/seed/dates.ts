// Calendar days as integers (days since 1970-01-01, UTC), and the demo's
// history: HISTORY_DAYS days ending yesterday, indexed 0 .. LAST.

/** Days of history, ending yesterday. */
export const HISTORY_DAYS = 120;
/** Index of the last day of history (yesterday). */
export const LAST = HISTORY_DAYS - 1;

const DAY_MS = 86_400_000;

export function parseDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`invalid day '${day}': expected YYYY-MM-DD`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(ms).toISOString().slice(0, 10);
  if (back !== day) throw new Error(`invalid day '${day}'`);
  return ms / DAY_MS;
}

export function formatDay(epochDay: number): string {
  return new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
}

export function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/** 0 = Sunday, like Date.getUTCDay(). 1970-01-01 was a Thursday. */
export function weekdayOf(epochDay: number): number {
  return (((epochDay + 4) % 7) + 7) % 7;
}
