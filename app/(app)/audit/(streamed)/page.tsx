import type { Metadata } from 'next';
import { AuditFilters } from '@/components/audit/AuditFilters';
import { AuditTable } from '@/components/audit/AuditTable';
import { PageHeader } from '@/components/ui/PageHeader';
import { Pagination } from '@/components/ui/Pagination';
import { listAudit } from '@/lib/audit/queries';
import { parseAuditFilter } from '@/lib/audit/schema';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Audit' };

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const filter = parseAuditFilter(await searchParams);
  const { tenant, data: result } = await tenantRead('viewer', (trx, { tenant }) => listAudit(trx, tenant.tenantId, filter));
  const filtered = Boolean(filter.action || filter.entity || filter.actor || filter.from || filter.to);
  return (
    <>
      <PageHeader
        title="Audit"
        description={`Every change in ${tenant.tenantName}: who, what, which entity, before and after, when.`}
      />
      <AuditFilters filter={filter} actions={result.actions} entityTypes={result.entityTypes} />
      <p className="muted" aria-live="polite">
        {result.total} {result.total === 1 ? 'entry' : 'entries'}
        {filtered ? (result.total === 1 ? ' matches the filters' : ' match the filters') : ''}.
      </p>
      {result.rows.length ? (
        <AuditTable rows={result.rows} filter={filter} />
      ) : (
        <p className="empty-state">
          {filtered ? 'Nothing matches these filters. Widen the dates or clear the filters.' : 'No changes yet. Changes made in this tenant appear here.'}
        </p>
      )}
      <Pagination
        page={result.page}
        pages={result.pages}
        basePath="/audit"
        params={{ action: filter.action, entity: filter.entity, actor: filter.actor, from: filter.from, to: filter.to, sort: filter.sort, dir: filter.dir }}
      />
    </>
  );
}
