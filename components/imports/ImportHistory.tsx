// The tenant's imports, newest first, a page at a time (the server pages, so
// the table does not sort): who, when (in the tenant's time zone), from where,
// which file and platform, what each did, and why a refused one was refused.
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import { Pagination } from '@/components/ui/Pagination';
import type { NumberStyle } from '@/lib/format/number';
import type { ImportHistoryPage } from '@/lib/ingest/page-data';
import styles from './imports.module.css';

const COLUMNS: DataColumn[] = [
  { key: 'when', header: 'When', sortable: false },
  { key: 'who', header: 'Who', sortable: false },
  { key: 'source', header: 'Source', sortable: false },
  { key: 'file', header: 'File', noteKey: 'platform', noteBlock: true, sortable: false },
  { key: 'inserted', header: 'Inserted', kind: 'number', decimals: 0, sortable: false },
  { key: 'updated', header: 'Updated', kind: 'number', decimals: 0, sortable: false },
  { key: 'unchanged', header: 'Unchanged', kind: 'number', decimals: 0, sortable: false },
  { key: 'rejected', header: 'Rejected', kind: 'number', decimals: 0, sortable: false },
  { key: 'status', header: 'Status', kind: 'badge', toneKey: 'tone', noteKey: 'reason', noteBlock: true, sortable: false },
];

export function ImportHistory({ history, style, canUpload }: { history: ImportHistoryPage; style: NumberStyle; canUpload: boolean }) {
  const rows: DataRow[] = history.rows.map((r) => ({
    id: r.id,
    when: r.when,
    who: r.who,
    source: r.source,
    file: r.fileName ?? '—',
    platform: r.platform,
    inserted: r.inserted,
    updated: r.updated,
    unchanged: r.unchanged,
    rejected: r.rejected,
    status: r.status,
    tone: r.tone,
    reason: r.reason,
  }));
  return (
    <section aria-labelledby="history-title" className={styles.history}>
      <h2 id="history-title">History</h2>
      {history.total === 0 ? (
        <p className="empty-state">
          No imports yet — upload a Meta, Google Ads, TikTok or LinkedIn export
          {canUpload ? ' above.' : '. A buyer or an admin of this tenant can upload one; you can read the history here.'}
        </p>
      ) : (
        <>
          <p className="muted small">
            {history.total} {history.total === 1 ? 'import' : 'imports'}, newest first. Times in {history.timeZone}.
          </p>
          <DataTable caption="Imports of this tenant, newest first" columns={COLUMNS} rows={rows} numberStyle={style} />
          <Pagination page={history.page} pages={history.pages} basePath="/imports" params={{}} />
        </>
      )}
    </section>
  );
}
