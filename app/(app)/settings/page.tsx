import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Settings' };

export default async function Page() {
  await tenantRead();
  return <ComingSoon title="Settings" summary="per-platform thresholds: target ROAS, maximum CPA, anomaly sensitivity." />;
}
