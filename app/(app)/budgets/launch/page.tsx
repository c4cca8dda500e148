import type { Metadata } from 'next';
import Link from 'next/link';
import { LaunchFlow } from '@/components/budgets/LaunchFlow';
import { PageHeader } from '@/components/ui/PageHeader';
import { launchPageData } from '@/lib/budgets/launch';
import { tenantRead } from '@/lib/request/read';
import { hasRole, ROLE_LABEL } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Launch a campaign' };

export default async function Page() {
  // Viewers get the notice only: the form's data is read for buyers and admins (the server refuses a viewer's launch anyway).
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant, role }) =>
    hasRole(role, 'buyer') ? launchPageData(trx, tenant.tenantId) : Promise.resolve(null),
  );
  return (
    <>
      <PageHeader
        title="Launch a campaign"
        description="Its budget, the platform’s engine settings, an optional A/B test and anomaly detection, saved together: all of it, or nothing."
      >
        <Link href="/budgets">Budgets</Link>
      </PageHeader>
      {data ? (
        <LaunchFlow data={data} tenantId={tenant.tenantId} />
      ) : (
        <p className="notice notice-warn" role="status">
          Launching a campaign needs the Buyer role; you are {ROLE_LABEL[role]}. You can read the allocations on the <Link href="/budgets">budgets</Link> page
          and each platform’s settings under <Link href="/settings">Settings</Link>.
        </p>
      )}
    </>
  );
}
