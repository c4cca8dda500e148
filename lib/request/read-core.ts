// The core of every tenant read (pages, layouts, route handlers), free of
// Next's request context so it can be tested directly: the account and its
// membership from the database, the role, then the reader in one withTenant
// transaction. The twin of runTenantAction for reads.
import 'server-only';
import { withTenant, type Db, type Tx } from '@/lib/db';
import type { Access, Membership } from '@/lib/tenancy/membership';
import { hasRole, type Role } from '@/lib/tenancy/roles';
import type { ActionContext } from './action-core';

/** Where an account on a temporary password is sent, and the only page it may see. */
export const CHANGE_PASSWORD_PATH = '/account/password';
export const SIGN_IN_PATH = '/signin';
export const NO_ACCESS_PATH = '/no-access';

export interface TenantContext extends ActionContext {
  /** Every tenant the user belongs to (for the tenant switcher). */
  memberships: Membership[];
}

export type TenantReader<T> = (trx: Tx, ctx: TenantContext) => Promise<T>;

export type ReadOutcome<T> =
  | { kind: 'ok'; ctx: TenantContext; data: T }
  | { kind: 'redirect'; to: string }
  /** Below the role: a page the user may not see is not told apart from one that does not exist. */
  | { kind: 'not-found' };

/**
 * Signed out -> sign-in; a temporary password -> the change-password page;
 * no membership -> no-access; a role below minRole -> not found. Otherwise the
 * reader runs in the tenant's transaction (no reader: the context alone).
 */
export async function runTenantRead<T = undefined>(
  access: Access | null,
  minRole: Role,
  read?: TenantReader<T>,
  db?: Db,
): Promise<ReadOutcome<T>> {
  if (!access) return { kind: 'redirect', to: SIGN_IN_PATH };
  if (access.mustChangePassword) return { kind: 'redirect', to: CHANGE_PASSWORD_PATH };
  const tenant = access.current;
  if (!tenant) return { kind: 'redirect', to: NO_ACCESS_PATH };
  if (!hasRole(tenant.role, minRole)) return { kind: 'not-found' };
  const ctx: TenantContext = { user: access.user, tenant, role: tenant.role, memberships: access.memberships };
  const data = read ? await withTenant(tenant.tenantId, (trx) => read(trx, ctx), { userId: access.user.id }, db) : (undefined as T);
  return { kind: 'ok', ctx, data };
}
