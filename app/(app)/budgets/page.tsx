import type { Metadata } from 'next';
import { ComingSoon } from '@/components/shell/ComingSoon';
import { requireTenant } from '@/lib/auth/session';

export const metadata: Metadata = { title: 'Budgets' };

export default async function Page() {
  await requireTenant();
  return <ComingSoon title="Budgets" summary="daily budgets per campaign with the recommended amounts, to edit." />;
}
