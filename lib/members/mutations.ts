// Member management handlers, run by the action wrapper inside the tenant's
// transaction (admin role already checked). Each writes its audit row in that
// same transaction; an ActionError rolls the whole change back.
//
// A new account gets a temporary password, shown once to the admin, valid 24
// hours and to be replaced at first sign-in. Until it is, the account cannot be
// added to another tenant (its admin saw the password), and an admin of its
// only tenant may issue a new one (saas.reset_member_password).
import 'server-only';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { z } from 'zod';
import { ActionError, type ActionContext, type ActionSuccess } from '@/lib/request/action-core';
import { generatePassword, hashPassword } from '@/lib/auth/password';
import { ROLE_LABEL } from '@/lib/tenancy/roles';
import { recordAudit } from '@/lib/audit/mutations';
import type { Tx } from '@/lib/db';
import { getMember, type Member } from './queries';
import type { addMemberSchema, changeRoleSchema, removeMemberSchema, resetPasswordSchema } from './schema';

export const LAST_ADMIN = 'A tenant must keep at least one admin: make another member admin first.';
export const MEMBER_NOT_FOUND = 'That member was not found in this tenant.';
export const PENDING_ELSEWHERE =
  'This person has been invited by another organisation and has not activated their account yet; ask them to sign in first.';
export const RESET_OTHER_TENANT =
  'This person also belongs to another organisation, so only they can change their password (from their account page).';
export const RESET_ADMIN = 'An admin’s password can only be changed by that admin.';
export const RESET_SELF = 'Change your own password from your account page.';
/** How long a temporary password works (the database sets the same in saas.reset_member_password). */
export const TEMPORARY_PASSWORD_HOURS = 24;

function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Runs a write; the database's last-admin trigger (SQLSTATE AEG01) is the one rule, concurrent requests included, and its refusal becomes the form's message. */
async function guardLastAdmin<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (pgCode(err) === 'AEG01') throw new ActionError(LAST_ADMIN);
    throw err;
  }
}

export interface TemporaryPassword {
  email: string;
  /** Shown once to the admin, never stored in clear. */
  password: string;
  /** ISO time after which it no longer signs in. */
  expiresAt: string;
}

export interface AddMemberResult {
  email: string;
  /** Set when a new account was created. */
  temporary?: TemporaryPassword;
}

export async function addMember(
  trx: Tx,
  input: z.output<typeof addMemberSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<AddMemberResult>> {
  const tenantId = ctx.tenant.tenantId;
  let found;
  try {
    found = await sql<{ id: string | null }>`select saas.find_user_by_email(${input.email}) as id`.execute(trx);
  } catch (err) {
    if (pgCode(err) === 'AEG02') {
      throw new ActionError(PENDING_ELSEWHERE, { email: ['Invited by another organisation; not activated yet.'] });
    }
    throw err;
  }
  let userId = found.rows[0]?.id ?? null;
  let temporary: TemporaryPassword | undefined;
  if (userId) {
    const already = await getMember(trx, tenantId, userId);
    if (already) {
      throw new ActionError(`${input.email} is already a member.`, { email: [`Already a member, as ${ROLE_LABEL[already.role]}.`] });
    }
  } else {
    userId = randomUUID();
    const password = generatePassword();
    const expires = await sql<{ at: Date }>`select now() + make_interval(hours => ${TEMPORARY_PASSWORD_HOURS}) as at`.execute(trx);
    const expiresAt = expires.rows[0]!.at;
    try {
      // No RETURNING: the account becomes visible to this tenant only once it is a member.
      await trx
        .insertInto('saas.users')
        .values({
          id: userId,
          email: input.email,
          name: input.name,
          password_hash: await hashPassword(password),
          password_must_change: true,
          password_expires_at: expiresAt,
        })
        .execute();
    } catch (err) {
      if (pgCode(err) === '23505') {
        throw new ActionError('That account was created a moment ago by someone else. Try again.', { email: ['Try again.'] });
      }
      throw err;
    }
    temporary = { email: input.email, password, expiresAt: expiresAt.toISOString() };
  }
  await trx.insertInto('saas.memberships').values({ tenant_id: tenantId, user_id: userId, role: input.role }).execute();
  await recordAudit(trx, {
    action: 'member.add',
    entityType: 'membership',
    entityId: userId,
    after: { email: input.email, role: input.role, accountCreated: Boolean(temporary) },
  });
  return {
    message: temporary
      ? `Account created for ${input.email} and added as ${ROLE_LABEL[input.role]}.`
      : `${input.email} added as ${ROLE_LABEL[input.role]}.`,
    data: { email: input.email, temporary },
  };
}

/** A new temporary password for a member who belongs to this tenant only (not an admin, not oneself). */
export async function resetMemberPassword(
  trx: Tx,
  input: z.output<typeof resetPasswordSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<TemporaryPassword>> {
  const member = await existingMember(trx, ctx.tenant.tenantId, input.userId);
  if (member.userId === ctx.user.id) throw new ActionError(RESET_SELF);
  if (member.role === 'admin') throw new ActionError(RESET_ADMIN);
  const password = generatePassword();
  let expiresAt: Date;
  try {
    const r = await sql<{ at: Date }>`select saas.reset_member_password(${input.userId}, ${await hashPassword(password)}) as at`.execute(trx);
    expiresAt = r.rows[0]!.at;
  } catch (err) {
    const code = pgCode(err);
    if (code === 'AEG05') throw new ActionError(RESET_OTHER_TENANT);
    if (code === 'AEG04') throw new ActionError(RESET_ADMIN);
    if (code === 'AEG03') throw new ActionError(MEMBER_NOT_FOUND);
    throw err;
  }
  await recordAudit(trx, {
    action: 'member.password_reset',
    entityType: 'user',
    entityId: input.userId,
    after: { email: member.email, temporaryPasswordExpiresAt: expiresAt.toISOString() },
  });
  return {
    message: `A new temporary password was issued for ${member.email}.`,
    data: { email: member.email, password, expiresAt: expiresAt.toISOString() },
  };
}

/** The member the action is about, or the expected failure when they are not (or no longer) in the tenant. */
async function existingMember(trx: Tx, tenantId: string, userId: string): Promise<Member> {
  const member = await getMember(trx, tenantId, userId);
  if (!member) throw new ActionError(MEMBER_NOT_FOUND);
  return member;
}

export async function changeMemberRole(
  trx: Tx,
  input: z.output<typeof changeRoleSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<undefined>> {
  const tenantId = ctx.tenant.tenantId;
  const before = await existingMember(trx, tenantId, input.userId);
  if (before.role === input.role) return { message: `${before.email} is already ${ROLE_LABEL[input.role]}.` };
  await guardLastAdmin(() =>
    trx.updateTable('saas.memberships').set({ role: input.role }).where('tenant_id', '=', tenantId).where('user_id', '=', input.userId).execute(),
  );
  await recordAudit(trx, {
    action: 'member.role_change',
    entityType: 'membership',
    entityId: input.userId,
    before: { email: before.email, role: before.role },
    after: { email: before.email, role: input.role },
  });
  return { message: `${before.email} is now ${ROLE_LABEL[input.role]}.` };
}

export async function removeMember(
  trx: Tx,
  input: z.output<typeof removeMemberSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<undefined>> {
  const tenantId = ctx.tenant.tenantId;
  const before = await existingMember(trx, tenantId, input.userId);
  await guardLastAdmin(() =>
    trx.deleteFrom('saas.memberships').where('tenant_id', '=', tenantId).where('user_id', '=', input.userId).execute(),
  );
  await recordAudit(trx, {
    action: 'member.remove',
    entityType: 'membership',
    entityId: input.userId,
    before: { email: before.email, role: before.role },
  });
  return {
    message: before.pendingActivation
      ? `${before.email} was removed from ${ctx.tenant.tenantName}; the account, never activated, was deleted.`
      : `${before.email} was removed from ${ctx.tenant.tenantName}.`,
  };
}
