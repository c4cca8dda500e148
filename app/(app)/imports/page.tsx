import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Imports' };

export default async function Page() {
  await tenantRead();
  return <ComingSoon title="Imports" summary="upload daily metrics from each ad platform as CSV." />;
}
