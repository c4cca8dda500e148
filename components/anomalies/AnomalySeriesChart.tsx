'use client';
// The metric of an anomaly per day around its day, with each day's expected
// range shaded (the performance page's band: 28 days before, +- 1.96 x their
// day-to-day spread), the anomaly's day marked and the engine's own
// expectation for it as a ring. A visually hidden table holds the numbers.
import { Area, CartesianGrid, ComposedChart, Line, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCalendarDay, formatMetric, type NumberStyle } from '@/lib/format/number';
import { METRIC_INFO, type Metric } from '@/lib/performance/metrics';

const ACCENT = '#1f5fd6';
const MUTED = '#5b6470';
const BORDER = '#d9dee5';
const DANGER = '#b42318';
const TICK = { fontSize: 11, fill: MUTED };

export interface SeriesPointView {
  day: string;
  value: number | null;
  expected: number | null;
  low: number | null;
  high: number | null;
}

export function AnomalySeriesChart({
  metric,
  day,
  points,
  engineExpected,
  style,
}: {
  metric: Metric;
  day: string;
  points: SeriesPointView[];
  engineExpected: number | null;
  style: NumberStyle;
}) {
  const info = METRIC_INFO[metric];
  const rows = points.map((p) => ({ ...p, band: p.low !== null && p.high !== null ? ([p.low, p.high] as [number, number]) : null }));
  const onDay = points.find((p) => p.day === day);
  const fmt = (v: number) => formatMetric(metric, v, style, true);
  if (!points.length) return <p className="muted">No daily figures of this entity around the day.</p>;
  return (
    <figure style={{ margin: 0 }} aria-label={`${info.label} per day around ${day}, with its expected range`}>
      <div aria-hidden="true">
        <ResponsiveContainer width="100%" height={220} minWidth={0}>
          <ComposedChart data={rows} margin={{ top: 12, right: 16, bottom: 0, left: 0 }} accessibilityLayer={false}>
            <CartesianGrid stroke={BORDER} strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" tickFormatter={(d: string) => formatCalendarDay(d, style.locale, { year: false })} tick={TICK} minTickGap={24} />
            <YAxis width="auto" tickFormatter={fmt} tick={TICK} tickLine={false} axisLine={false} domain={[0, 'auto']} />
            <Area dataKey="band" stroke="none" fill={ACCENT} fillOpacity={0.12} isAnimationActive={false} connectNulls={false} />
            <Line dataKey="expected" stroke={MUTED} strokeDasharray="4 3" dot={false} isAnimationActive={false} />
            <Line dataKey="value" stroke={ACCENT} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} connectNulls={false} />
            <ReferenceLine x={day} stroke={DANGER} strokeDasharray="2 2" />
            {onDay?.value != null ? <ReferenceDot x={day} y={onDay.value} r={5} fill={DANGER} stroke="#fff" /> : null}
            {engineExpected !== null ? <ReferenceDot x={day} y={engineExpected} r={5} fill="#fff" stroke={DANGER} strokeWidth={2} /> : null}
            <Tooltip
              formatter={(v) => (typeof v === 'number' ? formatMetric(metric, v, style) : Array.isArray(v) ? v.map((x) => formatMetric(metric, Number(x), style)).join(' – ') : String(v))}
              labelFormatter={(d) => formatCalendarDay(String(d), style.locale, { weekday: true })}
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted" style={{ fontSize: '0.82rem' }}>
        Line: {info.label} each day. Shaded: the expected range of each day (its 28 days before, ± 1.96 × their day-to-day spread); dashed: the
        expected value. Red: the anomaly&apos;s day
        {engineExpected !== null ? `, the ring the engine's own expectation (${formatMetric(metric, engineExpected, style)})` : ''}.
      </figcaption>
      {/* wrapped: a table ignores width: 1px and would widen the page it hides in */}
      <div className="visually-hidden">
      <table>
        <caption>{info.label} per day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">{info.label}</th>
            <th scope="col">Expected</th>
            <th scope="col">Expected range</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p) => (
            <tr key={p.day}>
              <td>{p.day}</td>
              <td>{formatMetric(metric, p.value, style)}</td>
              <td>{formatMetric(metric, p.expected, style)}</td>
              <td>{p.low !== null && p.high !== null ? `${formatMetric(metric, p.low, style)} – ${formatMetric(metric, p.high, style)}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}
