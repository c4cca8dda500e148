// The credential check behind the sign-in form, free of next-auth so it can be
// tested on its own: input bounds, rate limit (the attempt is counted before
// the password is verified), look-up by email, argon2id verification, the
// expiry of a temporary password (one an admin was shown), and the browser's
// known-device token. A temporary password that is still valid signs in, but
// the account can then do nothing but choose its own password (see
// membership.ts and /account/password).
import 'server-only';
import { sql } from 'kysely';
import type { Db } from '@/lib/db';
import { deviceTokenHash, newDeviceToken } from './known-device';
import { decoyHash, verifyPassword } from './password';
import { beginLoginAttempt, loginAttemptSucceeded } from './rate-limit';
import { SIGN_IN_MESSAGES, tooManyAttemptsMessage } from './sign-in-errors';

export interface SignInInput {
  email: string;
  password: string;
  /** Client address, for the per-address limit; null when unknown. */
  address: string | null;
  /** The browser's aegis-device token (cookie), or null. */
  deviceToken?: string | null;
}

export type SignInResult =
  | {
      ok: true;
      user: { id: string; email: string; name: string | null };
      /** The aegis-device token the browser should keep (its own when already known for the account, else a new one). */
      deviceToken: string;
    }
  | { ok: false; reason: 'invalid' | 'expired' | 'bad-email'; message: string }
  | { ok: false; reason: 'throttled'; message: string; retryAfterSeconds: number };

export const INVALID_CREDENTIALS = SIGN_IN_MESSAGES.invalid;
export const TEMPORARY_PASSWORD_EXPIRED = SIGN_IN_MESSAGES.expired;
export const BAD_EMAIL = SIGN_IN_MESSAGES['bad-email'];

export const MAX_EMAIL_LENGTH = 320;
export const MAX_PASSWORD_LENGTH = 1024;

const CONTROL_RE = /[\u0000-\u001f\u007f]/;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function checkCredentials(db: Db, input: SignInInput): Promise<SignInResult> {
  const email = normaliseEmail(typeof input.email === 'string' ? input.email : '');
  const password = typeof input.password === 'string' ? input.password : '';
  // Refused before any query: a NUL would reach PostgreSQL as an encoding error.
  if (CONTROL_RE.test(email)) return { ok: false, reason: 'bad-email', message: BAD_EMAIL };
  if (!email || !password || email.length > MAX_EMAIL_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    return { ok: false, reason: 'invalid', message: INVALID_CREDENTIALS };
  }
  const presented = input.deviceToken ?? null;
  // Counted now, as a failure until the password proves right: simultaneous guesses take turns here.
  const attempt = await beginLoginAttempt(db, {
    account: email,
    address: input.address,
    deviceHash: presented ? deviceTokenHash(presented) : null,
  });
  if (!attempt.allowed) {
    return {
      ok: false,
      reason: 'throttled',
      message: tooManyAttemptsMessage(attempt.retryAfterSeconds),
      retryAfterSeconds: attempt.retryAfterSeconds,
    };
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
  const valid = await verifyPassword(user?.password_hash ?? (await decoyHash()), password);
  if (!user || !user.password_hash || user.disabled || !valid) {
    return { ok: false, reason: 'invalid', message: INVALID_CREDENTIALS };
  }
  // The password is right: the attempt is no failure, even when the password has expired.
  // Said only to someone who knows the password: it tells nothing to a guesser.
  if (user.password_expired) {
    await loginAttemptSucceeded(db, email, attempt.attemptId);
    return { ok: false, reason: 'expired', message: TEMPORARY_PASSWORD_EXPIRED };
  }
  // A browser known for this account keeps its token; any other gets a new one.
  const deviceToken = presented && attempt.scope === 'device' ? presented : newDeviceToken();
  await loginAttemptSucceeded(db, email, attempt.attemptId, deviceTokenHash(deviceToken));
  return { ok: true, user: { id: user.id, email, name: user.name }, deviceToken };
}
