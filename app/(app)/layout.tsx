// Every signed-in page: membership checked against the database, then the shell.
import type { ReactNode } from 'react';
import { AppShell } from '@/components/shell/AppShell';
import { requireTenant } from '@/lib/auth/session';
import { withTenant } from '@/lib/db';
import { navCounts } from '@/lib/shell/queries';

export default async function SignedInLayout({ children }: { children: ReactNode }) {
  const { user, tenant, role, memberships } = await requireTenant();
  const counts = await withTenant(tenant.tenantId, (trx) => navCounts(trx, tenant.tenantId), { userId: user.id });
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
