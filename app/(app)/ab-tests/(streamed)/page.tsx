import type { Metadata } from 'next';
import Link from 'next/link';
import { AbTestList } from '@/components/abtests/AbTestList';
import styles from '@/components/abtests/abtests.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { abTestListPage } from '@/lib/abtests/page-data';
import { AB_TEST_STATUSES } from '@/lib/abtests/model';
import { parseStatusParam, STATUS_LABEL } from '@/lib/abtests/view';
import { formatCalendarDay } from '@/lib/format/number';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'A/B tests' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  // A status that is not one is named in a message and every test is shown: never an error page.
  const { status, invalid } = parseStatusParam((await searchParams).status);
  const { role, data } = await tenantRead('viewer', (trx, { tenant }) => abTestListPage(trx, tenant.tenantId, { status }));
  const canCreate = hasRole(role, 'buyer');
  return (
    <>
      <PageHeader
        title="A/B tests"
        description="Each test's current leader on its primary metric and its chance to win, shown once the minimum sample is in; completed tests with their winner."
      >
        {canCreate && data.total > 0 ? (
          <Link href="/ab-tests/new" className="button button-small">
            New test
          </Link>
        ) : null}
      </PageHeader>
      {invalid !== null ? (
        <p className="notice notice-warn" role="status">
          &ldquo;{invalid}&rdquo; is not a test status, so every test is shown. The statuses are{' '}
          {AB_TEST_STATUSES.map((s) => STATUS_LABEL[s].toLowerCase()).join(', ')}.
        </p>
      ) : null}
      {data.total > 0 ? (
        <p className={`muted ${styles.asOf}`}>Readings with the data to {formatCalendarDay(data.asOf, data.style.locale)}, the last complete day.</p>
      ) : null}
      <AbTestList rows={data.rows} counts={data.counts} total={data.total} status={status} canCreate={canCreate} />
    </>
  );
}
