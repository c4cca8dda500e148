import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Budgets' };

export default async function Page() {
  await tenantRead();
  return <ComingSoon title="Budgets" summary="daily budgets per campaign with the recommended amounts, to edit." />;
}
