import type { Metadata } from 'next';
import { OptimizerPanel } from '@/components/engine/OptimizerPanel';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { hasRole } from '@/lib/tenancy/roles';
import { tenantRead } from '@/lib/request/read';
import { recentOptimizerRuns } from '@/lib/engine/queries';

export const metadata: Metadata = { title: 'Recommendations' };

export default async function Page() {
  const { tenant, role, data: runs } = await tenantRead('viewer', (trx, { tenant }) => recentOptimizerRuns(trx, tenant.tenantId));
  return (
    <>
      <ComingSoon title="Recommendations" summary="the optimiser’s proposals with their evidence and estimated impact, to approve or dismiss." />
      <OptimizerPanel runs={runs} canRun={hasRole(role, 'buyer')} tenantId={tenant.tenantId} />
    </>
  );
}
