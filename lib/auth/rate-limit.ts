// Sign-in rate limiting, kept in PostgreSQL (saas.login_attempts) so that every
// web instance behind a load balancer sees the same counts.
import 'server-only';
import { sql } from 'kysely';
import type { Db } from '@/lib/db';

export const LOGIN_WINDOW_MINUTES = 15;
/** Failures allowed per account (email) within the window. */
export const MAX_FAILURES_PER_ACCOUNT = 5;
/** Failures allowed per client address within the window (many people may share one). */
export const MAX_FAILURES_PER_ADDRESS = 50;

export interface Throttle {
  blocked: boolean;
  retryAfterSeconds: number;
}

export async function loginThrottle(db: Db, account: string, address: string | null): Promise<Throttle> {
  const r = await sql<{ blocked: boolean; retry_after_seconds: number }>`
    select blocked, retry_after_seconds
    from saas.login_throttle(${account}, ${address}, make_interval(mins => ${LOGIN_WINDOW_MINUTES}),
                             ${MAX_FAILURES_PER_ACCOUNT}, ${MAX_FAILURES_PER_ADDRESS})`.execute(db);
  const row = r.rows[0];
  return { blocked: row?.blocked ?? false, retryAfterSeconds: row?.retry_after_seconds ?? 0 };
}

export async function loginFailed(db: Db, account: string, address: string | null): Promise<void> {
  await sql`select saas.login_failed(${account}, ${address})`.execute(db);
}

export async function loginSucceeded(db: Db, account: string): Promise<void> {
  await sql`select saas.login_succeeded(${account})`.execute(db);
}

export function tooManyAttemptsMessage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `Too many attempts, try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
