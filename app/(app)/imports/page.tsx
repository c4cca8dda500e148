import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { requireTenant } from '@/lib/auth/session';

export const metadata: Metadata = { title: 'Imports' };

export default async function Page() {
  await requireTenant();
  return <ComingSoon title="Imports" summary="upload daily metrics from each ad platform as CSV." />;
}
