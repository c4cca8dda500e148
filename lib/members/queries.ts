// Reads of a tenant's members (inside the tenant's transaction).
import 'server-only';
import type { Tx } from '@/lib/db';
import { isUuid } from '@/lib/db';
import type { Role } from '@/lib/tenancy/roles';

export interface Member {
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  joinedAt: string;
  disabled: boolean;
  /** Still on the temporary password an admin was shown. */
  pendingActivation: boolean;
  /** When that temporary password stops working (ISO), or null. */
  temporaryPasswordExpiresAt: string | null;
}

function memberQuery(trx: Tx, tenantId: string) {
  return trx
    .selectFrom('saas.memberships as m')
    .innerJoin('saas.users as u', 'u.id', 'm.user_id')
    .where('m.tenant_id', '=', tenantId)
    .select(['m.user_id', 'u.email', 'u.name', 'm.role', 'm.created_at', 'u.disabled_at', 'u.password_must_change', 'u.password_expires_at']);
}

type Row = {
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  created_at: Date;
  disabled_at: Date | null;
  password_must_change: boolean;
  password_expires_at: Date | null;
};
const toMember = (r: Row): Member => ({
  userId: r.user_id,
  email: r.email,
  name: r.name,
  role: r.role,
  joinedAt: r.created_at.toISOString(),
  disabled: r.disabled_at !== null,
  pendingActivation: r.password_must_change,
  temporaryPasswordExpiresAt: r.password_must_change && r.password_expires_at ? r.password_expires_at.toISOString() : null,
});

export async function listMembers(trx: Tx, tenantId: string): Promise<Member[]> {
  const rows = await memberQuery(trx, tenantId).orderBy('u.email').execute();
  return rows.map(toMember);
}

export async function getMember(trx: Tx, tenantId: string, userId: string): Promise<Member | null> {
  if (!isUuid(userId)) return null;
  const r = await memberQuery(trx, tenantId).where('m.user_id', '=', userId).executeTakeFirst();
  return r ? toMember(r) : null;
}

export interface PendingInvitation {
  id: string;
  email: string;
  role: Role;
  invitedBy: string | null;
  sentAt: string;
  expiresAt: string;
  expired: boolean;
}

/** Invitations not yet accepted, declined or revoked (expired ones too: they can be resent), newest first. */
export async function listPendingInvitations(trx: Tx, tenantId: string): Promise<PendingInvitation[]> {
  const rows = await trx
    .selectFrom('saas.invitations as i')
    .leftJoin('saas.users as u', 'u.id', 'i.invited_by')
    .where('i.tenant_id', '=', tenantId)
    .where('i.accepted_at', 'is', null)
    .where('i.declined_at', 'is', null)
    .where('i.revoked_at', 'is', null)
    .select(['i.id', 'i.email', 'i.role', 'i.sent_at', 'i.expires_at', 'u.email as inviter_email', 'u.name as inviter_name'])
    .orderBy('i.sent_at', 'desc')
    .execute();
  const now = Date.now();
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    role: r.role,
    invitedBy: r.inviter_name ?? r.inviter_email ?? null,
    sentAt: r.sent_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    expired: r.expires_at.getTime() <= now,
  }));
}
