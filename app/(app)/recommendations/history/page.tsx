import type { Metadata } from 'next';
import Link from 'next/link';
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import styles from '@/components/recommendations/recommendations.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { listMembers } from '@/lib/members/queries';
import { campaignHref } from '@/lib/performance/queries';
import { TYPE_LABEL } from '@/lib/recommendations/labels';
import { listDecided } from '@/lib/recommendations/queries';
import { decidedFilterSchema, DECIDED_STATUSES, firstValues, type DecidedStatus } from '@/lib/recommendations/schema';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Recommendation history' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const TAB_LABEL: Readonly<Record<DecidedStatus, string>> = {
  applied: 'Applied',
  dismissed: 'Dismissed',
  expired: 'Expired',
  withdrawn: 'Withdrawn',
};

const COLUMNS: DataColumn[] = [
  { key: 'decidedAt', header: 'When', kind: 'time' },
  { key: 'type', header: 'Type' },
  { key: 'target', header: 'Target', kind: 'link', hrefKey: 'href', labelKey: 'target' },
  { key: 'description', header: 'What it said' },
  { key: 'decidedBy', header: 'Decided by' },
  { key: 'reason', header: 'Reason' },
];

export default async function HistoryPage({ searchParams }: { searchParams: SearchParams }) {
  // Bad values fall back (the schema catches each one): applied, everyone, page 1.
  const filter = decidedFilterSchema.parse(firstValues(await searchParams));
  const { data } = await tenantRead('viewer', async (trx, { tenant }) => ({
    page: await listDecided(trx, tenant.tenantId, filter),
    members: await listMembers(trx, tenant.tenantId),
  }));
  const rows: DataRow[] = data.page.rows.map((r) => ({
    id: r.id,
    decidedAt: r.decidedAt,
    type: TYPE_LABEL[r.type] ?? r.type,
    target: r.entityName ?? r.entityId ?? '—',
    href: r.platform && r.campaignId ? campaignHref(r.platform, r.campaignId) : null,
    description: r.description,
    decidedBy: r.decidedBy?.label ?? (r.status === 'withdrawn' ? 'the engine' : '—'),
    reason: r.reason,
  }));
  const href = (params: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    const s = q.toString();
    return s ? `/recommendations/history?${s}` : '/recommendations/history';
  };
  return (
    <>
      <PageHeader title="Recommendation history" description={<Link href="/recommendations">← Back to the queue</Link>} />
      <nav aria-label="History" className={styles.tabs}>
        {DECIDED_STATUSES.map((s) => (
          <Link key={s} href={href({ status: s, decidedBy: filter.decidedBy })} aria-current={s === filter.status ? 'page' : undefined}>
            {TAB_LABEL[s]}
          </Link>
        ))}
      </nav>
      {filter.status === 'applied' || filter.status === 'dismissed' ? (
        <form method="get" action="/recommendations/history" className={`filters ${styles.filters}`} aria-label="Filter by who decided">
          <input type="hidden" name="status" value={filter.status} />
          <div className="field">
            <label htmlFor="rh-by">Decided by</label>
            <select id="rh-by" name="decidedBy" defaultValue={filter.decidedBy ?? ''}>
              <option value="">Anyone</option>
              {data.members.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.name ?? m.email}
                </option>
              ))}
            </select>
          </div>
          <div className="field field-submit">
            <button type="submit" className="button button-small">
              Show
            </button>
          </div>
        </form>
      ) : null}
      {rows.length === 0 ? (
        <div className="empty-state">No {TAB_LABEL[filter.status].toLowerCase()} recommendations{filter.decidedBy ? ' by this member' : ''} yet.</div>
      ) : (
        <DataTable caption={`${TAB_LABEL[filter.status]} recommendations`} columns={COLUMNS} rows={rows} sorting={{ mode: 'client' }} />
      )}
      {data.page.pages > 1 ? (
        <nav className={styles.pager} aria-label="Pages">
          {data.page.page > 1 ? <Link href={href({ status: filter.status, decidedBy: filter.decidedBy, page: String(data.page.page - 1) })}>← Previous</Link> : null}
          <span>
            Page {data.page.page} of {data.page.pages}
          </span>
          {data.page.page < data.page.pages ? (
            <Link href={href({ status: filter.status, decidedBy: filter.decidedBy, page: String(data.page.page + 1) })}>Next →</Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}
