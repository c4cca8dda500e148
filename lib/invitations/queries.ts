// What an invitation link leads to, before its reader is a member of the
// tenant (or signed in at all): through saas.invitation_lookup.
import 'server-only';
import { sql } from 'kysely';
import { appDb, type Db } from '@/lib/db';
import { parseLinkToken } from '@/lib/auth/link-token';
import type { Role } from '@/lib/tenancy/roles';

export type InvitationStatus = 'open' | 'expired' | 'accepted' | 'declined' | 'revoked';
export type InviteeAccount = 'none' | 'unverified' | 'verified' | 'disabled';

export interface InvitationView {
  tenantId: string;
  tenantName: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  expiresAt: string;
  account: InviteeAccount;
  invitedBy: string | null;
}

/** The invitation of a link, or null for a malformed or unknown link. */
export async function lookupInvitation(token: unknown, db: Db = appDb().db): Promise<InvitationView | null> {
  const t = parseLinkToken(token);
  if (!t) return null;
  const r = await sql<{
    tenant_id: string;
    tenant_name: string;
    email: string;
    role: Role;
    status: InvitationStatus;
    expires_at: Date;
    account: InviteeAccount;
    invited_by_name: string | null;
  }>`select * from saas.invitation_lookup(${t.id}::uuid, ${t.hash})`.execute(db);
  const row = r.rows[0];
  if (!row) return null;
  return {
    tenantId: row.tenant_id,
    tenantName: row.tenant_name,
    email: row.email,
    role: row.role,
    status: row.status,
    expiresAt: row.expires_at.toISOString(),
    account: row.account,
    invitedBy: row.invited_by_name,
  };
}
