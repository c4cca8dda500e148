import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { requireTenant } from '@/lib/auth/session';

export const metadata: Metadata = { title: 'Recommendations' };

export default async function Page() {
  await requireTenant();
  return <ComingSoon title="Recommendations" summary="the optimizer’s proposals with their evidence and estimated impact, to approve or dismiss." />;
}
