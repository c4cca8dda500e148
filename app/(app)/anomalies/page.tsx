import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { requireTenant } from '@/lib/auth/session';

export const metadata: Metadata = { title: 'Anomalies' };

export default async function Page() {
  await requireTenant();
  return <ComingSoon title="Anomalies" summary="unusual metric values scored against each campaign’s own history, to investigate and resolve." />;
}
