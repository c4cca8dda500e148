// The audit list: plain rows for the shared data table. The server pages and
// orders the log, so sorting lives in the URL (?sort=&dir=) with the filters.
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import type { AuditRow } from '@/lib/audit/queries';
import type { AuditFilter } from '@/lib/audit/schema';

const COLUMNS: DataColumn[] = [
  { key: 'occurredAt', header: 'When', kind: 'time' },
  { key: 'actor', header: 'Who' },
  { key: 'action', header: 'Action', kind: 'code' },
  { key: 'entityType', header: 'Entity', noteKey: 'entityId' },
  { key: 'details', header: 'Details', kind: 'link', hrefKey: 'detailsHref', labelKey: 'detailsLabel', hideHeader: true },
];

export function AuditTable({ rows, filter }: { rows: AuditRow[]; filter: AuditFilter }) {
  const data: DataRow[] = rows.map((r) => ({
    id: String(r.id),
    occurredAt: r.occurredAt,
    actor: r.actor,
    action: r.action,
    entityType: r.entityType,
    entityId: r.entityId,
    details: 'Details',
    detailsHref: `/audit/${r.id}`,
    detailsLabel: `Details of entry ${r.id}`,
  }));
  const sort = filter.sort ?? 'occurredAt';
  const dir = filter.dir ?? (sort === 'occurredAt' ? 'desc' : 'asc');
  return (
    <DataTable
      caption="Audit log entries"
      columns={COLUMNS}
      rows={data}
      sorting={{
        mode: 'url',
        basePath: '/audit',
        params: { action: filter.action, entity: filter.entity, actor: filter.actor, from: filter.from, to: filter.to },
        sort,
        dir,
      }}
    />
  );
}

