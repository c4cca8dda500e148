// The outbox list: plain rows for the shared data table, newest first as the
// server pages them (no re-sorting of one page). A kept body folds in a
// <details> under its subject, in the widest column; a body sent through a
// mail server was not kept.
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import type { OutboxRow } from '@/lib/mail/queries';

const COLUMNS: DataColumn[] = [
  { key: 'createdAt', header: 'When', kind: 'time', sortable: false },
  { key: 'kind', header: 'Kind', kind: 'code', sortable: false },
  { key: 'to', header: 'To', sortable: false },
  { key: 'body', header: 'Message', kind: 'details', labelKey: 'subject', noteKey: 'bodyNote' },
  { key: 'status', header: 'Status', noteKey: 'statusNote', sortable: false },
];

export function outboxStatus(r: OutboxRow): { status: string; note: string | null } {
  if (r.transport === 'outbox') return { status: 'Kept in outbox', note: '(no mail server)' };
  if (r.sentAt) return { status: 'Sent', note: null };
  if (r.lastError) return { status: 'Failed', note: `${r.attempts > 1 ? `(${r.attempts} attempts) ` : ''}${r.lastError}` };
  return { status: 'Not sent yet', note: null };
}

export function OutboxTable({ rows }: { rows: OutboxRow[] }) {
  const data: DataRow[] = rows.map((r) => {
    const { status, note } = outboxStatus(r);
    return {
      id: String(r.id),
      createdAt: r.createdAt,
      kind: r.kind,
      to: r.to,
      subject: r.subject,
      status,
      statusNote: note,
      body: r.body,
      bodyNote: r.body === null ? '(body not kept)' : null,
    };
  });
  return <DataTable caption="Messages sent from this tenant, newest first" columns={COLUMNS} rows={data} />;
}
