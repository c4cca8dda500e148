// Request-side auth for pages and actions: the session's account id, the
// preferred-tenant cookie, and requireTenant(), which checks the membership
// in the database (once per request thanks to React cache()).
import 'server-only';
import { getServerSession } from 'next-auth';
import { cookies } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import { loadAccess, type Access, type Membership, type SessionUser } from './membership';
import { authOptions } from './options';
import { hasRole, type Role } from './roles';

export const TENANT_COOKIE = 'aegis-tenant';

export const getSessionUserId = cache(async (): Promise<string | null> => {
  const session = await getServerSession(authOptions());
  return session?.user?.id || null;
});

export async function getPreferredTenantId(): Promise<string | null> {
  return (await cookies()).get(TENANT_COOKIE)?.value ?? null;
}

/** The signed-in account with its memberships, or null (signed out, account gone or disabled). */
export const getAccess = cache(async (): Promise<Access | null> => {
  const userId = await getSessionUserId();
  if (!userId) return null;
  return loadAccess(userId, await getPreferredTenantId());
});

export interface TenantAccess {
  user: SessionUser;
  tenant: Membership;
  role: Role;
  memberships: Membership[];
}

/** Where an account on a temporary password is sent, and the only page it may see. */
export const CHANGE_PASSWORD_PATH = '/account/password';

/**
 * For signed-in pages: the user, the tenant in force and the role. Signed out
 * goes to /signin, a temporary password to /account/password, no membership to
 * /no-access; a role below minRole gets "not found", as a page the user may
 * not see should not be told apart.
 */
export async function requireTenant(minRole: Role = 'viewer'): Promise<TenantAccess> {
  const access = await getAccess();
  if (!access) redirect('/signin');
  if (access.mustChangePassword) redirect(CHANGE_PASSWORD_PATH);
  if (!access.current) redirect('/no-access');
  if (!hasRole(access.current.role, minRole)) notFound();
  return { user: access.user, tenant: access.current, role: access.current.role, memberships: access.memberships };
}

/** Cookie settings for the tenant preference: httpOnly, SameSite=Lax, Secure over HTTPS. */
export function tenantCookieOptions() {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: (process.env.NEXTAUTH_URL ?? '').startsWith('https://'),
    path: '/',
    maxAge: 60 * 60 * 24 * 365,
  };
}
