import type { Metadata } from 'next';
import Link from 'next/link';
import { InviteMemberForm } from '@/components/members/InviteMemberForm';
import { PendingInvitations } from '@/components/members/PendingInvitations';
import { MembersTable } from '@/components/members/MembersTable';
import { PageHeader } from '@/components/ui/PageHeader';
import { hasRole } from '@/lib/tenancy/roles';
import { tenantRead } from '@/lib/request/read';
import { listMembers, listPendingInvitations } from '@/lib/members/queries';

export const metadata: Metadata = { title: 'Members' };

export default async function MembersPage() {
  const { user, tenant, role, data } = await tenantRead('viewer', async (trx, { tenant, role }) => ({
    members: await listMembers(trx, tenant.tenantId),
    invitations: hasRole(role, 'admin') ? await listPendingInvitations(trx, tenant.tenantId) : [],
  }));
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
      {canManage ? <InviteMemberForm tenantId={tenant.tenantId} /> : null}
      <PendingInvitations tenantId={tenant.tenantId} invitations={data.invitations} canManage={canManage} />
      <MembersTable members={data.members} canManage={canManage} selfId={user.id} />
      {canManage ? (
        <p className="muted">
          <Link href="/members/outbox">Outbox</Link>: the invitation mails of this tenant and whether they went out.
        </p>
      ) : null}
    </>
  );
}
