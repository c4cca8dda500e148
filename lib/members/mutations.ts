// Member management handlers, run by the action wrapper inside the tenant's
// transaction (admin role already checked). Each writes its audit row in that
// same transaction; an ActionError rolls the whole change back.
import 'server-only';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { z } from 'zod';
import { ActionError, type ActionContext, type ActionSuccess } from '@/lib/auth/action-core';
import { generatePassword, hashPassword } from '@/lib/auth/password';
import { ROLE_LABEL } from '@/lib/auth/roles';
import { recordAudit } from '@/lib/audit/audit';
import type { Tx } from '@/lib/db';
import { countAdmins, getMember } from './queries';
import type { addMemberSchema, changeRoleSchema, removeMemberSchema } from './schema';

export const LAST_ADMIN = 'A tenant must keep at least one admin: make another member admin first.';
export const MEMBER_NOT_FOUND = 'That member was not found in this tenant.';

function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Runs a write; the database's last-admin refusal (SQLSTATE AEG01) becomes the form's message. */
async function guardLastAdmin<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (pgCode(err) === 'AEG01') throw new ActionError(LAST_ADMIN);
    throw err;
  }
}

export interface AddMemberResult {
  email: string;
  /** Set when a new account was created: shown once to the admin, never stored in clear. */
  oneTimePassword?: string;
}

export async function addMember(
  trx: Tx,
  input: z.output<typeof addMemberSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<AddMemberResult>> {
  const tenantId = ctx.tenant.tenantId;
  const found = await sql<{ id: string | null }>`select saas.find_user_by_email(${input.email}) as id`.execute(trx);
  let userId = found.rows[0]?.id ?? null;
  let oneTimePassword: string | undefined;
  if (userId) {
    const already = await getMember(trx, tenantId, userId);
    if (already) {
      throw new ActionError(`${input.email} is already a member.`, { email: [`Already a member, as ${ROLE_LABEL[already.role]}.`] });
    }
  } else {
    userId = randomUUID();
    oneTimePassword = generatePassword();
    try {
      // No RETURNING: the account becomes visible to this tenant only once it is a member.
      await trx
        .insertInto('saas.users')
        .values({ id: userId, email: input.email, name: input.name, password_hash: await hashPassword(oneTimePassword) })
        .execute();
    } catch (err) {
      if (pgCode(err) === '23505') {
        throw new ActionError('That account was created a moment ago by someone else. Try again.', { email: ['Try again.'] });
      }
      throw err;
    }
  }
  await trx.insertInto('saas.memberships').values({ tenant_id: tenantId, user_id: userId, role: input.role }).execute();
  await recordAudit(trx, {
    action: 'member.add',
    entityType: 'membership',
    entityId: userId,
    after: { email: input.email, role: input.role, accountCreated: Boolean(oneTimePassword) },
  });
  return {
    message: oneTimePassword
      ? `Account created for ${input.email} and added as ${ROLE_LABEL[input.role]}.`
      : `${input.email} added as ${ROLE_LABEL[input.role]}.`,
    data: { email: input.email, oneTimePassword },
  };
}

export async function changeMemberRole(
  trx: Tx,
  input: z.output<typeof changeRoleSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<undefined>> {
  const tenantId = ctx.tenant.tenantId;
  const before = await getMember(trx, tenantId, input.userId);
  if (!before) throw new ActionError(MEMBER_NOT_FOUND);
  if (before.role === input.role) return { message: `${before.email} is already ${ROLE_LABEL[input.role]}.` };
  if (before.role === 'admin' && (await countAdmins(trx, tenantId)) <= 1) throw new ActionError(LAST_ADMIN);
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
  const before = await getMember(trx, tenantId, input.userId);
  if (!before) throw new ActionError(MEMBER_NOT_FOUND);
  if (before.role === 'admin' && (await countAdmins(trx, tenantId)) <= 1) throw new ActionError(LAST_ADMIN);
  await guardLastAdmin(() =>
    trx.deleteFrom('saas.memberships').where('tenant_id', '=', tenantId).where('user_id', '=', input.userId).execute(),
  );
  await recordAudit(trx, {
    action: 'member.remove',
    entityType: 'membership',
    entityId: input.userId,
    before: { email: before.email, role: before.role },
  });
  return { message: `${before.email} was removed from ${ctx.tenant.tenantName}.` };
}
