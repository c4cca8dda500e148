import type { Metadata } from 'next';
import Link from 'next/link';
import { BenchmarkScale, toneOf } from '@/components/benchmarks/BenchmarkScale';
import styles from '@/components/benchmarks/benchmarks.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { BENCHMARK_INFO, placementText, type BenchmarkMetric } from '@/lib/benchmarks/place';
import { benchmarksPage, OWN_DAYS } from '@/lib/benchmarks/queries';
import { formatCalendarDay, formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import { PLATFORM_LABELS } from '@/lib/performance/metrics';
import { tenantStyle } from '@/lib/performance/queries';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Industry benchmarks' };

const VERTICAL_LABEL: Record<string, string> = {
  ecommerce: 'e-commerce',
  lead_generation: 'lead generation',
  apps: 'apps',
  b2b: 'B2B',
  other: 'other',
};

function formatFigure(metric: BenchmarkMetric, v: number | null, style: NumberStyle): string {
  switch (BENCHMARK_INFO[metric].kind) {
    case 'money':
      return formatMoney(v, style);
    case 'percent':
      return formatPercent(v, style, 2);
    case 'ratio':
      return formatNumber(v, style, 2);
  }
}

export default async function Page() {
  const { data } = await tenantRead('viewer', async (trx, { tenant }) => {
    const { lastDay, ...style } = await tenantStyle(trx, tenant.tenantId);
    return { style, page: await benchmarksPage(trx, tenant.tenantId, style.vertical, lastDay) };
  });
  const { style, page } = data;
  const day = (d: string) => formatCalendarDay(d, style.locale);
  const vertical = page.vertical ? (VERTICAL_LABEL[page.vertical] ?? page.vertical) : null;

  if (page.platforms.length === 0) {
    return (
      <>
        <PageHeader title="Industry benchmarks" />
        <div className="empty-state">
          <p>
            <strong>No delivery in the last {OWN_DAYS} days.</strong> Once daily metrics arrive, this page places your ROAS, CPA, conversion
            rate, CTR, CPC and CPM on the industry&apos;s percentiles for each platform you advertise on.
          </p>
          <p>
            <Link href="/imports">Import a platform export</Link> to get started.
          </p>
        </div>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Industry benchmarks"
        description={
          vertical
            ? `Your last ${OWN_DAYS} complete days (${day(page.from)} – ${day(page.to)}, campaign totals) against ${vertical} advertisers on each platform.`
            : `Your last ${OWN_DAYS} complete days (${day(page.from)} – ${day(page.to)}).`
        }
      />
      {vertical ? null : (
        <div className="empty-state" role="status">
          This tenant has no industry vertical set, so there is no benchmark to compare with. An admin sets it with the tenant&apos;s details
          (saas.tenants.vertical: ecommerce, lead_generation, apps, b2b or other).
        </div>
      )}
      <p className={styles.legend} aria-hidden="true">
        <span>
          <span className={styles.swatch} style={{ background: 'rgba(31, 95, 214, 0.18)' }} />
          10th – 90th percentile
        </span>
        <span>
          <span className={styles.swatch} style={{ background: 'rgba(31, 95, 214, 0.4)' }} />
          25th – 75th
        </span>
        <span>▮ median</span>
        <span>▼ you</span>
      </p>
      {page.platforms.map((pl) => (
        <section key={pl.platform} className={`card ${styles.platform}`} aria-labelledby={`bench-${pl.platform}`}>
          <h2 id={`bench-${pl.platform}`}>{PLATFORM_LABELS[pl.platform]}</h2>
          <p className="muted small">
            Your {OWN_DAYS} days: {formatMoney(pl.totals.spend, style)} spent, {formatNumber(pl.totals.conversions, style, 0)} conversions
            {pl.source ? `. Benchmark: ${pl.source}` : ''}
            {pl.validFrom ? `, valid from ${day(pl.validFrom)}` : ''}.
          </p>
          <ul className={styles.lines}>
            {pl.lines.map((line) => {
              const info = BENCHMARK_INFO[line.metric];
              const tone = toneOf(line.placement);
              const p = line.percentiles;
              return (
                <li key={line.metric} className={styles.line} aria-label={`${info.label} on ${PLATFORM_LABELS[pl.platform]}`}>
                  <div className={styles.metric}>
                    {info.label}
                    <span className={styles.own}>You: {formatFigure(line.metric, line.own, style)}</span>
                  </div>
                  <div>
                    {p ? (
                      <>
                        <BenchmarkScale metric={line.metric} p={p} value={line.own} placement={line.placement} />
                        <dl className={styles.numbers}>
                          {(
                            [
                              ['p10', p.p10],
                              ['p25', p.p25],
                              ['median', p.p50],
                              ['p75', p.p75],
                              ['p90', p.p90],
                            ] as const
                          ).map(([term, v]) => (
                            <div key={term}>
                              <dt>{term}</dt>
                              <dd>{formatFigure(line.metric, v, style)}</dd>
                            </div>
                          ))}
                        </dl>
                      </>
                    ) : (
                      <span className="muted small">No benchmark</span>
                    )}
                  </div>
                  <p className={`${styles.verdict} ${tone === 'good' ? styles.good : tone === 'bad' ? styles.bad : ''}`}>
                    {placementText(line.metric, line.placement)}
                    {line.sampleSize ? <span className="muted small"> Benchmark sample: {formatNumber(line.sampleSize, style)}.</span> : null}
                  </p>
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </>
  );
}
