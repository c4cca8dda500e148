// Sessions that end: every session token carries the account's
// session_version from when it was issued; a password change, a reset or
// credentials replaced by an invitation move the version in the database, and
// a token with another version is signed out on its next request.
import 'server-only';
import { cookies } from 'next/headers';
import { decode, encode } from 'next-auth/jwt';
import { withUser, type Db } from '@/lib/db';

/** The account's current session version, or null for an unknown or disabled account. */
export async function currentSessionVersion(db: Db | undefined, userId: string): Promise<number | null> {
  const row = await withUser(
    userId,
    (trx) => trx.selectFrom('saas.users').select('session_version').where('id', '=', userId).where('disabled_at', 'is', null).executeTakeFirst(),
    db,
  );
  return row?.session_version ?? null;
}

/** Tokens issued before versions existed carry none: they count as the first. */
export function sessionStillValid(tokenVersion: number | undefined, current: number | null): boolean {
  return current !== null && (tokenVersion ?? 1) === current;
}

const SESSION_COOKIES = ['__Secure-next-auth.session-token', 'next-auth.session-token'];

/**
 * After the signed-in user moved their own version (a password change), keep
 * this session: re-issue its token with the new version. Every other session
 * of the account ends.
 */
export async function keepThisSession(newVersion: number, secret: string | undefined, maxAge: number): Promise<void> {
  if (!secret) return;
  const jar = await cookies();
  const name = SESSION_COOKIES.find((n) => jar.get(n));
  const value = name ? jar.get(name)?.value : undefined;
  if (!name || !value) return;
  const token = await decode({ token: value, secret });
  if (!token) return;
  const fresh = await encode({ token: { ...token, sv: newVersion }, secret, maxAge });
  jar.set(name, fresh, { httpOnly: true, sameSite: 'lax', path: '/', secure: name.startsWith('__Secure-'), maxAge });
}
