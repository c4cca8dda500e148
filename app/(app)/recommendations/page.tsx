import type { Metadata } from 'next';
import { OptimizerPanel } from '@/components/engine/OptimizerPanel';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { hasRole } from '@/lib/auth/roles';
import { requireTenant } from '@/lib/auth/session';
import { withTenant } from '@/lib/db';
import { recentOptimizerRuns } from '@/lib/engine/queries';

export const metadata: Metadata = { title: 'Recommendations' };

export default async function Page() {
  const { tenant, user, role } = await requireTenant();
  const runs = await withTenant(tenant.tenantId, (trx) => recentOptimizerRuns(trx, tenant.tenantId), { userId: user.id });
  return (
    <>
      <ComingSoon title="Recommendations" summary="the optimiser’s proposals with their evidence and estimated impact, to approve or dismiss." />
      <OptimizerPanel runs={runs} canRun={hasRole(role, 'buyer')} tenantId={tenant.tenantId} />
    </>
  );
}
