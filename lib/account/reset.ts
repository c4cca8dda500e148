// Password reset by emailed link (the writes of the reset flow; the account's
// other mutations are in mutations.ts). Asking always answers the same,
// whether or not the email has an account, so the form tells nobody which
// emails exist; the database keeps at most three links an hour per account.
// Completing the link sets the password, marks the email verified and ends
// every session of the account (saas.password_reset_complete).
import 'server-only';
import { sql } from 'kysely';
import { appDb, type Db } from '@/lib/db';
import { newSecret, parseLinkToken } from '@/lib/auth/link-token';
import { hashPassword } from '@/lib/auth/password';
import { sendPasswordResetMail } from '@/lib/invitations/mail';
import type { ActionResult } from '@/lib/request/result';
import { invalidInput, parseInput } from '@/lib/request/action-core';
import { forgotPasswordSchema, resetPasswordSchema } from './schema';

export const RESET_LINK_INVALID = 'This reset link is no longer valid (used, or older than an hour). Ask for a new one.';

export function resetRequestedMessage(email: string): string {
  return `If an account exists for ${email}, a link to choose a new password is on its way. It works once, for one hour.`;
}

export async function requestPasswordReset(input: FormData | unknown, db: Db = appDb().db): Promise<ActionResult> {
  const parsed = parseInput(forgotPasswordSchema, input);
  if (!parsed.success) return invalidInput(parsed.error);
  const { email } = parsed.data;
  const { secret, hash } = newSecret();
  const r = await sql<{ id: string | null }>`select saas.password_reset_begin(${email}, ${hash}) as id`.execute(db);
  const id = r.rows[0]?.id;
  // A failed delivery is the server's log's business: the answer stays the same.
  if (id) await sendPasswordResetMail(email, `${id}.${secret}`, db);
  return { ok: true, message: resetRequestedMessage(email) };
}

/** The email of a reset link still valid, or null. */
export async function resetLinkEmail(token: unknown, db: Db = appDb().db): Promise<string | null> {
  const t = parseLinkToken(token);
  if (!t) return null;
  const r = await sql<{ email: string | null }>`select saas.password_reset_lookup(${t.id}::uuid, ${t.hash}) as email`.execute(db);
  return r.rows[0]?.email ?? null;
}

export async function completePasswordReset(input: FormData | unknown, db: Db = appDb().db): Promise<ActionResult<{ email: string }>> {
  const parsed = parseInput(resetPasswordSchema, input);
  if (!parsed.success) return invalidInput(parsed.error);
  const t = parseLinkToken(parsed.data.token);
  if (!t) return { ok: false, message: RESET_LINK_INVALID };
  const passwordHash = await hashPassword(parsed.data.newPassword);
  try {
    const r = await sql<{ email: string }>`select saas.password_reset_complete(${t.id}::uuid, ${t.hash}, ${passwordHash}) as email`.execute(db);
    return { ok: true, message: 'Your new password is set.', data: { email: r.rows[0]!.email } };
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as { code?: string }).code === 'AEG14') return { ok: false, message: RESET_LINK_INVALID };
    throw err;
  }
}
