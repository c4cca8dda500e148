// One anomaly in full: its figures, the metric per day around the day with
// the expected range, the engine's test and score in words, the feedback of
// its kind, its incident, related anomalies, its history and the move menu.
import Link from 'next/link';
import { durationText, metricLabel, metricValue, typeLabel } from '@/lib/anomalies/labels';
import type { AnomalyDetail as Detail } from '@/lib/anomalies/page-data';
import { STATUS_LABEL, MOVE_LABEL, type Move } from '@/lib/anomalies/schema';
import type { CardAnomaly } from '@/lib/anomalies/view';
import { formatChange, formatMoney, type NumberStyle } from '@/lib/format/number';
import { formatInZone } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import { AnomalySeriesChart } from './AnomalySeriesChart';
import { DetailMoves } from './DetailMoves';
import styles from './anomalies.module.css';

function RelatedList({ rows, style, empty }: { rows: CardAnomaly[]; style: NumberStyle; empty: string }) {
  if (!rows.length) return <p className="muted">{empty}</p>;
  return (
    <ul className={styles.members}>
      {rows.map((r) => (
        <li key={r.id}>
          <Link href={r.detailHref}>
            {r.entityName}: {metricLabel(r.metric)} {typeLabel(r.type).toLowerCase()}
          </Link>{' '}
          on {r.day} ({r.severity}, {formatChange(r.deviationPct, style)}, {STATUS_LABEL[r.status].toLowerCase()})
        </li>
      ))}
    </ul>
  );
}

export function AnomalyDetail({
  detail,
  style,
  timeZone,
  tenantId,
  canMove,
  closeHref,
}: {
  detail: Detail;
  style: NumberStyle;
  timeZone: string;
  tenantId: string;
  canMove: boolean;
  closeHref: string | null;
}) {
  const a = detail.anomaly;
  const open = a.status === 'active' || a.status === 'investigating';
  return (
    <section className={styles.detail} aria-labelledby="anomaly-detail-title">
      <h2 id="anomaly-detail-title">
        {metricLabel(a.metric)} {typeLabel(a.type).toLowerCase()}: {a.entityName} ({platformLabel(a.platform)}
        {a.level === 'adset' ? ', ad set' : ''}), {a.day}
      </h2>
      <p>
        <span className={`${styles.sev} ${styles[a.severity] ?? ''}`}>{a.severity}</span> {STATUS_LABEL[a.status]}
        {a.snoozedUntil ? `, snoozed until ${formatInZone(a.snoozedUntil, timeZone, style.locale)}` : ''} · raised{' '}
        {durationText(a.ageSeconds)} ago · {formatMoney(a.money, style)} at stake
        {a.href ? (
          <>
            {' '}
            · <Link href={a.href}>Performance detail</Link>
          </>
        ) : null}
        {closeHref ? (
          <>
            {' '}
            · <Link href={closeHref}>Close</Link>
          </>
        ) : null}
      </p>
      <div className={styles.detailGrid}>
        <div>
          <p>
            {metricValue(a.metric, a.actual, style)} against an expected {metricValue(a.metric, a.baseline, style)} ({formatChange(a.deviationPct, style)}).
          </p>
          {detail.test ? <p>{detail.test}</p> : <p className="muted">The engine recorded no test for this anomaly.</p>}
          {detail.score ? <p className="muted">{detail.score}</p> : null}
          {a.feedback ? <p className={styles.feedback}>{a.feedback}.</p> : null}
          {a.resolutionNote ? <p>Resolution note: {a.resolutionNote}</p> : null}
          {a.platformRow ? (
            <p>
              Platform incident raised by the engine: {detail.engineMembers.length} campaigns ({detail.engineMembers.join(', ')}) got no conversion
              where their own models expected them. Their own conversion alarms of the day are explained by it and not raised separately. Check the
              platform&apos;s tracking (pixel, conversion API, attribution settings) first.
            </p>
          ) : null}
          {detail.incident ? (
            <div>
              <h3>Incident: {detail.incident.entities} entities falling together</h3>
              <p className="muted">
                {detail.incident.entities} {detail.incident.level === 'adset' ? 'ad sets' : 'campaigns'} of {platformLabel(detail.incident.platform)}
                {detail.incident.activeEntities ? ` (of ${detail.incident.activeEntities} delivering)` : ''} fell on {detail.incident.day}: this
                points at the platform or its tracking. Moving the incident moves all {detail.incident.members.length} of its anomalies, or none.
              </p>
              <RelatedList rows={detail.incident.members} style={style} empty="" />
              {open ? <DetailMoves card={detail.incident} tenantId={tenantId} canMove={canMove} /> : null}
            </div>
          ) : null}
          <h3>Move this anomaly</h3>
          <DetailMoves card={{ kind: 'single', key: `detail-${a.id}`, anomaly: a }} tenantId={tenantId} canMove={canMove} />
        </div>
        <div className={styles.chart}>
          <AnomalySeriesChart
            metric={detail.series.metric}
            day={detail.series.day}
            points={detail.series.points}
            engineExpected={detail.series.engineExpected}
            style={style}
          />
        </div>
      </div>
      <div className={styles.detailGrid}>
        <div>
          <h3>The same entity, 3 days either side</h3>
          <RelatedList rows={detail.sameEntity} style={style} empty="No other anomaly of this entity within 3 days." />
          <h3>
            Other entities on {platformLabel(a.platform)}, {a.day}
          </h3>
          <RelatedList rows={detail.samePlatformDay} style={style} empty="No other anomaly on this platform that day." />
        </div>
        <div>
          <h3>History</h3>
          {detail.history.length === 0 ? (
            <p className="muted">Not moved yet.</p>
          ) : (
            <ol className={styles.history}>
              {detail.history.map((h) => (
                <li key={h.id}>
                  <strong>{MOVE_LABEL[h.move as Move] ?? h.move}</strong> by {h.who}, {formatInZone(h.at, timeZone, style.locale)} ({STATUS_LABEL[h.from]} →{' '}
                  {STATUS_LABEL[h.to]}
                  {h.snoozedUntil ? `, until ${formatInZone(h.snoozedUntil, timeZone, style.locale)}` : ''}
                  {h.incident ? ', with its incident' : ''}){h.note ? `: ${h.note}` : ''}
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
    </section>
  );
}
