// The credential check behind the sign-in form, free of next-auth so it can be
// tested on its own: rate limit, look-up by email, argon2id verification, and
// the expiry of a temporary password (one an admin was shown). A temporary
// password that is still valid signs in, but the account can then do nothing
// but choose its own password (see membership.ts and /account/password).
import 'server-only';
import { sql } from 'kysely';
import type { Db } from '@/lib/db';
import { decoyHash, verifyPassword } from './password';
import { loginFailed, loginSucceeded, loginThrottle, tooManyAttemptsMessage } from './rate-limit';

export interface SignInInput {
  email: string;
  password: string;
  /** Client address, for the per-address limit; null when unknown. */
  address: string | null;
}

export type SignInResult =
  | { ok: true; user: { id: string; email: string; name: string | null } }
  | { ok: false; reason: 'invalid' | 'throttled' | 'expired'; message: string };

export const INVALID_CREDENTIALS = 'Email or password is incorrect.';
export const TEMPORARY_PASSWORD_EXPIRED =
  'Your temporary password has expired. Ask an admin of your organisation for a new one.';

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function checkCredentials(db: Db, input: SignInInput): Promise<SignInResult> {
  const email = normaliseEmail(input.email);
  if (!email || !input.password || email.length > 320 || input.password.length > 1024) {
    return { ok: false, reason: 'invalid', message: INVALID_CREDENTIALS };
  }
  const throttle = await loginThrottle(db, email, input.address);
  if (throttle.blocked) {
    return { ok: false, reason: 'throttled', message: tooManyAttemptsMessage(throttle.retryAfterSeconds) };
  }
  const found = await sql<{
    id: string;
    password_hash: string | null;
    disabled: boolean;
    name: string | null;
    password_expired: boolean;
  }>`select id, password_hash, disabled, name, password_expired from saas.auth_lookup(${email})`.execute(db);
  const user = found.rows[0];
  // Verify even when there is no such account, so timing does not tell which emails exist.
  const valid = await verifyPassword(user?.password_hash ?? (await decoyHash()), input.password);
  if (!user || !user.password_hash || user.disabled || !valid) {
    await loginFailed(db, email, input.address);
    return { ok: false, reason: 'invalid', message: INVALID_CREDENTIALS };
  }
  // Said only to someone who knows the password: it tells nothing to a guesser.
  if (user.password_expired) return { ok: false, reason: 'expired', message: TEMPORARY_PASSWORD_EXPIRED };
  await loginSucceeded(db, email);
  return { ok: true, user: { id: user.id, email, name: user.name } };
}
