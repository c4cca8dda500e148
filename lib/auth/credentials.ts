// The credential check behind the sign-in form, free of next-auth so it can be
// tested on its own: input bounds, rate limit (the attempt is counted before
// the password is verified), the argon2id check, the expiry of a temporary
// password (one an admin was shown), and the browser's known-device token.
// The stored hash never reaches this process: saas.auth_params gives the salt
// and parameters of the email's hash, the password typed is hashed with them
// here, and saas.auth_check says whether that is the stored hash. Every email
// gets a head of the same shape (a derived salt when it has no password), so
// every attempt does the same work: one argon2id hash and two queries. A temporary password that is still valid signs in, but
// the account can then do nothing but choose its own password (see
// membership.ts and /account/password).
import 'server-only';
import { sql } from 'kysely';
import type { Db } from '@/lib/db';
import { deviceTokenHash, newDeviceToken } from './known-device';
import { hashWithParams } from './password';
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
  const head = await passwordParams(db, email);
  // Hashed for every email, known or not, so timing does not tell which exist.
  const candidate = await hashWithParams(head, password);
  const user = await accountWithHash(db, email, candidate);
  if (!user || user.disabled) {
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

/** What saas.auth_check says of the account whose stored hash a candidate matched. */
export interface MatchedAccount {
  id: string;
  disabled: boolean;
  name: string | null;
  password_temporary: boolean;
  password_expired: boolean;
}

/** saas.auth_params: the head of the email's hash (up to its salt), or one of the same shape for an email without a password. */
export async function passwordParams(db: Db, email: string): Promise<string> {
  const r = await sql<{ head: string | null }>`select saas.auth_params(${email}) as head`.execute(db);
  const head = r.rows[0]?.head;
  if (!head) throw new Error('saas.auth_params gave no parameters');
  return head;
}

/** saas.auth_check: the account of `email` when `candidate` is exactly its stored hash; null otherwise. */
export async function accountWithHash(db: Db, email: string, candidate: string): Promise<MatchedAccount | null> {
  const r = await sql<MatchedAccount>`
    select id, disabled, name, password_temporary, password_expired from saas.auth_check(${email}, ${candidate})`.execute(db);
  return r.rows[0] ?? null;
}
