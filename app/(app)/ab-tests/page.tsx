import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'A/B tests' };

export default async function Page() {
  await tenantRead();
  return <ComingSoon title="A/B tests" summary="results of running and finished tests, with their statistical significance." />;
}
