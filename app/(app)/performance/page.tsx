import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Performance' };

export default async function Page() {
  await tenantRead();
  return <ComingSoon title="Performance" summary="daily spend, conversions, ROAS and CPA for each platform and campaign against its 1 to 90-day baselines." />;
}
