import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { requireTenant } from '@/lib/auth/session';

export const metadata: Metadata = { title: 'Settings' };

export default async function Page() {
  await requireTenant();
  return <ComingSoon title="Settings" summary="per-platform thresholds: target ROAS, maximum CPA, anomaly sensitivity." />;
}
