import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Anomalies' };

export default async function Page() {
  await tenantRead();
  return <ComingSoon title="Anomalies" summary="unusual metric values scored against each campaign’s own history, to investigate and resolve." />;
}
