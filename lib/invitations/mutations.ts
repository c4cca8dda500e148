// Answering an invitation link. Free of Next's request context so the tests
// drive them directly; the database functions (db/functions/invitations.sql)
// check the link, lock the invitation and write the membership and audit row.
//   - no account, or one nobody proved: the holder of the link chooses a
//     password; the account is (re)made theirs and verified, and joins;
//   - a verified account: its owner, signed in, accepts or declines.
import 'server-only';
import { sql } from 'kysely';
import { appDb, withUser, type Db } from '@/lib/db';
import { parseLinkToken } from '@/lib/auth/link-token';
import { hashPassword } from '@/lib/auth/password';
import { acceptInvitationSchema, invitationTokenSchema } from '@/lib/account/schema';
import type { ActionResult } from '@/lib/request/result';
import { invalidInput, parseInput, SIGNED_OUT } from '@/lib/request/action-core';

export const LINK_INVALID = 'This invitation link is no longer valid. Ask the person who invited you for a new one.';
export const SIGN_IN_TO_ACCEPT = 'An account exists for this email: sign in with it to accept.';
export const ACCOUNT_DISABLED = 'The account of this email is disabled.';
export const OTHER_ADDRESS = 'This invitation is for another email address: sign in with that one.';

const MESSAGES: Record<string, string> = { AEG10: LINK_INVALID, AEG11: SIGN_IN_TO_ACCEPT, AEG12: ACCOUNT_DISABLED, AEG13: OTHER_ADDRESS };

/** An expected refusal of the database functions as a message, or null (then the error is unexpected). */
function refusal(err: unknown): string | null {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  return MESSAGES[code] ?? null;
}

export interface Joined {
  email: string;
  tenantId: string;
}

/** A new person (or the owner of an unproved account) chooses a password and joins. */
export async function acceptWithNewPassword(input: FormData | unknown, db: Db = appDb().db): Promise<ActionResult<Joined>> {
  const parsed = parseInput(acceptInvitationSchema, input);
  if (!parsed.success) return invalidInput(parsed.error);
  const t = parseLinkToken(parsed.data.token);
  if (!t) return { ok: false, message: LINK_INVALID };
  const passwordHash = await hashPassword(parsed.data.newPassword);
  try {
    const r = await sql<{ user_id: string; tenant_id: string; email: string }>`
      select user_id, tenant_id, email
      from saas.invitation_accept_new(${t.id}::uuid, ${t.hash}, ${passwordHash}, ${parsed.data.name})`.execute(db);
    const row = r.rows[0]!;
    return { ok: true, message: 'Your account is ready.', data: { email: row.email, tenantId: row.tenant_id } };
  } catch (err) {
    const message = refusal(err);
    if (message) return { ok: false, message };
    throw err;
  }
}

/** The signed-in owner of the invited (verified) account accepts, or declines. */
export async function answerAsSignedIn(
  userId: string | null,
  answer: 'accept' | 'decline',
  input: FormData | unknown,
  db: Db = appDb().db,
): Promise<ActionResult<{ tenantId: string }>> {
  if (!userId) return { ok: false, message: SIGNED_OUT };
  const parsed = parseInput(invitationTokenSchema, input);
  if (!parsed.success) return invalidInput(parsed.error);
  const t = parseLinkToken(parsed.data.token);
  if (!t) return { ok: false, message: LINK_INVALID };
  try {
    if (answer === 'decline') {
      await withUser(userId, (trx) => sql`select saas.invitation_decline(${t.id}::uuid, ${t.hash})`.execute(trx), db);
      return { ok: true, message: 'Invitation declined.' };
    }
    const r = await withUser(
      userId,
      (trx) => sql<{ tenant_id: string }>`select saas.invitation_accept_existing(${t.id}::uuid, ${t.hash}) as tenant_id`.execute(trx),
      db,
    );
    return { ok: true, message: 'Invitation accepted.', data: { tenantId: r.rows[0]!.tenant_id } };
  } catch (err) {
    const message = refusal(err);
    if (message) return { ok: false, message };
    throw err;
  }
}
