import type { Metadata } from 'next';
import Link from 'next/link';
import { Filters } from '@/components/performance/Filters';
import { KpiCards } from '@/components/performance/KpiCards';
import { MetricChart } from '@/components/performance/MetricChart';
import { CampaignTable } from '@/components/performance/CampaignTable';
import { WhatMovedPanel } from '@/components/performance/WhatMovedPanel';
import styles from '@/components/performance/performance.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { formatCalendarDay } from '@/lib/format/number';
import { addDays, COMPARISON_LABELS, MAX_HISTORY_DAYS, parseView, RANGE_LABELS, viewHref } from '@/lib/performance/filters';
import { METRIC_INFO, METRICS } from '@/lib/performance/metrics';
import { performancePage, tenantStyle } from '@/lib/performance/queries';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Performance' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function PerformancePage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const { data } = await tenantRead('viewer', async (trx, { tenant }) => {
    const { lastDay, ...style } = await tenantStyle(trx, tenant.tenantId);
    return performancePage(trx, tenant.tenantId, parseView(params, lastDay), style, lastDay);
  });
  const { view, style } = data;
  const day = (d: string) => formatCalendarDay(d, style.locale);
  const periodText =
    view.period.days === 1 ? day(view.period.from) : `${day(view.period.from)} – ${day(view.period.to)} (${view.period.days} days)`;
  const cmp = data.comparisonPeriod;
  const comparisonLabel =
    view.compare === 'previous' ? 'the previous period' : `baseline (daily rate of ${day(cmp.from)} – ${day(cmp.to)})`;
  const shortComparison = view.compare === 'previous' ? 'previous period' : 'baseline';

  if (data.empty) {
    return (
      <>
        <PageHeader title="Performance" />
        <div className="empty-state">
          <p>
            <strong>No performance data yet.</strong> Once daily metrics arrive, this page shows spend, conversions, ROAS and CPA against
            their baselines, what moved them, and every campaign.
          </p>
          <p>
            <Link href="/imports">Import a platform export</Link> to get started.
          </p>
        </div>
      </>
    );
  }

  const metricLinks = METRICS.map((m) => ({
    metric: m,
    label: METRIC_INFO[m].label,
    href: viewHref('/performance', { ...view, metric: m }),
    current: m === view.metric,
  }));
  return (
    <>
      <PageHeader title="Performance" description={`${RANGE_LABELS[view.range]}: ${periodText}, against the ${COMPARISON_LABELS[view.compare].toLowerCase()}.`} />
      <Filters
        range={view.range}
        from={view.period.from}
        to={view.period.to}
        minDay={addDays(data.lastDay, -(MAX_HISTORY_DAYS - 1))}
        maxDay={data.lastDay}
        platforms={view.platforms}
        available={data.availablePlatforms}
        level={view.level}
        compare={view.compare}
        metric={view.metric}
      />
      <p className={styles.period}>
        Compared with {comparisonLabel}. Figures in {style.currency}; days in {style.timezone}.
      </p>
      <KpiCards cards={data.kpis} style={style} comparisonLabel={shortComparison} rangeLabel={RANGE_LABELS[view.range].toLowerCase()} />
      <section className={`card ${styles.section}`} aria-labelledby="chart-heading">
        <h2 id="chart-heading">{METRIC_INFO[view.metric].label} per day against its expected range</h2>
        <MetricChart data={data.chart} style={style} metricLinks={metricLinks} />
      </section>
      <WhatMovedPanel data={data.whatMoved} style={style} comparisonLabel={shortComparison === 'baseline' ? 'the baseline' : 'the previous period'} level={view.level} />
      <section className={styles.section} aria-labelledby="table-heading">
        <h2 id="table-heading">{view.level === 'campaign' ? 'Campaigns' : 'Ad sets'}</h2>
        <CampaignTable
          rows={data.rows}
          style={style}
          level={view.level}
          comparisonLabel={shortComparison}
          fileName={`performance-${view.level}-${view.period.from}-${view.period.to}.csv`}
        />
      </section>
    </>
  );
}
