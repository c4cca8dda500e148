// The A/B test list: a status filter kept in the URL (?status=, with the count of each status), then
// the shared data table (it scrolls in its own box on a narrow screen): each test with its campaign,
// dates, primary metric, the current leader and its chance to win (past the minimum sample only),
// and the winner of a completed test with its significance. An empty tenant gets a next step.
import Link from 'next/link';
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import { AB_TEST_STATUSES, type AbTestStatus } from '@/lib/abtests/model';
import { STATUS_LABEL, type ListRow } from '@/lib/abtests/view';
import styles from './abtests.module.css';

const COLUMNS: DataColumn[] = [
  { key: 'name', header: 'Test', kind: 'link', hrefKey: 'href', noteKey: 'typeLabel', noteBlock: true, sortable: true },
  { key: 'status', header: 'Status', kind: 'badge', toneKey: 'statusTone', sortKey: 'statusRank', sortAs: 'natural' },
  { key: 'campaign', header: 'Campaign', noteKey: 'platform', noteBlock: true },
  { key: 'dates', header: 'Dates', sortKey: 'startDate', sortAs: 'text' },
  { key: 'metric', header: 'Primary metric' },
  { key: 'leader', header: 'Leader', headerNote: 'chance to win', noteKey: 'leaderNote', noteBlock: true, sortKey: 'chance', sortAs: 'number' },
  { key: 'winner', header: 'Winner', noteKey: 'winnerNote', noteBlock: true },
];

export function statusHref(status: AbTestStatus | null): string {
  return status ? `/ab-tests?status=${status}` : '/ab-tests';
}

export function AbTestList({
  rows,
  counts,
  total,
  status,
  canCreate,
}: {
  rows: ListRow[];
  counts: Record<AbTestStatus, number>;
  total: number;
  status: AbTestStatus | null;
  canCreate: boolean;
}) {
  if (total === 0) {
    return (
      <div className="empty-state">
        <p style={{ margin: 0 }}>
          No A/B tests yet. A test splits a campaign&apos;s budget or audience between a control (A) and a challenger (B) and tells you, in plain
          words, when one of them has won.
        </p>
        <p className={styles.emptyActions}>
          {canCreate ? (
            <Link href="/ab-tests/new" className="button button-small">
              Create a test
            </Link>
          ) : (
            <span>Buyers and admins create tests; you will see them here.</span>
          )}
        </p>
      </div>
    );
  }
  const tabs: { key: AbTestStatus | null; label: string; n: number }[] = [
    { key: null, label: 'All', n: total },
    ...AB_TEST_STATUSES.map((s) => ({ key: s, label: STATUS_LABEL[s], n: counts[s] })),
  ];
  return (
    <>
      <nav className={styles.statusNav} aria-label="Tests by status">
        <ul>
          {tabs.map((t) => (
            <li key={t.key ?? 'all'}>
              <Link href={statusHref(t.key)} aria-current={t.key === status ? 'page' : undefined}>
                {t.label}
                <span className={styles.count}>{t.n}</span>
                <span className="visually-hidden">{t.n === 1 ? ' test' : ' tests'}</span>
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {rows.length === 0 ? (
        <div className="empty-state">
          No {status ? STATUS_LABEL[status].toLowerCase() : ''} tests. <Link href={statusHref(null)}>Show every test</Link>
        </div>
      ) : (
        <DataTable
          caption={status ? `${STATUS_LABEL[status]} A/B tests` : 'A/B tests, running first'}
          columns={COLUMNS}
          rows={rows as DataRow[]}
          sorting={{ mode: 'client' }}
          search={rows.length > 10 ? { label: 'Search', keys: ['name', 'campaign', 'typeLabel'], placeholder: 'Test or campaign' } : undefined}
          pagination={rows.length > 50 ? { pageSizes: [50, 100, 250] } : undefined}
        />
      )}
    </>
  );
}
