import type { Metadata } from 'next';
import Link from 'next/link';
import { AbTestForm } from '@/components/abtests/AbTestForm';
import { PageHeader } from '@/components/ui/PageHeader';
import { abTestFormData } from '@/lib/abtests/form-data';
import { tenantRead } from '@/lib/request/read';
import { hasRole, ROLE_LABEL } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'New A/B test' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  const sp = await searchParams;
  // The platform and campaign chosen in the form come from the URL (the form writes them there to load their entities).
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant, role }) =>
    hasRole(role, 'buyer') ? abTestFormData(trx, tenant.tenantId, { platform: first(sp.platform), campaign: first(sp.campaign) }) : Promise.resolve(null),
  );
  return (
    <>
      <PageHeader
        title="New A/B test"
        description="Two variants, the ids that carry each (or totals measured elsewhere), the metric that decides, and how long it needs to run."
      >
        <Link href="/ab-tests">All tests</Link>
      </PageHeader>
      {data ? (
        <AbTestForm data={data} tenantId={tenant.tenantId} />
      ) : (
        <p className="notice notice-warn" role="status">
          Creating an A/B test needs the Buyer role; you are {ROLE_LABEL[role]}. You can read the tests on the <Link href="/ab-tests">A/B tests</Link> page.
        </p>
      )}
    </>
  );
}
