// Member management handlers, run by the action wrapper inside the tenant's
// transaction (admin role already checked). Each writes its audit row in that
// same transaction; an ActionError rolls the whole change back.
//
// Nobody is added without their consent and no admin sees or sets anyone's
// password: an admin invites an email with a role, the invitee gets a
// single-use link by mail (sent after the commit) and joins by accepting it
// (lib/invitations). The admin learns only "invitation sent", whether or not
// the email has an account anywhere.
import 'server-only';
import type { z } from 'zod';
import { ActionError, type ActionContext, type ActionSuccess } from '@/lib/request/action-core';
import { newSecret } from '@/lib/auth/link-token';
import { ROLE_LABEL, type Role } from '@/lib/tenancy/roles';
import { recordAudit } from '@/lib/audit/mutations';
import type { Updateable } from 'kysely';
import type { Tx } from '@/lib/db';
import type { SaasInvitations } from '@/lib/db/schema.generated';
import { sendInvitationMail } from '@/lib/invitations/mail';
import { getMember, type Member } from './queries';
import type { changeRoleSchema, invitationSchema, inviteMemberSchema, removeMemberSchema } from './schema';

export const LAST_ADMIN = 'A tenant must keep at least one admin: make another member admin first.';
export const MEMBER_NOT_FOUND = 'That member was not found in this tenant.';
export const INVITATION_NOT_OPEN = 'That invitation is no longer open (accepted, declined or revoked). Invite the person again.';
/** How long an invitation link works. */
export const INVITATION_HOURS = 72;

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

const expiry = () => new Date(Date.now() + INVITATION_HOURS * 3600_000);

function sentMessage(email: string, delivered: boolean): string {
  return delivered
    ? `Invitation sent to ${email}. The link works for ${INVITATION_HOURS} hours.`
    : `The invitation to ${email} is saved, but the mail could not be sent. Use Resend to try again.`;
}

/** The answer of an invitation saved: its mail goes out once the transaction has committed. */
function mailAfterCommit(ctx: ActionContext, inv: { id: string; email: string; role: Role }, secret: string): ActionSuccess<undefined> {
  return {
    message: sentMessage(inv.email, true),
    afterCommit: async (db) => {
      const mail = { tenantId: ctx.tenant.tenantId, tenantName: ctx.tenant.tenantName, inviter: ctx.user, email: inv.email, role: inv.role, token: `${inv.id}.${secret}` };
      return sentMessage(inv.email, await sendInvitationMail(mail, db));
    },
  };
}

/** Invite an email with a role; an open invitation to the same email is renewed (a new link; the old one stops working). */
export async function inviteMember(
  trx: Tx,
  input: z.output<typeof inviteMemberSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<undefined>> {
  const tenantId = ctx.tenant.tenantId;
  // Members are listed on the page anyway: saying so tells the admin nothing new.
  const already = await trx
    .selectFrom('saas.memberships as m')
    .innerJoin('saas.users as u', 'u.id', 'm.user_id')
    .where('m.tenant_id', '=', tenantId)
    .where('u.email', '=', input.email)
    .select('m.role')
    .executeTakeFirst();
  if (already) {
    throw new ActionError(`${input.email} is already a member.`, { email: [`Already a member, as ${ROLE_LABEL[already.role]}.`] });
  }
  const { secret, hash } = newSecret();
  const row = await trx
    .insertInto('saas.invitations')
    .values({ tenant_id: tenantId, email: input.email, role: input.role, token_hash: hash, invited_by: ctx.user.id, expires_at: expiry() })
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'email'])
        .where('accepted_at', 'is', null)
        .where('declined_at', 'is', null)
        .where('revoked_at', 'is', null)
        .doUpdateSet((eb) => ({
          role: eb.ref('excluded.role'),
          token_hash: eb.ref('excluded.token_hash'),
          invited_by: eb.ref('excluded.invited_by'),
          sent_at: eb.ref('excluded.sent_at'),
          expires_at: eb.ref('excluded.expires_at'),
        })),
    )
    .returning(['id'])
    .executeTakeFirstOrThrow();
  await recordAudit(trx, {
    action: 'invitation.send',
    entityType: 'invitation',
    entityId: row.id,
    after: { email: input.email, role: input.role },
  });
  return mailAfterCommit(ctx, { id: row.id, email: input.email, role: input.role }, secret);
}

async function openInvitation(trx: Tx, tenantId: string, id: string) {
  const inv = await trx
    .selectFrom('saas.invitations')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('declined_at', 'is', null)
    .where('revoked_at', 'is', null)
    .select(['id', 'email', 'role'])
    .forUpdate()
    .executeTakeFirst();
  if (!inv) throw new ActionError(INVITATION_NOT_OPEN);
  return inv;
}

/** Changes an open invitation of this tenant and audits the change; refused when it is no longer open. */
async function changeOpenInvitation(
  trx: Tx,
  ctx: ActionContext,
  invitationId: string,
  change: { set: Updateable<SaasInvitations>; action: string; audit: 'before' | 'after' },
) {
  const tenantId = ctx.tenant.tenantId;
  const inv = await openInvitation(trx, tenantId, invitationId);
  await trx.updateTable('saas.invitations').set(change.set).where('tenant_id', '=', tenantId).where('id', '=', inv.id).execute();
  await recordAudit(trx, { action: change.action, entityType: 'invitation', entityId: inv.id, [change.audit]: { email: inv.email, role: inv.role } });
  return inv;
}

/** A new link for an open (or expired) invitation: the old link stops working. */
export async function resendInvitation(
  trx: Tx,
  input: z.output<typeof invitationSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<undefined>> {
  const { secret, hash } = newSecret();
  const inv = await changeOpenInvitation(trx, ctx, input.invitationId, {
    set: { token_hash: hash, sent_at: new Date(), expires_at: expiry(), invited_by: ctx.user.id },
    action: 'invitation.resend',
    audit: 'after',
  });
  return mailAfterCommit(ctx, inv, secret);
}

export async function revokeInvitation(
  trx: Tx,
  input: z.output<typeof invitationSchema>,
  ctx: ActionContext,
): Promise<ActionSuccess<undefined>> {
  const inv = await changeOpenInvitation(trx, ctx, input.invitationId, {
    set: { revoked_at: new Date(), revoked_by: ctx.user.id },
    action: 'invitation.revoke',
    audit: 'before',
  });
  return { message: `The invitation to ${inv.email} is revoked: its link no longer works.` };
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
