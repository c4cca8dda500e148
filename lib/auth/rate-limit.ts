// Sign-in rate limiting, kept in PostgreSQL (saas.login_attempts) so that every
// web instance behind a load balancer sees the same counts. An attempt is
// counted before its password is verified (saas.login_attempt_begin, one
// statement under the account's advisory lock), so simultaneous guesses take
// turns and no more than the limit reach the verification; it stays a failure
// unless the password proves right (loginAttemptSucceeded).
import 'server-only';
import { sql } from 'kysely';
import type { Db } from '@/lib/db';

export { tooManyAttemptsMessage } from './sign-in-errors';

export const LOGIN_WINDOW_MINUTES = 15;
/** Failures allowed per account (email) within the window, and per known device of the account. */
export const MAX_FAILURES_PER_ACCOUNT = 5;
/** Failures allowed per client address within the window (many people may share one). */
export const MAX_FAILURES_PER_ADDRESS = 50;
/** Failures from one address before each further attempt from it waits 2^(n - this) seconds. */
export const ADDRESS_FAILURES_BEFORE_DELAY = 5;

export interface AttemptInput {
  /** The account's email (lower-cased and trimmed by the database too). */
  account: string;
  /** Client address, for the per-address limit; null when unknown. */
  address: string | null;
  /** SHA-256 of the browser's aegis-device token (see known-device.ts), or null. */
  deviceHash?: Buffer | null;
}

export type Attempt =
  | { allowed: true; scope: 'account' | 'device'; attemptId: number | null }
  | { allowed: false; scope: 'account' | 'device'; retryAfterSeconds: number };

/** Counts an attempt, or refuses it (not counted) with the wait. Call before verifying the password. */
export async function beginLoginAttempt(db: Db, input: AttemptInput): Promise<Attempt> {
  const r = await sql<{ allowed: boolean; retry_after_seconds: number; scope: 'account' | 'device'; attempt_id: number | null }>`
    select allowed, retry_after_seconds, scope, attempt_id
    from saas.login_attempt_begin(${input.account}, ${input.address}, ${input.deviceHash ?? null},
                                  make_interval(mins => ${LOGIN_WINDOW_MINUTES}), ${MAX_FAILURES_PER_ACCOUNT},
                                  ${MAX_FAILURES_PER_ADDRESS}, ${ADDRESS_FAILURES_BEFORE_DELAY})`.execute(db);
  const row = r.rows[0];
  if (!row) throw new Error('saas.login_attempt_begin returned no row');
  return row.allowed
    ? { allowed: true, scope: row.scope, attemptId: row.attempt_id }
    : { allowed: false, scope: row.scope, retryAfterSeconds: row.retry_after_seconds };
}

/**
 * The password of this attempt was right: the account's failures are forgiven,
 * the attempt no longer counts against its address, and `deviceHash` (when
 * given) is remembered as a known device of the account.
 */
export async function loginAttemptSucceeded(db: Db, account: string, attemptId: number | null, deviceHash: Buffer | null = null): Promise<void> {
  await sql`select saas.login_attempt_succeeded(${account}, ${attemptId}, ${deviceHash})`.execute(db);
}

/** Clears an account's failures (and its devices'), e.g. once a password-reset link proved the owner. */
export async function loginForgive(db: Db, account: string): Promise<void> {
  await sql`select saas.login_forgive(${account})`.execute(db);
}
