// The benchmark suite's tables: every figure with its floor, their ratio and
// its target, as markdown that pastes into a README. Pure: no I/O.

export type Unit = 'ms' | 's' | 'req/s' | 'tenants/s' | 'kB' | 'count' | 'x';

export interface Target {
  /** As printed, e.g. "< 50 ms" or "<= 5x floor". */
  text: string;
  met: boolean;
}

export interface Figure {
  section: string;
  name: string;
  value: number;
  unit: Unit;
  /** Key of the floor's description in the legend, and its value in the figure's unit. */
  floor?: { key: string; value: number };
  target?: Target;
  note?: string;
}

/** value / floor, when there is a positive floor. */
export const ratioOf = (f: Figure): number | null => (f.floor && f.floor.value > 0 ? f.value / f.floor.value : null);

/** A number the way the tables print it: 3 significant figures at most below 1,000, thousands separated above. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a > 0 ? 3 : 0;
  return x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatValue(x: number, unit: Unit): string {
  if (unit === 'count') return Math.round(x).toLocaleString('en');
  if (unit === 'x') return `${formatNumber(x)}x`;
  return `${formatNumber(x)} ${unit}`;
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A markdown table; align 'r' right-aligns a column. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[] = []): string {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rule = headers.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n');
}

/** The one table: figure, value, floor, ratio, target. */
export function figuresTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => {
    const ratio = ratioOf(f);
    const name = f.note ? `${f.name} (${f.note})` : f.name;
    return [
      f.section,
      name,
      formatValue(f.value, f.unit),
      f.floor ? `${f.floor.key}: ${formatValue(f.floor.value, f.unit)}` : '',
      ratio === null ? '' : `${formatNumber(ratio)}x`,
      f.target ? `${f.target.text}: ${f.target.met ? 'met' : '**not met**'}` : '',
    ];
  });
  return markdownTable(['', 'figure', 'value', 'floor', 'ratio', 'target'], rows, ['l', 'l', 'r', 'r', 'r', 'l']);
}

/** The floors' legend under the table: "F1: ...". */
export function floorLegend(floors: Readonly<Record<string, string>>): string {
  return Object.entries(floors)
    .map(([k, text]) => `- ${k}: ${text}`)
    .join('\n');
}

/** Least-squares line through (x, y): the slope and intercept, and the largest relative distance of a point from it. */
export function linearFit(points: readonly { x: number; y: number }[]): { slope: number; intercept: number; maxDeviation: number } | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
  const intercept = my - slope * mx;
  const maxDeviation = Math.max(...points.map((p) => (p.y === 0 ? 0 : Math.abs(p.y - (intercept + slope * p.x)) / Math.abs(p.y))));
  return { slope, intercept, maxDeviation };
}

/** What the largest worker count shows against the number of cores. */
export function workersReading(runs: readonly { workers: number; tenants_per_s: number }[], cpus: number): string {
  const atCores = runs.filter((r) => r.workers <= cpus).at(-1);
  const top = runs.at(-1);
  if (!atCores || !top || top.workers <= cpus) return '';
  const gain = top.tenants_per_s / atCores.tenants_per_s;
  return gain > 1.1
    ? `${top.workers} workers on ${cpus} cores went ${formatNumber(gain)}x faster than ${atCores.workers}: the cores were shared with other work, of which more connections take a larger share, and round trips overlap; alone on the machine the loop cannot pass ${cpus} cores' worth.`
    : `${top.workers} workers on ${cpus} cores are no faster than ${atCores.workers} (${formatNumber(gain)}x): the loop's work is the server's CPU, and past ${cpus} workers it only queues for it.`;
}

/** A timestamp usable in a file name, in UTC: 2026-12-02T01-05-09Z. */
export const fileStamp = (d: Date) => `${d.toISOString().slice(0, 19).replace(/:/g, '-')}Z`;
