// Who is asking: the session's account id, the preferred-tenant cookie, and
// the account's memberships from the database (once per request thanks to
// React cache()). Pages read through lib/request/read.ts, actions through
// lib/request/action.ts.
import 'server-only';
import { getServerSession } from 'next-auth';
import { cookies } from 'next/headers';
import { cache } from 'react';
import { loadAccess, type Access } from './membership';
import { authOptions } from '@/lib/auth/options';

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
