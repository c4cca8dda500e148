'use client';
// The chart of the performance pages: one metric per day against its expected
// range (a shaded band from low to high around a dashed expected line), the
// anomalies of the range as dots on their day and as links under the chart,
// the provisional days (conversions still coming in) dashed and shaded, and a
// toggle to one line per platform. The metric is chosen through the URL (the
// links of `metricLinks`), so a view can be shared. Screen readers get a
// summary and the numbers as a visually hidden table.
import Link from 'next/link';
import { useId, useMemo, useState } from 'react';
import {
  Area,
  CartesianGrid,
  ComposedChart,
  Line,
  ReferenceArea,
  ReferenceDot,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from 'recharts';
import { formatCalendarDay, formatMetric } from '@/lib/format/number';
import { METRIC_INFO, isMetric, platformLabel, type Metric, type Platform } from '@/lib/performance/metrics';
import type { AnomalyMark, ChartData, TenantStyle } from '@/lib/performance/types';
import styles from './charts.module.css';

export interface MetricLink {
  metric: Metric;
  label: string;
  href: string;
  current: boolean;
}

// The colours of app/globals.css (SVG presentation attributes take no CSS variables everywhere).
const ACCENT = '#1f5fd6';
const MUTED = '#5b6470';
const BORDER = '#d9dee5';
const DANGER = '#b42318';
const WARN = '#b54708';

/** Okabe–Ito, colour-blind safe (its yellow darkened to read on white), then grey. */
const PLATFORM_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#8C7A00', '#999999'];

const SEVERITY_RANK: Record<AnomalyMark['severity'], number> = { low: 0, medium: 1, high: 2, critical: 3 };
const SEVERITY_COLOUR: Record<AnomalyMark['severity'], string> = { low: MUTED, medium: WARN, high: DANGER, critical: DANGER };

const HEIGHT = 280;
/** Anomalies listed before the rest fold into a "more" disclosure. */
const LIST_FIRST = 8;
/** Under this width (px) the chart is drawn narrow: smaller margins, ticks further apart. */
const NARROW = 520;

interface Row {
  day: string;
  value: number | null;
  /** The value on days that are not provisional (the solid line). */
  firm: number | null;
  /** The value on provisional days, and on the last firm day before them so the two lines join (the dashed line). */
  prov: number | null;
  expected: number | null;
  low: number | null;
  high: number | null;
  band: [number, number] | null;
  provisional: boolean;
  /** Each platform's value, in the order of data.byPlatform, split like firm/prov. */
  platforms: (number | null)[];
  platformsFirm: (number | null)[];
  platformsProv: (number | null)[];
  anomalies: AnomalyMark[];
}

function finiteOrNull(v: number | null | undefined): number | null {
  return v !== null && v !== undefined && Number.isFinite(v) ? v : null;
}

/** Splits values into a firm and a provisional line that meet on the last firm day. */
function split(values: (number | null)[], provisional: boolean[]): { firm: (number | null)[]; prov: (number | null)[] } {
  const firstProv = provisional.indexOf(true);
  const firm = values.map((v, i) => (provisional[i] ? null : v));
  const prov = values.map((v, i) => (provisional[i] || (firstProv > 0 && i === firstProv - 1) ? v : null));
  return { firm, prov };
}

function anomalyTitle(a: AnomalyMark): string {
  const metric = isMetric(a.metricName) ? METRIC_INFO[a.metricName].label : a.metricName;
  return `${metric} ${a.anomalyType.replace(/_/g, ' ')}`;
}

function worstSeverity(list: AnomalyMark[]): AnomalyMark['severity'] {
  return list.reduce<AnomalyMark['severity']>((w, a) => (SEVERITY_RANK[a.severity] > SEVERITY_RANK[w] ? a.severity : w), 'low');
}

function buildRows(data: ChartData): Row[] {
  const provisional = data.series.map((p) => p.provisional || (data.provisionalFrom !== null && p.day >= data.provisionalFrom));
  const total = split(
    data.series.map((p) => finiteOrNull(p.value)),
    provisional,
  );
  const perPlatform = data.byPlatform.map((bp) =>
    split(
      data.series.map((_, i) => finiteOrNull(bp.values[i])),
      provisional,
    ),
  );
  const byDay = new Map<string, AnomalyMark[]>();
  for (const a of data.anomalies) byDay.set(a.day, [...(byDay.get(a.day) ?? []), a]);

  return data.series.map((p, i) => {
    const low = finiteOrNull(p.low);
    const high = finiteOrNull(p.high);
    return {
      day: p.day,
      value: finiteOrNull(p.value),
      firm: total.firm[i] ?? null,
      prov: total.prov[i] ?? null,
      expected: finiteOrNull(p.expected),
      low,
      high,
      band: low !== null && high !== null ? [low, high] : null,
      provisional: provisional[i] ?? false,
      platforms: data.byPlatform.map((bp) => finiteOrNull(bp.values[i])),
      platformsFirm: perPlatform.map((s) => s.firm[i] ?? null),
      platformsProv: perPlatform.map((s) => s.prov[i] ?? null),
      anomalies: (byDay.get(p.day) ?? []).sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]),
    };
  });
}

interface Dot {
  key: string;
  day: string;
  y: number;
  colour: string;
}

/** One dot a day (total) or a day and platform (by platform) on the line, coloured by the worst severity there. */
function anomalyDots(rows: Row[], rowsByDay: Map<string, Row>, anomalies: AnomalyMark[], platforms: Platform[], byPlatform: boolean): Dot[] {
  const out: Dot[] = [];
  if (!byPlatform) {
    for (const r of rows) {
      if (r.anomalies.length > 0 && r.value !== null) out.push({ key: r.day, day: r.day, y: r.value, colour: SEVERITY_COLOUR[worstSeverity(r.anomalies)] });
    }
    return out;
  }
  const groups = new Map<string, AnomalyMark[]>();
  for (const a of anomalies) {
    const key = `${a.day}|${a.platform}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  for (const [key, list] of groups) {
    const first = list[0]!;
    const i = platforms.indexOf(first.platform);
    const y = i >= 0 ? (rowsByDay.get(first.day)?.platforms[i] ?? null) : null;
    if (y !== null) out.push({ key, day: first.day, y, colour: SEVERITY_COLOUR[worstSeverity(list)] });
  }
  return out;
}

function ChartTooltip({
  active,
  label,
  rowsByDay,
  metric,
  style,
  mode,
  platforms,
}: Pick<TooltipContentProps<number, string>, 'active' | 'label'> & {
  rowsByDay: Map<string, Row>;
  metric: Metric;
  style: TenantStyle;
  mode: 'total' | 'platform';
  platforms: Platform[];
}) {
  if (!active || typeof label !== 'string') return null;
  const row = rowsByDay.get(label);
  if (!row) return null;
  const fmt = (v: number | null) => formatMetric(metric, v, style);
  return (
    <div className={styles.tooltip}>
      <p className={styles.tooltipDay}>{formatCalendarDay(row.day, style.locale, { weekday: true })}</p>
      {mode === 'total' ? (
        <>
          <p>
            {METRIC_INFO[metric].label}: <strong>{fmt(row.value)}</strong>
          </p>
          {row.expected !== null ? (
            <p className={styles.tooltipNote}>
              Expected {fmt(row.expected)}
              {row.low !== null && row.high !== null ? ` (range ${fmt(row.low)} – ${fmt(row.high)})` : ''}
            </p>
          ) : (
            <p className={styles.tooltipNote}>No expected range (too little history)</p>
          )}
        </>
      ) : (
        <ul className={styles.tooltipList}>
          {platforms.map((p, i) => (
            <li key={p}>
              <span className={styles.swatch} style={{ color: PLATFORM_COLOURS[i % PLATFORM_COLOURS.length] }} aria-hidden="true" />
              {platformLabel(p)}: <strong>{fmt(row.platforms[i] ?? null)}</strong>
            </li>
          ))}
        </ul>
      )}
      {row.provisional ? <p className={styles.tooltipNote}>Provisional: conversions still coming in</p> : null}
      {row.anomalies.length > 0 ? (
        <ul className={styles.tooltipList}>
          {row.anomalies.map((a) => (
            <li key={a.id} style={{ color: SEVERITY_COLOUR[a.severity] }}>
              {anomalyTitle(a)} ({a.severity}) · {a.entityName}
              {platforms.length > 1 ? ` (${platformLabel(a.platform)})` : ''}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function AnomalyItem({ a, style, showPlatform }: { a: AnomalyMark; style: TenantStyle; showPlatform: boolean }) {
  const day = formatCalendarDay(a.day, style.locale, { year: false });
  const entity = showPlatform ? `${a.entityName} (${platformLabel(a.platform)})` : a.entityName;
  return (
    <li data-severity={a.severity}>
      <Link href={a.href}>
        {day} · {entity} · {anomalyTitle(a)} ({a.severity})
      </Link>
    </li>
  );
}

export function MetricChart({
  data,
  style,
  metricLinks,
  title,
}: {
  data: ChartData;
  style: TenantStyle;
  metricLinks: MetricLink[];
  title?: string;
}) {
  const { metric } = data;
  const info = METRIC_INFO[metric];
  const id = useId();
  const titleId = `${id}-title`;
  const summaryId = `${id}-summary`;
  const [mode, setMode] = useState<'total' | 'platform'>('total');
  const [width, setWidth] = useState(0);
  const narrow = width > 0 && width < NARROW;

  const rows = useMemo(() => buildRows(data), [data]);
  const rowsByDay = useMemo(() => new Map(rows.map((r) => [r.day, r])), [rows]);
  const platforms = data.byPlatform.map((bp) => bp.platform);
  const canSplit = platforms.length > 1;
  const showPlatforms = canSplit && mode === 'platform';

  // With a title the chart carries its own heading; without one, the page's heading above it names it and the figure has a label.
  const heading = title ?? `${info.label} per day`;
  const empty = rows.every((r) => r.value === null) && rows.every((r) => r.platforms.every((v) => v === null));
  const showToggle = canSplit && !empty;
  const provRows = rows.filter((r) => r.provisional);
  const provFrom = provRows[0]?.day ?? null;
  const lastDay = rows.at(-1)?.day ?? null;
  const hasBand = rows.some((r) => r.band !== null);
  const fmt = (v: number | null) => formatMetric(metric, v, style);
  const fmtDay = (d: string) => formatCalendarDay(d, style.locale, { year: false });

  const anomalies = useMemo(
    () => [...data.anomalies].sort((a, b) => a.day.localeCompare(b.day) || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]),
    [data.anomalies],
  );

  const dots = anomalyDots(rows, rowsByDay, data.anomalies, platforms, showPlatforms);

  const summary = (() => {
    const present = rows.filter((r) => r.value !== null);
    if (present.length === 0 || !rows[0] || !lastDay) return 'No data for this range.';
    const values = present.map((r) => r.value as number);
    const lastPresent = present.at(-1)!;
    const parts = [
      `${info.label} per day from ${formatCalendarDay(rows[0].day, style.locale)} to ${formatCalendarDay(lastDay, style.locale)}`,
      `lowest ${fmt(Math.min(...values))}, highest ${fmt(Math.max(...values))}, ${fmtDay(lastPresent.day)} ${fmt(lastPresent.value)}`,
    ];
    const outside = present.filter((r) => r.low !== null && r.high !== null && ((r.value as number) < r.low || (r.value as number) > r.high)).length;
    if (hasBand) parts.push(`${outside} ${outside === 1 ? 'day' : 'days'} outside the expected range`);
    if (data.anomalies.length > 0) parts.push(`${data.anomalies.length} ${data.anomalies.length === 1 ? 'anomaly' : 'anomalies'}, listed below`);
    if (provFrom) parts.push(`provisional from ${fmtDay(provFrom)}: conversions still coming in`);
    return `${parts.join('; ')}.`;
  })();

  return (
    <figure
      className={styles.chart}
      aria-labelledby={title ? titleId : undefined}
      aria-label={title ? undefined : heading}
      aria-describedby={summaryId}
    >
      {title || showToggle ? (
        <div className={styles.chartHeader}>
          {title ? (
            <h2 id={titleId} className={styles.chartTitle}>
              {title}
            </h2>
          ) : null}
          {showToggle ? (
            <div className={styles.toggle} role="group" aria-label="Lines of the chart">
              <button type="button" aria-pressed={mode === 'total'} onClick={() => setMode('total')}>
                Total
              </button>
              <button type="button" aria-pressed={mode === 'platform'} onClick={() => setMode('platform')}>
                By platform
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      {metricLinks.length > 0 ? (
        <nav aria-label="Chart metric" className={styles.metricNav}>
          <ul>
            {metricLinks.map((l) => (
              <li key={l.metric}>
                <Link href={l.href} scroll={false} aria-current={l.current ? 'page' : undefined}>
                  {l.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}

      <p id={summaryId} className="visually-hidden">
        {summary}
      </p>

      {empty ? (
        <div className={styles.empty}>No data for this range</div>
      ) : (
        <>
          <div className={styles.plot}>
            <ResponsiveContainer width="100%" height={HEIGHT} minWidth={0} onResize={(w) => setWidth(w)}>
              <ComposedChart data={rows} margin={narrow ? { top: 8, right: 4, bottom: 0, left: 0 } : { top: 8, right: 16, bottom: 0, left: 4 }}>
                <CartesianGrid stroke={BORDER} strokeDasharray="3 3" vertical={false} />
                <XAxis
                  dataKey="day"
                  tickFormatter={(d: string) => fmtDay(d)}
                  interval="preserveStartEnd"
                  minTickGap={narrow ? 28 : 16}
                  tick={{ fontSize: 12, fill: MUTED }}
                  tickLine={false}
                  axisLine={{ stroke: BORDER }}
                />
                <YAxis
                  width="auto"
                  tickFormatter={(v: number) => formatMetric(metric, v, style, true)}
                  tick={{ fontSize: 12, fill: MUTED }}
                  tickLine={false}
                  axisLine={false}
                  tickCount={narrow ? 4 : 5}
                />
                {provFrom && lastDay ? (
                  <ReferenceArea x1={provFrom} x2={lastDay} fill={MUTED} fillOpacity={0.1} stroke="none" ifOverflow="extendDomain" />
                ) : null}
                {provFrom ? <ReferenceLine x={provFrom} stroke={MUTED} strokeDasharray="2 3" /> : null}
                {!showPlatforms && hasBand ? (
                  <Area
                    dataKey="band"
                    type="linear"
                    stroke="none"
                    fill={ACCENT}
                    fillOpacity={0.14}
                    isAnimationActive={false}
                    activeDot={false}
                    tooltipType="none"
                  />
                ) : null}
                {!showPlatforms ? (
                  <Line
                    dataKey="expected"
                    type="linear"
                    stroke={MUTED}
                    strokeWidth={1}
                    strokeDasharray="4 3"
                    dot={false}
                    activeDot={false}
                    isAnimationActive={false}
                  />
                ) : null}
                {!showPlatforms ? (
                  <Line dataKey="firm" type="linear" stroke={ACCENT} strokeWidth={2} dot={false} isAnimationActive={false} />
                ) : null}
                {!showPlatforms && provFrom ? (
                  <Line
                    dataKey="prov"
                    type="linear"
                    stroke={ACCENT}
                    strokeOpacity={0.6}
                    strokeWidth={2}
                    strokeDasharray="5 4"
                    dot={false}
                    isAnimationActive={false}
                  />
                ) : null}
                {showPlatforms
                  ? platforms.flatMap((p, i) => {
                      const colour = PLATFORM_COLOURS[i % PLATFORM_COLOURS.length];
                      const lines = [
                        <Line
                          key={`${p}-firm`}
                          dataKey={(r: Row) => r.platformsFirm[i] ?? null}
                          name={platformLabel(p)}
                          type="linear"
                          stroke={colour}
                          strokeWidth={2}
                          dot={false}
                          isAnimationActive={false}
                        />,
                      ];
                      if (provFrom) {
                        lines.push(
                          <Line
                            key={`${p}-prov`}
                            dataKey={(r: Row) => r.platformsProv[i] ?? null}
                            name={`${platformLabel(p)} (provisional)`}
                            type="linear"
                            stroke={colour}
                            strokeOpacity={0.6}
                            strokeWidth={2}
                            strokeDasharray="5 4"
                            dot={false}
                            activeDot={false}
                            isAnimationActive={false}
                          />,
                        );
                      }
                      return lines;
                    })
                  : null}
                {dots.map((d) => (
                  <ReferenceDot key={d.key} x={d.day} y={d.y} r={5} fill={d.colour} stroke="#ffffff" strokeWidth={1.5} />
                ))}
                <Tooltip
                  content={(props) => (
                    <ChartTooltip
                      active={props.active}
                      label={props.label}
                      rowsByDay={rowsByDay}
                      metric={metric}
                      style={style}
                      mode={showPlatforms ? 'platform' : 'total'}
                      platforms={platforms}
                    />
                  )}
                  cursor={{ stroke: MUTED, strokeWidth: 1 }}
                  isAnimationActive={false}
                />
              </ComposedChart>
            </ResponsiveContainer>
          </div>

          <ul className={styles.legend} aria-label="Legend">
            {showPlatforms ? (
              platforms.map((p, i) => (
                <li key={p}>
                  <span className={styles.swatch} style={{ color: PLATFORM_COLOURS[i % PLATFORM_COLOURS.length] }} />
                  {platformLabel(p)}
                </li>
              ))
            ) : (
              <>
                <li>
                  <span className={styles.swatch} style={{ color: ACCENT }} />
                  {info.label}
                </li>
                <li>
                  <span className={`${styles.swatch} ${styles.swatchDashed}`} style={{ color: MUTED }} />
                  Expected (28 days before)
                </li>
                {hasBand ? (
                  <li>
                    <span className={`${styles.swatch} ${styles.swatchBand}`} />
                    Expected range
                  </li>
                ) : null}
              </>
            )}
            {dots.length > 0 ? (
              <li>
                <span className={`${styles.swatch} ${styles.swatchDot}`} style={{ color: DANGER }} />
                Anomaly
              </li>
            ) : null}
            {provFrom ? (
              <li>
                <span className={`${styles.swatch} ${styles.swatchProvisional}`} />
                Provisional: conversions still coming in
              </li>
            ) : null}
          </ul>

          {/* Wrapped: a table is never narrower than its content, so the 1 px box must be a div that clips it. */}
          <div className="visually-hidden">
            <table>
              <caption>
                {heading}
                {showPlatforms ? ', by platform' : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  {showPlatforms ? (
                    platforms.map((p) => (
                      <th key={p} scope="col">
                        {platformLabel(p)}
                      </th>
                    ))
                  ) : (
                    <>
                      <th scope="col">{info.label}</th>
                      <th scope="col">Expected</th>
                      <th scope="col">Expected range</th>
                    </>
                  )}
                  <th scope="col">Notes</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.day}>
                    <th scope="row">{formatCalendarDay(r.day, style.locale)}</th>
                    {showPlatforms ? (
                      r.platforms.map((v, i) => <td key={platforms[i]}>{fmt(v)}</td>)
                    ) : (
                      <>
                        <td>{fmt(r.value)}</td>
                        <td>{fmt(r.expected)}</td>
                        <td>{r.low !== null && r.high !== null ? `${fmt(r.low)} – ${fmt(r.high)}` : '—'}</td>
                      </>
                    )}
                    <td>
                      {[r.provisional ? 'Provisional' : null, ...r.anomalies.map((a) => `${anomalyTitle(a)} (${a.severity}), ${a.entityName}`)]
                        .filter(Boolean)
                        .join('; ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      {anomalies.length > 0 ? (
        <div className={styles.anomalies}>
          <p id={`${id}-anomalies`} className={styles.anomaliesTitle}>
            Anomalies in this range ({anomalies.length})
          </p>
          <ul className={styles.anomalyList} aria-labelledby={`${id}-anomalies`}>
            {anomalies.slice(0, LIST_FIRST).map((a) => (
              <AnomalyItem key={a.id} a={a} style={style} showPlatform={canSplit} />
            ))}
          </ul>
          {anomalies.length > LIST_FIRST ? (
            <details className={styles.moreAnomalies}>
              <summary>{anomalies.length - LIST_FIRST} more</summary>
              <ul className={styles.anomalyList}>
                {anomalies.slice(LIST_FIRST).map((a) => (
                  <AnomalyItem key={a.id} a={a} style={style} showPlatform={canSplit} />
                ))}
              </ul>
            </details>
          ) : null}
        </div>
      ) : null}
    </figure>
  );
}
