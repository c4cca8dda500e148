// Session -> account -> tenant membership, read from the database on every
// request, so a disabled account, a removed member or a changed role takes
// effect at once. The tenant cookie is only a preference among memberships.
// An account still on a temporary password gets its memberships listed but
// mustChangePassword set: pages and actions refuse it until it chooses its own.
import 'server-only';
import { sql } from 'kysely';
import { isUuid, withUser, type Db } from '@/lib/db';
import type { Role } from './roles';

export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
}

export interface Membership {
  tenantId: string;
  tenantName: string;
  currency: string;
  role: Role;
}

export interface Access {
  user: SessionUser;
  memberships: Membership[];
  /** The membership in force for this request, or null when the user has none. */
  current: Membership | null;
  /** On a temporary password: nothing but /account/password until it is changed. */
  mustChangePassword: boolean;
}

/** The signed-in account and its memberships; null when the account is gone or disabled. */
export async function loadAccess(userId: string, preferredTenantId: string | null | undefined, db?: Db): Promise<Access | null> {
  if (!isUuid(userId)) return null;
  return withUser(
    userId,
    async (trx) => {
      const user = await trx
        .selectFrom('saas.users')
        .select(['id', 'email', 'name', 'password_must_change'])
        .where('id', '=', userId)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (!user) return null;
      const rows = await sql<{ tenant_id: string; tenant_name: string; currency: string; role: Role }>`
        select tenant_id, tenant_name, currency, role from saas.user_memberships(${userId})`.execute(trx);
      const memberships = rows.rows.map((r) => ({ tenantId: r.tenant_id, tenantName: r.tenant_name, currency: r.currency, role: r.role }));
      const current = memberships.find((m) => m.tenantId === preferredTenantId) ?? memberships[0] ?? null;
      return {
        user: { id: user.id, email: user.email, name: user.name },
        memberships,
        current,
        mustChangePassword: user.password_must_change,
      };
    },
    db,
  );
}
