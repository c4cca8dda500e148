// Changing one's own password: the current one is checked (rate-limited with
// the sign-in counts, since a wrong guess here is a password guess), the new
// one hashed and swapped in for the hash that was checked, the temporary-password
// flag cleared, and the change audited in the user's current tenant, all in one
// transaction. The app role cannot read or write password_hash, and no stored
// hash reaches this process: saas.own_password_params() gives the salt and
// parameters of the account's hash, the current password typed is hashed with
// them, saas.auth_check says whether that is the stored hash, and
// saas.replace_own_password swaps it for the new one, acting on saas.user_id's
// account only (db/functions/accounts.sql). Free of Next's request context so
// it can be tested directly.
import 'server-only';
import { sql } from 'kysely';
import { recordAudit } from '@/lib/audit/mutations';
import { appDb, withTenant, withUser, type Db, type Tx } from '@/lib/db';
import type { ActionResult } from '@/lib/request/result';
import { ActionError, INVALID_INPUT, invalidInput, parseInput, SIGNED_OUT } from '@/lib/request/action-core';
import { changePasswordSchema } from './schema';
import { accountWithHash, TEMPORARY_PASSWORD_EXPIRED } from '@/lib/auth/credentials';
import { loadAccess } from '@/lib/tenancy/membership';
import { hashPassword, hashWithParams } from '@/lib/auth/password';
import { beginLoginAttempt, loginAttemptSucceeded, tooManyAttemptsMessage } from '@/lib/auth/rate-limit';

export const WRONG_CURRENT_PASSWORD = 'That is not your current password.';
export const NO_PASSWORD = 'Your account signs in with single sign-on; it has no password to change here.';
export const PASSWORD_CHANGED = 'Your password has been changed.';
const CHANGED_MEANWHILE = 'Your password was changed elsewhere a moment ago. Reload the page and try again.';

export interface ChangePasswordOptions {
  /** The signed-in user's id from the session, or null. */
  userId: string | null;
  /** The tenant the user chose (cookie): where the audit row goes, among their memberships. */
  preferredTenantId: string | null;
  /** Client address for the per-address limit; null when unknown. */
  address: string | null;
  input: FormData | unknown;
  db?: Db;
}

export interface PasswordChanged {
  /** The password replaced was a temporary one (first sign-in after an invitation or a reset). */
  wasTemporary: boolean;
  /** The account's new session version: every other session ends; the caller keeps its own. */
  sessionVersion: number;
}

export async function changePassword(o: ChangePasswordOptions): Promise<ActionResult<PasswordChanged>> {
  if (!o.userId) return { ok: false, message: SIGNED_OUT };
  const db = o.db ?? appDb().db;
  const access = await loadAccess(o.userId, o.preferredTenantId, db);
  if (!access) return { ok: false, message: SIGNED_OUT };
  const userId = access.user.id;
  const email = access.user.email;

  const parsed = parseInput(changePasswordSchema, o.input);
  if (!parsed.success) return invalidInput(parsed.error);
  const input = parsed.data;

  const row = await withUser(
    userId,
    (trx) =>
      trx
        .selectFrom('saas.users')
        .select([
          sql<string | null>`saas.own_password_params()`.as('params'),
          'password_must_change',
          sql<boolean>`coalesce(password_expires_at <= now(), false)`.as('expired'),
        ])
        .where('id', '=', userId)
        // A disabled account has no row here, so the function is never asked for its parameters.
        .where('disabled_at', 'is', null)
        .executeTakeFirst(),
    db,
  );
  if (!row) return { ok: false, message: SIGNED_OUT };
  if (!row.params) return { ok: false, message: NO_PASSWORD };
  // Counted before the password is verified (a failure until it proves right): simultaneous guesses take turns.
  const attempt = await beginLoginAttempt(db, { account: email, address: o.address });
  if (!attempt.allowed) return { ok: false, message: tooManyAttemptsMessage(attempt.retryAfterSeconds) };
  // Equal to the stored hash exactly when the current password is right.
  const oldHash = await hashWithParams(row.params, input.currentPassword);
  const matched = await accountWithHash(db, email, oldHash);
  if (!matched || matched.id !== userId) {
    return { ok: false, message: INVALID_INPUT, fieldErrors: { currentPassword: [WRONG_CURRENT_PASSWORD] } };
  }
  // The current password is right: the attempt is no failure, whatever follows.
  await loginAttemptSucceeded(db, email, attempt.attemptId);
  if (row.expired) return { ok: false, message: TEMPORARY_PASSWORD_EXPIRED };

  const newHash = await hashPassword(input.newPassword);
  let sessionVersion = 0;
  const write = async (trx: Tx) => {
    // Two changes at once: the second finds the hash it checked gone (NULL).
    const r = await sql<{ session_version: number | null }>`
      select saas.replace_own_password(${oldHash}, ${newHash}) as session_version`.execute(trx);
    const version = r.rows[0]?.session_version;
    if (version == null) throw new ActionError(CHANGED_MEANWHILE);
    sessionVersion = version;
    if (access.current) {
      await recordAudit(trx, {
        action: 'account.password_change',
        entityType: 'user',
        entityId: userId,
        after: { email, temporaryReplaced: row.password_must_change },
      });
    }
  };
  try {
    // Audit rows belong to a tenant: the one the user is working in. An account
    // with no membership has no tenant to audit in (and sees nothing anyway).
    if (access.current) await withTenant(access.current.tenantId, write, { userId }, db);
    else await withUser(userId, write, db);
  } catch (err) {
    if (err instanceof ActionError) return { ok: false, message: err.message };
    throw err;
  }
  return { ok: true, message: PASSWORD_CHANGED, data: { wasTemporary: row.password_must_change, sessionVersion } };
}
