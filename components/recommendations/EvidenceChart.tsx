'use client';
// The small chart inside a recommendation's Evidence: the metric its rule
// tested, each day (dots) and over the 7 days ending each day (the line: the
// ratio of sums the engine tests), the baseline its line comes from (dashed)
// and the line itself (labelled), the days it was decided on shaded. Timing is
// tested on a 28-day weekday pattern, so it is CPA by weekday instead. The
// caption says the test in words and a visually hidden table holds the
// numbers; the picture itself is hidden from screen readers (its ticks alone
// would be noise). The chart mounts only once its disclosure is open: a page
// of the queue holds up to 100 of them.
import { useCallback, useId, useRef, useSyncExternalStore, type RefObject } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  Line,
  ReferenceArea,
  ReferenceDot,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type DotItemDotProps,
} from 'recharts';
import { formatCalendarDay, formatMetric, formatMoney, formatNumber, knownLocale, type NumberStyle } from '@/lib/format/number';
import { METRIC_INFO } from '@/lib/performance/metrics';
import type { ChartMetric, DailyPoint, DailySpec, EvidenceChartData, WeekdaySpec } from '@/lib/recommendations/evidence-series';
import styles from './EvidenceChart.module.css';

// The colours of app/globals.css (SVG presentation attributes take no CSS variables everywhere).
const ACCENT = '#1f5fd6';
const MUTED = '#5b6470';
const BORDER = '#d9dee5';
const DANGER = '#b42318';
const OK = '#067647';

const HEIGHT = 170;
const TICK = { fontSize: 11, fill: MUTED };

/** What the divisor of each metric counts: a day where it was 0 has no value. */
const DIVISOR: Readonly<Record<ChartMetric, string>> = { cpa: 'conversions', roas: 'spend', cpc: 'clicks', ctr: 'impressions', cpm: 'impressions' };

/** Whether the <details> around el is open (true outside one); false on the server and before mounting. */
function useDisclosureOpen(ref: RefObject<HTMLElement | null>): boolean {
  // 'toggle' does not bubble: listen on the disclosure itself.
  const subscribe = useCallback(
    (onChange: () => void) => {
      const details = ref.current?.closest('details');
      details?.addEventListener('toggle', onChange);
      return () => details?.removeEventListener('toggle', onChange);
    },
    [ref],
  );
  const read = useCallback(() => {
    const el = ref.current;
    if (!el) return false;
    const details = el.closest('details');
    return details ? details.open : true;
  }, [ref]);
  return useSyncExternalStore(subscribe, read, () => false);
}

/**
 * The top of the scale: room for the line, the baseline, the tested value and the window's rolling
 * values, and for the rest up to 1.6 x that; a day beyond is drawn on the top edge as an open mark
 * (its number is in the table), so one freak day does not flatten the picture.
 */
function scaleTop(spec: DailySpec, points: DailyPoint[]): number {
  const inWindow = points.filter((p) => p.day >= spec.window.from && p.day <= spec.window.to);
  const core = Math.max(spec.threshold.value, spec.baseline?.value ?? 0, spec.tested ?? 0, ...inWindow.map((p) => p.rolling ?? 0));
  const all = Math.max(0, ...points.flatMap((p) => [p.value ?? 0, p.rolling ?? 0]));
  return Math.max(core * 1.15, Math.min(all * 1.05, core * 1.6));
}

interface PlotRow {
  i: number;
  day: string;
  /** The value drawn: clamped to the top; an infinite one (spent, no conversion) on it. */
  shown: number | null;
  off: boolean;
  /** The faint line joining the days, broken at the days drawn off the scale. */
  joined: number | null;
  rolling: number | null;
  point: DailyPoint;
}

function DailyTooltip({ row, spec, style }: { row: PlotRow | undefined; spec: DailySpec; style: NumberStyle }) {
  if (!row) return null;
  const p = row.point;
  const info = METRIC_INFO[spec.metric];
  return (
    <div className={styles.tooltip}>
      <p>
        <strong>{formatCalendarDay(p.day, style.locale, { weekday: true, year: false })}</strong>
      </p>
      <p>
        {info.label}: {cellText(spec.metric, p.value, p.unbounded, p.delivered, style)}
      </p>
      <p>
        7 days: {cellText(spec.metric, p.rolling, p.rollingUnbounded, true, style)}
      </p>
    </div>
  );
}

function cellText(metric: ChartMetric, v: number | null, unbounded: boolean, delivered: boolean, style: NumberStyle): string {
  if (v !== null) return formatMetric(metric, v, style);
  if (unbounded) return `no ${DIVISOR[metric]}`;
  return delivered ? '—' : 'no delivery';
}

function DailyChart({ spec, points, style }: { spec: DailySpec; points: DailyPoint[]; style: NumberStyle }) {
  const id = useId();
  const ref = useRef<HTMLElement>(null);
  const open = useDisclosureOpen(ref);
  const info = METRIC_INFO[spec.metric];
  const fmt = (v: number) => formatMetric(spec.metric, v, style);
  const fmtDay = (d: string | undefined) => (d ? formatCalendarDay(d, style.locale, { year: false }) : '');
  const lineColour = spec.favourable ? OK : DANGER;

  const top = scaleTop(spec, points);
  const rows: PlotRow[] = points.map((p, i) => {
    const off = p.unbounded || (p.value !== null && p.value > top);
    return {
      i,
      day: p.day,
      shown: p.value === null ? (p.unbounded ? top : null) : Math.min(p.value, top),
      off,
      joined: off ? null : p.value,
      rolling: p.rolling === null ? null : Math.min(p.rolling, top),
      point: p,
    };
  });
  const fromIdx = Math.max(0, points.findIndex((p) => p.day === spec.window.from));
  const toIdx = Math.max(fromIdx, points.findIndex((p) => p.day === spec.window.to));
  const windowDays = toIdx - fromIdx + 1;
  // the chart's first day, two more a week apart, and the window's ends (none crowding the window's first)
  const ticks = [...[0, 7, 14].filter((t) => fromIdx - t >= 4), fromIdx, toIdx];
  const anyOff = rows.some((r) => r.off);

  const tested =
    spec.tested !== null ? fmt(spec.tested) : spec.metric === 'cpa' ? 'infinite (no conversion)' : 'without a value';
  const caption =
    `${spec.testedLabel} ${tested}, tested against ${fmt(spec.threshold.value)} (${spec.threshold.label})` +
    `${spec.baseline ? `; ${spec.baseline.label}: ${fmt(spec.baseline.value)}` : ''}. ` +
    `Shaded: the ${windowDays} days to ${formatCalendarDay(spec.window.to, style.locale)} it was decided on.`;

  const dot = (props: DotItemDotProps) => {
    const { cx, cy, index } = props;
    const row = rows[index];
    if (cx === undefined || cy === undefined || !row || row.shown === null) return <g key={index} />;
    return row.off ? (
      // an open triangle on the top edge: beyond the scale, or infinite
      <path key={index} d={`M${cx - 3.5},${cy + 3} L${cx + 3.5},${cy + 3} L${cx},${cy - 3} Z`} fill="#ffffff" stroke={MUTED} strokeWidth={1.2} />
    ) : (
      <circle key={index} cx={cx} cy={cy} r={2.2} fill={MUTED} />
    );
  };

  return (
    <figure className={styles.chart} ref={ref} aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} className={styles.caption}>
        {caption}
        {spec.note ? <span className={styles.note}>{spec.note}</span> : null}
      </figcaption>
      <div className={styles.plot} aria-hidden="true">
        {open ? (
          <ResponsiveContainer width="100%" height={HEIGHT} minWidth={0}>
            {/* the right margin leaves room for the last day's tick, centred on it */}
            <ComposedChart data={rows} margin={{ top: 16, right: 16, bottom: 0, left: 0 }} accessibilityLayer={false}>
              <CartesianGrid stroke={BORDER} strokeDasharray="3 3" vertical={false} />
              <XAxis
                dataKey="i"
                type="number"
                domain={[-0.5, points.length - 0.5]}
                ticks={ticks}
                interval={0}
                tickFormatter={(i: number) => fmtDay(points[i]?.day)}
                tick={TICK}
                tickLine={false}
                axisLine={{ stroke: BORDER }}
              />
              <YAxis
                width="auto"
                domain={[0, 'auto']}
                tickCount={4}
                tickFormatter={(v: number) => formatMetric(spec.metric, v, style, true)}
                tick={TICK}
                tickLine={false}
                axisLine={false}
              />
              <ReferenceArea x1={fromIdx - 0.5} x2={toIdx + 0.5} fill={ACCENT} fillOpacity={0.1} stroke="none" />
              {spec.baseline ? <ReferenceLine y={spec.baseline.value} stroke={MUTED} strokeDasharray="4 3" /> : null}
              <ReferenceLine
                y={spec.threshold.value}
                stroke={lineColour}
                strokeWidth={1.5}
                label={{
                  value: spec.threshold.label,
                  position: spec.threshold.value > 0.8 * top ? 'insideBottomLeft' : 'insideTopLeft',
                  fontSize: 11,
                  fill: lineColour,
                }}
              />
              <Line dataKey="joined" type="linear" stroke={MUTED} strokeOpacity={0.3} strokeWidth={1} dot={false} activeDot={false} isAnimationActive={false} />
              <Line dataKey="shown" type="linear" stroke="none" dot={dot} activeDot={false} isAnimationActive={false} />
              <Line dataKey="rolling" type="linear" stroke={ACCENT} strokeWidth={2} dot={false} isAnimationActive={false} />
              {spec.tested !== null ? (
                <ReferenceDot x={toIdx} y={Math.min(spec.tested, top)} r={4} fill="#ffffff" stroke={lineColour} strokeWidth={2} />
              ) : null}
              <Tooltip
                content={(props) => <DailyTooltip row={typeof props.label === 'number' ? rows[props.label] : undefined} spec={spec} style={style} />}
                cursor={{ stroke: MUTED, strokeWidth: 1 }}
                isAnimationActive={false}
              />
            </ComposedChart>
          </ResponsiveContainer>
        ) : null}
      </div>
      <ul className={styles.legend} aria-hidden="true">
        <li>
          <span className={`${styles.swatch} ${styles.dot}`} style={{ color: MUTED }} />
          {info.label} each day
        </li>
        <li>
          <span className={styles.swatch} style={{ color: ACCENT }} />
          7-day {info.label}
        </li>
        {spec.baseline ? (
          <li>
            <span className={`${styles.swatch} ${styles.dashed}`} style={{ color: MUTED }} />
            {spec.baseline.label}
          </li>
        ) : null}
        <li>
          <span className={styles.swatch} style={{ color: lineColour }} />
          {spec.threshold.label}
        </li>
        {spec.tested !== null ? (
          <li>
            <span className={`${styles.swatch} ${styles.ring}`} style={{ color: lineColour }} />
            value decided on
          </li>
        ) : null}
        {anyOff ? <li>△ off the scale or no {DIVISOR[spec.metric]}: see the numbers</li> : null}
      </ul>
      <div className="visually-hidden">
        <table>
        <caption>
          {info.label} by day, {formatCalendarDay(points[0]?.day ?? spec.window.to, style.locale)} to {formatCalendarDay(spec.window.to, style.locale)}
        </caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">{info.label} that day</th>
            <th scope="col">{info.label}, the 7 days to that day</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p, i) => (
            <tr key={p.day}>
              <th scope="row">
                {formatCalendarDay(p.day, style.locale)}
                {i >= fromIdx && i <= toIdx ? ' (decided on)' : ''}
              </th>
              <td>{cellText(spec.metric, p.value, p.unbounded, p.delivered, style)}</td>
              <td>{cellText(spec.metric, p.rolling, p.rollingUnbounded, true, style)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}

/** Weekday names in the tenant's locale (1970-01-05 was a Monday). */
function weekdayName(isodow: number, locale: string, width: 'short' | 'long'): string {
  return new Intl.DateTimeFormat(knownLocale(locale), { weekday: width, timeZone: 'UTC' }).format(Date.UTC(1970, 0, 4 + isodow));
}

function WeekdayChart({ spec, style }: { spec: WeekdaySpec; style: NumberStyle }) {
  const id = useId();
  const ref = useRef<HTMLElement>(null);
  const open = useDisclosureOpen(ref);
  const fmt = (v: number) => formatMoney(v, style);
  // seven sums over 28 days, not single days: no freak values to clip
  const top = Math.max(spec.threshold.value * 1.15, spec.baseline.value * 1.15, ...spec.bars.map((b) => (b.cpa ?? 0) * 1.05));
  // a weekday without a conversion has an infinite CPA: its bar reaches the top, drawn faint
  const rows = spec.bars.map((b) => ({ ...b, name: weekdayName(b.isodow, style.locale, 'short'), shown: b.cpa ?? top }));
  const weak = spec.bars.filter((b) => b.weak).map((b) => weekdayName(b.isodow, style.locale, 'long'));
  const caption =
    `CPA by weekday over the 28 days to ${formatCalendarDay(spec.window.to, style.locale)}: ` +
    `${weak.length > 0 ? weak.join(', ') : 'no weekday'} at or above ${fmt(spec.threshold.value)} (${spec.threshold.label}, ` +
    `converting at 0.6 × the average or less); ${spec.baseline.label}: ${fmt(spec.baseline.value)}.`;
  return (
    <figure className={styles.chart} ref={ref} aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} className={styles.caption}>
        {caption}
      </figcaption>
      <div className={styles.plot} aria-hidden="true">
        {open ? (
          <ResponsiveContainer width="100%" height={HEIGHT} minWidth={0}>
            <BarChart data={rows} margin={{ top: 16, right: 8, bottom: 0, left: 0 }} accessibilityLayer={false}>
              <CartesianGrid stroke={BORDER} strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="name" tick={TICK} tickLine={false} axisLine={{ stroke: BORDER }} interval={0} />
              <YAxis width="auto" domain={[0, 'auto']} tickCount={4} tickFormatter={(v: number) => formatMoney(v, style, { compact: true })} tick={TICK} tickLine={false} axisLine={false} />
              <Bar dataKey="shown" isAnimationActive={false}>
                {rows.map((r) => (
                  <Cell key={r.isodow} fill={r.weak ? DANGER : ACCENT} fillOpacity={r.cpa === null ? 0.35 : 0.75} />
                ))}
              </Bar>
              <ReferenceLine y={spec.baseline.value} stroke={MUTED} strokeDasharray="4 3" />
              <ReferenceLine
                y={spec.threshold.value}
                stroke={DANGER}
                strokeWidth={1.5}
                label={{ value: spec.threshold.label, position: spec.threshold.value > 0.8 * top ? 'insideBottomLeft' : 'insideTopLeft', fontSize: 11, fill: DANGER }}
              />
            </BarChart>
          </ResponsiveContainer>
        ) : null}
      </div>
      <ul className={styles.legend} aria-hidden="true">
        <li>
          <span className={`${styles.swatch} ${styles.shade}`} style={{ background: DANGER, opacity: 0.75 }} />
          weak weekday
        </li>
        <li>
          <span className={`${styles.swatch} ${styles.dashed}`} style={{ color: MUTED }} />
          {spec.baseline.label}
        </li>
        <li>
          <span className={styles.swatch} style={{ color: DANGER }} />
          {spec.threshold.label}
        </li>
      </ul>
      <div className="visually-hidden">
        <table>
        <caption>Spend, conversions and CPA by weekday, 28 days</caption>
        <thead>
          <tr>
            <th scope="col">Weekday</th>
            <th scope="col">Spend</th>
            <th scope="col">Conversions</th>
            <th scope="col">CPA</th>
          </tr>
        </thead>
        <tbody>
          {spec.bars.map((b) => (
            <tr key={b.isodow}>
              <th scope="row">
                {weekdayName(b.isodow, style.locale, 'long')}
                {b.weak ? ' (weak)' : ''}
              </th>
              <td>{formatMoney(b.spend, style)}</td>
              <td>{formatNumber(b.conversions, style, Number.isInteger(b.conversions) ? 0 : 1)}</td>
              <td>{b.cpa !== null ? fmt(b.cpa) : 'no conversions'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}

export function EvidenceChart({ chart, style }: { chart: EvidenceChartData; style: NumberStyle }) {
  const { spec } = chart;
  if (spec.kind === 'daily') return <DailyChart spec={spec} points={chart.points} style={style} />;
  if (spec.kind === 'weekday') return <WeekdayChart spec={spec} style={style} />;
  return <p className={styles.noChart}>{spec.reason}</p>;
}
