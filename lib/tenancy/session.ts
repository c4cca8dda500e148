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
import { currentSessionVersion, sessionStillValid } from '@/lib/auth/session-version';
import { isUuid } from '@/lib/db';

export const TENANT_COOKIE = 'aegis-tenant';

/** The signed-in account's id; null when signed out or when the session's version is stale (password changed or reset since). */
export const getSessionUserId = cache(async (): Promise<string | null> => {
  const session = await getServerSession(authOptions());
  const id = session?.user?.id;
  if (!id || !isUuid(id)) return null;
  return sessionStillValid(session.user.sv, await currentSessionVersion(undefined, id)) ? id : null;
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
