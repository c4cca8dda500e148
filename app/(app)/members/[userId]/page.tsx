import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { MemberRoleForm } from '@/components/members/MemberRoleForm';
import { RemoveMemberForm } from '@/components/members/RemoveMemberForm';
import { PageHeader } from '@/components/ui/PageHeader';
import { ROLE_LABEL } from '@/lib/tenancy/roles';
import { tenantRead } from '@/lib/request/read';
import { getMember, type Member } from '@/lib/members/queries';

export const metadata: Metadata = { title: 'Member' };

function status(m: Member): string {
  if (m.disabled) return ' The account is disabled.';
  // Accounts created before invitations, on a temporary password an admin saw.
  return m.pendingActivation ? ' Not activated yet: they have not chosen their own password. Invite them again to let them prove their email.' : '';
}

export default async function MemberPage({ params }: { params: Promise<{ userId: string }> }) {
  const { userId } = await params;
  const { tenant, data: member } = await tenantRead('admin', (trx, { tenant }) => getMember(trx, tenant.tenantId, userId));
  if (!member) notFound();
  return (
    <>
      <p className="breadcrumb">
        <Link href="/members">← Members</Link>
      </p>
      <PageHeader
        title={member.name ? `${member.name} (${member.email})` : member.email}
        description={`${ROLE_LABEL[member.role]} of ${tenant.tenantName} since ${member.joinedAt.slice(0, 10)}.${status(member)}`}
      />
      <MemberRoleForm tenantId={tenant.tenantId} userId={member.userId} role={member.role} />
      <RemoveMemberForm tenantId={tenant.tenantId} userId={member.userId} email={member.email} />
    </>
  );
}
