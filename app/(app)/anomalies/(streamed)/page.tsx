import type { Metadata } from 'next';
import Link from 'next/link';
import { AnomalyBoard } from '@/components/anomalies/AnomalyBoard';
import { AnomalyDetail } from '@/components/anomalies/AnomalyDetail';
import styles from '@/components/anomalies/anomalies.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { metricLabel, typeLabel } from '@/lib/anomalies/labels';
import { boardPage } from '@/lib/anomalies/page-data';
import { ANOMALY_METRICS, ANOMALY_TYPES, boardFilterSchema, boardHref, firstValues, SEVERITIES } from '@/lib/anomalies/schema';
import { PLATFORM_LABELS, PLATFORMS } from '@/lib/performance/metrics';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Anomalies' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  // Bad values in the URL fall back (the schema catches each one): never an error page.
  const filter = boardFilterSchema.parse(firstValues(await searchParams));
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) => boardPage(trx, tenant.tenantId, filter));
  const canMove = hasRole(role, 'buyer');
  const filtered = Boolean(filter.severity || filter.platform || filter.metric || filter.type || filter.level);
  const select = (id: string, name: string, label: string, all: string, value: string | undefined, options: readonly string[], text: (v: string) => string) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={value ?? ''}>
        <option value="">{all}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {text(o)}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <>
      <PageHeader
        title="Anomalies"
        description="Unusual days of each campaign and ad set against its own history, most severe first. Acknowledge, resolve, dismiss or snooze them."
      />
      {data.detail ? (
        <AnomalyDetail
          detail={data.detail}
          style={data.style}
          timeZone={data.timeZone}
          tenantId={tenant.tenantId}
          canMove={canMove}
          closeHref={boardHref({ ...filter, anomaly: undefined })}
        />
      ) : null}
      {data.detailMissing ? (
        <p className="notice notice-warn" role="status">
          That anomaly is not on record in this tenant (resolved ones are deleted 30 days after they were resolved).
        </p>
      ) : null}
      <form method="get" action="/anomalies" className={`filters ${styles.filters}`} aria-label="Filter anomalies">
        {select('af-severity', 'severity', 'Severity', 'All severities', filter.severity, SEVERITIES, (s) => s)}
        {select('af-platform', 'platform', 'Platform', 'All platforms', filter.platform, PLATFORMS, (p) => PLATFORM_LABELS[p as keyof typeof PLATFORM_LABELS])}
        {select('af-metric', 'metric', 'Metric', 'All metrics', filter.metric, ANOMALY_METRICS, metricLabel)}
        {select('af-type', 'type', 'Type', 'All types', filter.type, ANOMALY_TYPES, typeLabel)}
        {select('af-level', 'level', 'Level', 'All levels', filter.level, ['campaign', 'adset'], (l) => (l === 'adset' ? 'Ad set' : 'Campaign'))}
        {filter.dismissed ? <input type="hidden" name="dismissed" value="1" /> : null}
        {filter.snoozed ? <input type="hidden" name="snoozed" value="1" /> : null}
        <div className="field field-submit">
          <button type="submit" className="button button-small">
            Filter
          </button>
          {filtered ? <Link href={boardHref({ dismissed: filter.dismissed, snoozed: filter.snoozed })}>Clear</Link> : null}
        </div>
      </form>
      <p className={styles.toolbar}>
        {filter.dismissed ? (
          <Link href={boardHref({ ...filter, dismissed: false, anomaly: undefined })}>Hide dismissed</Link>
        ) : (
          <Link href={boardHref({ ...filter, dismissed: true, anomaly: undefined })}>Show dismissed ({data.dismissedCount})</Link>
        )}
        {filter.snoozed ? <Link href={boardHref({ ...filter, snoozed: false, anomaly: undefined })}>Hide snoozed</Link> : null}
      </p>
      <AnomalyBoard columns={data.columns} style={data.style} timeZone={data.timeZone} tenantId={tenant.tenantId} canMove={canMove} openId={filter.anomaly ?? null} />
    </>
  );
}
