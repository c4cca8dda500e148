'use client';
// The lift of B over A over time, one point per look (the test read at the end of each day): the
// lift line, the always-valid 95 % interval as a shaded band (it decides), the fixed-horizon 95 %
// interval dashed and lighter, the zero line, the minimum detectable effect faint at ± it, and the
// day the winner latched. Looks before the minimum sample are drawn grey under a "not enough data
// yet" shade. The caption says it in words and a visually hidden table holds every number; the
// picture itself is hidden from screen readers.
import { useId } from 'react';
import { Area, CartesianGrid, ComposedChart, Line, ReferenceArea, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { DecisionStatus } from '@/lib/abtests/stats';
import { chanceText, intervalText, signedPercent, type ChartPoint, type LiftChartData } from '@/lib/abtests/view';
import { formatCalendarDay } from '@/lib/format/number';
import styles from './abtests.module.css';

// The colours of app/globals.css (SVG presentation attributes take no CSS variables everywhere).
const ACCENT = '#1f5fd6';
const MUTED = '#5b6470';
const BORDER = '#d9dee5';
const OK = '#067647';
const FG = '#1b1f24';
const GREY = '#9aa3ae';
const TICK = { fontSize: 11, fill: MUTED };

const DECISION_WORDS: Readonly<Record<DecisionStatus, string>> = {
  not_computable: 'not computable',
  check_split: 'split off plan',
  not_enough_data: 'not enough data yet',
  winner_a: 'A wins',
  winner_b: 'B wins',
  no_winner_yet: 'no winner yet',
};

const pct = (x: number | null) => (x === null ? null : x * 100);
const band = (lo: number | null, hi: number | null): [number, number] | null => (lo !== null && hi !== null ? [lo * 100, hi * 100] : null);

interface PlotRow {
  day: string;
  /** The lift (percent) on looks that could decide, and on the grey looks before them; a shared point joins the two. */
  lift: number | null;
  liftEarly: number | null;
  seq: [number, number] | null;
  seqEarly: [number, number] | null;
  fixedLow: number | null;
  fixedHigh: number | null;
  point: ChartPoint;
}

/**
 * The scale: every lift, ± the MDE and zero, and the always-valid intervals of the looks that could
 * decide (and of the last look), padded; the wide intervals of the first days are cut at its edge
 * (their numbers are in the table), so they do not flatten the rest. A lift is never below −100 %.
 */
function scale(points: ChartPoint[], mde: number): [number, number] {
  const last = points[points.length - 1];
  const core = [0, mde * 100, -mde * 100];
  for (const p of points) {
    if (p.lift !== null) core.push(p.lift * 100);
    if ((p.eligible || p === last) && p.seqLower !== null && p.seqUpper !== null) core.push(p.seqLower * 100, p.seqUpper * 100);
  }
  let lo = Math.min(...core);
  let hi = Math.max(...core);
  const pad = Math.max(2, 0.08 * (hi - lo));
  lo = Math.max(-100, lo - pad);
  hi = hi + pad;
  const step = hi - lo > 60 ? 10 : 5;
  return [Math.max(-100, Math.floor(lo / step) * step), Math.ceil(hi / step) * step];
}

function ChartTooltip({ row, locale }: { row: PlotRow | undefined; locale: string }) {
  if (!row) return null;
  const p = row.point;
  return (
    <div className={styles.tooltip}>
      <p>
        <strong>{formatCalendarDay(p.day, locale, { weekday: true })}</strong>
      </p>
      <p>Lift: {signedPercent(p.lift, locale)}</p>
      <p>Always-valid: {intervalText(p.seqLower, p.seqUpper, locale)}</p>
      <p>Fixed-horizon: {intervalText(p.lower, p.upper, locale)}</p>
      <p>{DECISION_WORDS[p.decision]}</p>
    </div>
  );
}

export function LiftChart({ chart }: { chart: LiftChartData }) {
  const id = useId();
  const { points, locale } = chart;
  const drawable = points.filter((p) => p.lift !== null);
  if (drawable.length === 0) {
    return (
      <div className={`empty-state ${styles.noChart}`} role="status">
        {chart.emptyText}
      </div>
    );
  }
  const day = (d: string) => formatCalendarDay(d, locale, { year: false });
  const rows: PlotRow[] = points.map((p, i) => {
    const early = !p.eligible;
    // a grey look joins the coloured line at the boundary with its neighbour
    const joins = early || (i > 0 && !points[i - 1]!.eligible) || (i + 1 < points.length && !points[i + 1]!.eligible);
    return {
      day: p.day,
      lift: p.eligible ? pct(p.lift) : null,
      liftEarly: joins ? pct(p.lift) : null,
      seq: p.eligible ? band(p.seqLower, p.seqUpper) : null,
      seqEarly: joins ? band(p.seqLower, p.seqUpper) : null,
      fixedLow: pct(p.lower),
      fixedHigh: pct(p.upper),
      point: p,
    };
  });
  const [lo, hi] = scale(points, chart.mde);
  const mde = chart.mde * 100;
  // Runs of looks that could not decide yet because the minimum sample was not in: shaded grey.
  const earlyRuns: { from: string; to: string }[] = [];
  for (const p of points) {
    if (p.decision !== 'not_enough_data') continue;
    const run = earlyRuns[earlyRuns.length - 1];
    const prev = points[points.indexOf(p) - 1];
    if (run && prev && prev.decision === 'not_enough_data') run.to = p.day;
    else earlyRuns.push({ from: p.day, to: p.day });
  }
  const winner = chart.winnerDay ? points.find((p) => p.day === chart.winnerDay) : undefined;
  const few = points.length <= 3;
  const first = points[0]!.day;
  const last = points[points.length - 1]!.day;
  const clipped = points.some((p) => (p.seqLower !== null && p.seqLower * 100 < lo) || (p.seqUpper !== null && p.seqUpper * 100 > hi));
  const latest = points[points.length - 1]!;
  const blocked = points.some((p) => !p.eligible && p.decision !== 'not_enough_data');

  const caption =
    `Lift of B over A on ${chart.metricLabel}, read at the end of each day from ${formatCalendarDay(first, locale)} to ${formatCalendarDay(last, locale)}` +
    `: ${signedPercent(latest.lift, locale)} on the last day, always-valid 95 % interval ${intervalText(latest.seqLower, latest.seqUpper, locale)}. ` +
    `The shaded band is the always-valid interval, which decides once it leaves zero; dashed, the fixed-horizon interval; dotted, ± the ${Math.round(mde * 10) / 10} % minimum detectable effect.` +
    (winner && chart.winnerArm ? ` ${chart.winnerArm} was latched as the winner on ${formatCalendarDay(winner.day, locale)}.` : '') +
    (earlyRuns.length ? ' Grey: days before the minimum sample (not enough data yet).' : '');

  return (
    <figure className={styles.chart} aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} className={styles.caption}>
        {caption}
      </figcaption>
      <div className={styles.plot} aria-hidden="true">
        <ResponsiveContainer width="100%" height={260} minWidth={0}>
          <ComposedChart data={rows} margin={{ top: 18, right: 14, bottom: 0, left: 0 }} accessibilityLayer={false}>
            <CartesianGrid stroke={BORDER} strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" tickFormatter={day} tick={TICK} minTickGap={28} tickLine={false} axisLine={{ stroke: BORDER }} />
            <YAxis
              width="auto"
              domain={[lo, hi]}
              allowDataOverflow
              tickCount={5}
              tickFormatter={(v: number) => signedPercent(v / 100, locale).replace(/([.,]0)(?= %)/, '')}
              tick={TICK}
              tickLine={false}
              axisLine={false}
            />
            {earlyRuns.map((r, i) => (
              <ReferenceArea
                key={r.from}
                x1={r.from}
                x2={r.to}
                fill={GREY}
                fillOpacity={0.14}
                stroke="none"
                ifOverflow="hidden"
                label={i === 0 ? { value: 'not enough data yet', position: 'insideTopLeft', fontSize: 11, fill: MUTED } : undefined}
              />
            ))}
            <ReferenceLine y={mde} stroke={MUTED} strokeOpacity={0.5} strokeDasharray="1 3" ifOverflow="hidden" />
            <ReferenceLine y={-mde} stroke={MUTED} strokeOpacity={0.5} strokeDasharray="1 3" ifOverflow="hidden" />
            <Area dataKey="seqEarly" stroke="none" fill={GREY} fillOpacity={0.25} isAnimationActive={false} connectNulls={false} activeDot={false} />
            <Area dataKey="seq" stroke="none" fill={ACCENT} fillOpacity={0.16} isAnimationActive={false} connectNulls={false} activeDot={false} />
            <Line dataKey="fixedLow" stroke={ACCENT} strokeOpacity={0.55} strokeDasharray="4 3" strokeWidth={1} dot={false} activeDot={false} isAnimationActive={false} />
            <Line dataKey="fixedHigh" stroke={ACCENT} strokeOpacity={0.55} strokeDasharray="4 3" strokeWidth={1} dot={false} activeDot={false} isAnimationActive={false} />
            <ReferenceLine y={0} stroke={FG} strokeWidth={1} />
            <Line dataKey="liftEarly" stroke={GREY} strokeWidth={2} dot={few ? { r: 3, fill: GREY } : false} activeDot={false} isAnimationActive={false} connectNulls={false} />
            <Line dataKey="lift" stroke={ACCENT} strokeWidth={2.2} dot={few ? { r: 3, fill: ACCENT } : false} isAnimationActive={false} connectNulls={false} />
            {winner ? (
              <ReferenceLine
                x={winner.day}
                stroke={OK}
                strokeWidth={1.5}
                strokeDasharray="3 2"
                label={{ value: `${chart.winnerArm ?? ''} wins`.trim(), position: 'insideTopRight', fontSize: 11, fill: OK }}
              />
            ) : null}
            {winner && winner.lift !== null ? <ReferenceDot x={winner.day} y={winner.lift * 100} r={5} fill="#ffffff" stroke={OK} strokeWidth={2} ifOverflow="hidden" /> : null}
            <Tooltip
              content={(props) => <ChartTooltip row={rows.find((r) => r.day === props.label)} locale={locale} />}
              cursor={{ stroke: MUTED, strokeWidth: 1 }}
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <ul className={styles.legend} aria-hidden="true">
        <li>
          <span className={styles.swatch} style={{ color: ACCENT }} />
          lift
        </li>
        <li>
          <span className={`${styles.swatch} ${styles.shade}`} style={{ background: 'rgba(31, 95, 214, 0.16)' }} />
          always-valid 95 %
        </li>
        <li>
          <span className={`${styles.swatch} ${styles.dashed}`} style={{ color: ACCENT }} />
          fixed-horizon 95 %
        </li>
        <li>
          <span className={`${styles.swatch} ${styles.dotted}`} style={{ color: MUTED }} />± MDE
        </li>
        {earlyRuns.length ? (
          <li>
            <span className={`${styles.swatch} ${styles.shade}`} style={{ background: 'rgba(154, 163, 174, 0.3)' }} />
            not enough data yet
          </li>
        ) : null}
        {blocked ? (
          <li>
            <span className={styles.swatch} style={{ color: GREY }} />
            grey: could not decide (split off plan, or not computable)
          </li>
        ) : null}
        {winner ? (
          <li>
            <span className={`${styles.swatch} ${styles.dashed}`} style={{ color: OK }} />
            winner latched
          </li>
        ) : null}
        {clipped ? <li>bands cut at the edge: see the numbers</li> : null}
      </ul>
      {/* wrapped: a table ignores width: 1px and would widen the page it hides in */}
      <div className="visually-hidden">
        <table>
          <caption>Lift of B over A on {chart.metricLabel} by day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Lift of B over A</th>
              <th scope="col">Always-valid 95 % interval</th>
              <th scope="col">Fixed-horizon 95 % interval</th>
              <th scope="col">Chance B is better</th>
              <th scope="col">Reading</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.day}>
                <th scope="row">
                  {formatCalendarDay(p.day, locale)}
                  {p.day === chart.winnerDay ? ' (winner latched)' : ''}
                </th>
                <td>{signedPercent(p.lift, locale)}</td>
                <td>{intervalText(p.seqLower, p.seqUpper, locale)}</td>
                <td>{intervalText(p.lower, p.upper, locale)}</td>
                <td>{p.decision === 'not_enough_data' ? 'not enough data yet' : p.eligible ? chanceText(p.probBBetter, locale) : '—'}</td>
                <td>{DECISION_WORDS[p.decision]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
