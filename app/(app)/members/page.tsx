import type { Metadata } from 'next';
import { AddMemberForm } from '@/components/members/AddMemberForm';
import { MembersTable } from '@/components/members/MembersTable';
import { PageHeader } from '@/components/ui/PageHeader';
import { hasRole } from '@/lib/tenancy/roles';
import { tenantRead } from '@/lib/request/read';
import { listMembers } from '@/lib/members/queries';

export const metadata: Metadata = { title: 'Members' };

export default async function MembersPage() {
  const { user, tenant, role, data: members } = await tenantRead('viewer', (trx, { tenant }) => listMembers(trx, tenant.tenantId));
  const canManage = hasRole(role, 'admin');
  return (
    <>
      <PageHeader
        title="Members"
        description={
          canManage
            ? `People with access to ${tenant.tenantName}. Viewers read; buyers also act on recommendations, anomalies, budgets and thresholds; admins also manage members and API keys.`
            : `People with access to ${tenant.tenantName}. Only admins can add, change or remove members.`
        }
      />
      {canManage ? <AddMemberForm tenantId={tenant.tenantId} /> : null}
      <MembersTable members={members} canManage={canManage} selfId={user.id} />
    </>
  );
}
