import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { CampaignTable } from '@/components/performance/CampaignTable';
import { MetricChart } from '@/components/performance/MetricChart';
import { AnalysisTable } from '@/components/performance/detail/AnalysisTable';
import { BenchmarkSection } from '@/components/performance/detail/BenchmarkSection';
import { HistoryTable } from '@/components/performance/detail/HistoryTable';
import { AnomalyList, RecommendationList } from '@/components/performance/detail/OpenItems';
import { RatioBars } from '@/components/performance/detail/RatioBars';
import styles from '@/components/performance/detail/detail.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { formatCalendarDay, formatMoney } from '@/lib/format/number';
import { BENCHMARK_DAYS, campaignDetail, isCampaignId } from '@/lib/performance/detail';
import { addDays, comparisonPeriod, type Period } from '@/lib/performance/filters';
import { isMetric, isPlatform, METRIC_INFO, METRICS, platformLabel, type Metric } from '@/lib/performance/metrics';
import { campaignHref, ID_IN_QUERY, chartData, entityRows, tenantStyle } from '@/lib/performance/queries';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Campaign' };

type SearchParams = Record<string, string | string[] | undefined>;

/** The id as the URL carries it, percent-decoded once (App Router params arrive encoded); a malformed escape is no id we link to. */
function decodeId(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

const STRATEGY_LABELS: Readonly<Record<string, string>> = {
  performance: 'Performance',
  even: 'Even',
  manual: 'Manual',
  target_roas: 'Target ROAS',
  target_cpa: 'Target CPA',
};

export default async function CampaignPage({ params, searchParams }: { params: Promise<{ platform: string; campaignId: string }>; searchParams: Promise<SearchParams> }) {
  const [{ platform, campaignId: rawId }, query] = await Promise.all([params, searchParams]);
  const idParam = Array.isArray(query.id) ? query.id[0] : query.id;
  // The '~' segment carries ids a path cannot ('.', '..') in ?id= (campaignHref).
  const campaignId = rawId === ID_IN_QUERY ? (idParam ?? null) : decodeId(rawId);
  const rawMetric = Array.isArray(query.metric) ? query.metric[0] : query.metric;
  const metric: Metric = isMetric(rawMetric) ? rawMetric : 'roas';

  const { data } = await tenantRead('viewer', async (trx, { tenant }) => {
    // Checked before any query: a hand-made URL is "not found", never an error.
    if (!isPlatform(platform) || campaignId === null || !isCampaignId(campaignId)) return null;
    const style = await tenantStyle(trx, tenant.tenantId);
    const detail = await campaignDetail(trx, tenant.tenantId, platform, campaignId, style.lastDay);
    if (!detail) return null;
    const period: Period = { from: addDays(style.lastDay, -(BENCHMARK_DAYS - 1)), to: style.lastDay, days: BENCHMARK_DAYS };
    const previous = comparisonPeriod(period, 'previous');
    const chart = await chartData(trx, tenant.tenantId, { platforms: [platform], level: 'campaign', campaignId }, period, metric, style.lastDay);
    const adsets = await entityRows(trx, tenant.tenantId, { platforms: [platform], level: 'adset', campaignId }, period, previous);
    return { platform, campaignId, style, detail, period, previous, chart, adsets };
  });
  if (!data) notFound();

  const { style, detail, period, previous, chart, adsets } = data;
  const { identity } = detail;
  const href = campaignHref(data.platform, data.campaignId);
  const metricLinks = METRICS.map((m) => ({
    metric: m,
    label: METRIC_INFO[m].label,
    href: m === 'roas' ? href : `${href}${href.includes('?') ? '&' : '?'}${new URLSearchParams({ metric: m })}`,
    current: m === metric,
  }));
  const day = (d: string) => formatCalendarDay(d, style.locale);
  const periodLabel = `${formatCalendarDay(period.from, style.locale, { year: false })} – ${day(period.to)}`;
  const previousLabel = `previous 30 days (${formatCalendarDay(previous.from, style.locale, { year: false })} – ${day(previous.to)})`;
  const openAnomalies = detail.anomalies.filter((a) => a.open).length;
  const budget = identity.budget;

  return (
    <>
      <p className="breadcrumb">
        <Link href="/performance">← Performance</Link>
      </p>
      <PageHeader title={identity.name} description={`${platformLabel(identity.platform)} campaign`} />
      <dl className={styles.facts}>
        <div>
          <dt>Platform</dt>
          <dd>{platformLabel(identity.platform)}</dd>
        </div>
        <div>
          <dt>Campaign id</dt>
          <dd>
            <code className={styles.id}>{identity.campaignId}</code>
          </dd>
        </div>
        <div>
          <dt>Data</dt>
          <dd>
            <time dateTime={identity.firstDay}>{day(identity.firstDay)}</time> – <time dateTime={identity.lastDataDay}>{day(identity.lastDataDay)}</time>
          </dd>
        </div>
        <div>
          <dt>Daily budget</dt>
          <dd>{budget ? `${formatMoney(budget.dailyBudget, style)} · ${budget.status}` : 'No budget set'}</dd>
        </div>
        {budget ? (
          <div>
            <dt>Strategy</dt>
            <dd>
              {STRATEGY_LABELS[budget.strategy] ?? budget.strategy}
              {budget.strategy === 'target_roas' && budget.targetRoas !== null ? ` ${budget.targetRoas}` : ''}
              {budget.strategy === 'target_cpa' && budget.targetCpa !== null ? ` ${formatMoney(budget.targetCpa, style)}` : ''}
            </dd>
          </div>
        ) : null}
        {budget?.recommendedBudget != null ? (
          <div>
            <dt>Recommended budget</dt>
            <dd>{formatMoney(budget.recommendedBudget, style)}</dd>
          </div>
        ) : null}
        {identity.campaignType ? (
          <div>
            <dt>Campaign type</dt>
            <dd>{identity.campaignType}</dd>
          </div>
        ) : null}
      </dl>

      <section className={styles.section} aria-labelledby="analysis-heading">
        <h2 id="analysis-heading">Against the rest of {platformLabel(identity.platform)}</h2>
        <p className={styles.intro}>
          The engine&apos;s analysis: this campaign over its last 7, 14 and 30 complete days against the other {platformLabel(identity.platform)}{' '}
          campaigns of the tenant over the same window (the campaign itself left out). A rating other than Average means the gap is larger than
          chance would make it (Poisson test, |z| ≥ 1.96); Insufficient data means too few conversions, clicks or impressions to tell, or no other
          campaign to compare with.
        </p>
        <AnalysisTable analysis={detail.analysis} style={style} />
      </section>

      <section className={styles.section} aria-labelledby="ratio-heading">
        <h2 id="ratio-heading">Campaign ÷ rest of platform</h2>
        <RatioBars analysis={detail.analysis} style={style} />
      </section>

      {/* The chart carries its own heading. */}
      <section className={styles.section}>
        <MetricChart data={chart} style={style} metricLinks={metricLinks} title={`${METRIC_INFO[metric].label} per day, ${periodLabel}`} />
      </section>

      <section className={styles.section} aria-labelledby="adsets-heading">
        <h2 id="adsets-heading">Ad sets, {periodLabel}</h2>
        {adsets.length > 0 ? (
          <CampaignTable
            rows={adsets}
            style={style}
            level="adset"
            comparisonLabel={previousLabel}
            fileName={`${identity.platform}-${identity.campaignId.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60)}-adsets`}
          />
        ) : (
          <p className="empty-state">No ad set of this campaign delivered in the last 60 days. Ad-set rows appear once an import includes them.</p>
        )}
      </section>

      <div className={styles.listsGrid}>
        <section className={styles.section} aria-labelledby="recs-heading">
          <h2 id="recs-heading">Open recommendations ({detail.recommendations.length})</h2>
          <RecommendationList items={detail.recommendations} style={style} />
        </section>
        <section className={styles.section} aria-labelledby="anomalies-heading">
          <h2 id="anomalies-heading">Anomalies ({openAnomalies} open)</h2>
          <AnomalyList items={detail.anomalies} style={style} />
        </section>
      </div>

      <section className={styles.section} aria-labelledby="bench-heading">
        <h2 id="bench-heading">Industry benchmarks</h2>
        <BenchmarkSection benchmarks={detail.benchmarks} platform={identity.platform} style={style} />
      </section>

      <section className={styles.section} aria-labelledby="history-heading">
        <h2 id="history-heading">Efficiency history</h2>
        <p className={styles.intro}>
          Each period the engine analysed, newest first (at most 50). Efficiency is 0 to 100: 50 is the rest of the platform, higher is better.
        </p>
        <HistoryTable rows={detail.history} style={style} />
      </section>
    </>
  );
}
