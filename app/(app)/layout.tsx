// Every signed-in page: membership checked against the database, then the shell.
import type { ReactNode } from 'react';
import { AppShell } from '@/components/shell/AppShell';
import { tenantRead } from '@/lib/request/read';
import { navCounts } from '@/lib/shell/queries';

export default async function SignedInLayout({ children }: { children: ReactNode }) {
  const { user, tenant, role, memberships, data: counts } = await tenantRead('viewer', (trx, { tenant }) => navCounts(trx, tenant.tenantId));
  return (
    <AppShell
      tenant={tenant}
      user={user}
      role={role}
      memberships={memberships.map((m) => ({ tenantId: m.tenantId, tenantName: m.tenantName, role: m.role }))}
      counts={counts}
    >
      {children}
    </AppShell>
  );
}
