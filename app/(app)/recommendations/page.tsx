import type { Metadata } from 'next';
import Link from 'next/link';
import { OptimizerPanel } from '@/components/engine/OptimizerPanel';
import { AutoApplyPanel } from '@/components/recommendations/AutoApplyPanel';
import { RecommendationQueue, type QueueRow } from '@/components/recommendations/RecommendationQueue';
import { ScorePanel } from '@/components/recommendations/ScorePanel';
import styles from '@/components/recommendations/recommendations.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { recentOptimizerRuns } from '@/lib/engine/queries';
import { PLATFORM_LABELS, PLATFORMS } from '@/lib/performance/metrics';
import { campaignHref, tenantStyle } from '@/lib/performance/queries';
import { autoApplyPolicies, recentAutoApplications } from '@/lib/recommendations/auto-apply';
import { evidenceSeries } from '@/lib/recommendations/evidence-series';
import { TYPE_LABEL } from '@/lib/recommendations/labels';
import { databaseNow, listPending } from '@/lib/recommendations/queries';
import { ENTITY_LEVELS, firstValues, pendingFilterSchema, PRIORITIES, RECOMMENDATION_TYPES } from '@/lib/recommendations/schema';
import { scoreFor } from '@/lib/recommendations/score-data';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Recommendations' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  // Bad values in the URL fall back (the schema catches each one): never an error page.
  const filter = pendingFilterSchema.parse(firstValues(await searchParams));
  const { tenant, role, data } = await tenantRead('viewer', async (trx, { tenant }) => {
    const { lastDay: _lastDay, timezone, ...style } = await tenantStyle(trx, tenant.tenantId);
    const queue = await listPending(trx, tenant.tenantId, filter);
    return {
      style,
      timezone,
      score: await scoreFor(trx, tenant.tenantId),
      policies: await autoApplyPolicies(trx, tenant.tenantId),
      autoApplied: await recentAutoApplications(trx, tenant.tenantId),
      now: await databaseNow(trx),
      runs: await recentOptimizerRuns(trx, tenant.tenantId),
      queue,
      // the evidence chart of each row shown: one read of the rows' daily figures
      charts: await evidenceSeries(trx, tenant.tenantId, queue.rows, { locale: style.locale }),
    };
  });
  const rows: QueueRow[] = data.queue.rows.map((r) => ({
    ...r,
    href: r.platform && r.campaignId ? campaignHref(r.platform, r.campaignId) : null,
    chart: data.charts.get(r.id) ?? null,
    uplift: data.score.uplift.get(r.id) ?? null,
  }));
  const pageHref = (page: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ type: filter.type, platform: filter.platform, priority: filter.priority, level: filter.level, q: filter.q }))
      if (v) q.set(k, v);
    if (page > 1) q.set('page', String(page));
    const s = q.toString();
    return s ? `/recommendations?${s}` : '/recommendations';
  };
  const filtered = Boolean(filter.type || filter.platform || filter.priority || filter.level || filter.q);
  return (
    <>
      <PageHeader
        title="Recommendations"
        description="What the engine proposes, most at stake first. Open the evidence to see the figures and the test behind each one."
      >
        <Link href="/recommendations/history">History</Link>
      </PageHeader>
      <form method="get" action="/recommendations" className={`filters ${styles.filters}`} aria-label="Filter recommendations">
        <div className="field">
          <label htmlFor="rf-type">Type</label>
          <select id="rf-type" name="type" defaultValue={filter.type ?? ''}>
            <option value="">All types</option>
            {RECOMMENDATION_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABEL[t]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="rf-platform">Platform</label>
          <select id="rf-platform" name="platform" defaultValue={filter.platform ?? ''}>
            <option value="">All platforms</option>
            {PLATFORMS.map((p) => (
              <option key={p} value={p}>
                {PLATFORM_LABELS[p]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="rf-priority">Priority</label>
          <select id="rf-priority" name="priority" defaultValue={filter.priority ?? ''}>
            <option value="">All priorities</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="rf-level">Level</label>
          <select id="rf-level" name="level" defaultValue={filter.level ?? ''}>
            <option value="">All levels</option>
            {ENTITY_LEVELS.filter((l) => l !== 'ad').map((l) => (
              <option key={l} value={l}>
                {l === 'adset' ? 'Ad set' : 'Campaign'}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="rf-q">Search</label>
          <input id="rf-q" name="q" defaultValue={filter.q ?? ''} maxLength={100} placeholder="Campaign or text" />
        </div>
        <div className="field field-submit">
          <button type="submit" className="button button-small">
            Filter
          </button>
          {filtered ? <Link href="/recommendations">Clear</Link> : null}
        </div>
      </form>
      <p className="muted">
        {data.queue.total} pending{filtered ? ' matching' : ''}
        {data.queue.pages > 1 ? `, page ${data.queue.page} of ${data.queue.pages}` : ''}.
      </p>
      {/* Rendered even when empty: the outcome of the last decision stays on screen after its row leaves. */}
      <RecommendationQueue
        rows={rows}
        style={data.style}
        tenantId={tenant.tenantId}
        canDecide={hasRole(role, 'buyer')}
        now={data.now}
        emptyText={
          filtered
            ? 'No pending recommendation matches these filters.'
            : 'Nothing to decide: the engine has no pending recommendation. It runs every day after the data arrive.'
        }
      />
      {data.queue.pages > 1 ? (
        <nav className={styles.pager} aria-label="Pages">
          {data.queue.page > 1 ? <Link href={pageHref(data.queue.page - 1)}>← Previous</Link> : null}
          {data.queue.page < data.queue.pages ? <Link href={pageHref(data.queue.page + 1)}>Next →</Link> : null}
        </nav>
      ) : null}
      <ScorePanel score={data.score} style={data.style} hrefOf={campaignHref} />
      <AutoApplyPanel
        policies={data.policies}
        applied={data.autoApplied}
        style={data.style}
        timeZone={data.timezone}
        tenantId={tenant.tenantId}
        canUndo={hasRole(role, 'buyer')}
      />
      <OptimizerPanel runs={data.runs} canRun={hasRole(role, 'buyer')} tenantId={tenant.tenantId} />
    </>
  );
}
