// Accounts that prove their email, on the real database and the real mail
// path (no SMTP_URL: the outbox, as in the demo). Each finding of the review
// is replayed: the takeover through an admin-known password, the email
// blocked from other organisations, accounts attached without consent, and
// sessions outliving a password change or reset.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { inviteMember, INVITATION_NOT_OPEN, resendInvitation, revokeInvitation } from '../../lib/members/mutations';
import { invitationSchema, inviteMemberSchema } from '../../lib/members/schema';
import { acceptWithNewPassword, answerAsSignedIn, LINK_INVALID, OTHER_ADDRESS, SIGN_IN_TO_ACCEPT } from '../../lib/invitations/mutations';
import { lookupInvitation } from '../../lib/invitations/queries';
import { completePasswordReset, requestPasswordReset, RESET_LINK_INVALID, resetRequestedMessage } from '../../lib/account/reset';
import { changePassword } from '../../lib/account/mutations';
import { checkCredentials } from '../../lib/auth/credentials';
import { currentSessionVersion, sessionStillValid } from '../../lib/auth/session-version';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { addMembership, count, createTeam, createUser, PASSWORD } from './fixtures';

delete process.env.SMTP_URL;
const app = appKysely();
const owner = ownerPool();
const NEW_PASSWORD = 'a password only the invitee knows';

const act = <S extends z.ZodType, T>(schema: S, handler: ActionHandler<S, T>, userId: string, input: Record<string, string>) =>
  runTenantAction({ schema, minRole: 'admin', handler, userId, preferredTenantId: null, input, db: app.db });
const invite = (adminId: string, email: string, role = 'viewer') => act(inviteMemberSchema, inviteMember, adminId, { email, role });
const fresh = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}@invite.test`;
const roleOf = async (tenantId: string, userId: string) =>
  (await owner.query('select role from saas.memberships where tenant_id = $1 and user_id = $2', [tenantId, userId])).rows[0]?.role ?? null;
const userByEmail = async (email: string) => (await owner.query('select * from saas.users where email = $1', [email])).rows[0];

/** The link in the newest mail to this address, as the invitee would click it. */
async function linkFrom(email: string, kind: 'invitation' | 'password_reset'): Promise<string> {
  const r = await owner.query('select body_text from saas.mail_outbox where to_address = $1 and kind = $2 order by id desc limit 1', [email, kind]);
  const m = /\/(?:invite|reset-password)\/([0-9a-f-]{36}\.[A-Za-z0-9_-]{43})/.exec(r.rows[0]?.body_text ?? '');
  if (!m) throw new Error(`no ${kind} link mailed to ${email}`);
  return m[1]!;
}

describe('inviting', () => {
  it('stores only the hash of the link, mails the link, and creates no account or membership', async () => {
    const t = await createTeam(owner, 'Inviting');
    const email = fresh('new');
    const r = await invite(t.admin.id, ` ${email.toUpperCase()} `, 'buyer');
    expect(r).toEqual({ ok: true, message: `Invitation sent to ${email}. The link works for 72 hours.`, data: undefined });
    const token = await linkFrom(email, 'invitation');
    const [id, secret] = token.split('.');
    const row = (await owner.query('select tenant_id, role, token_hash, extract(epoch from expires_at - now())::float8 as left_s from saas.invitations where id = $1', [id])).rows[0];
    expect(row.tenant_id).toBe(t.tenantId);
    expect(row.role).toBe('buyer');
    expect(Buffer.compare(row.token_hash, createHash('sha256').update(secret!).digest())).toBe(0);
    expect(row.left_s).toBeGreaterThan(72 * 3600 - 120);
    expect(row.left_s).toBeLessThanOrEqual(72 * 3600);
    expect(await userByEmail(email)).toBeUndefined();
    const audit = await owner.query('select action, entity_id, after from saas.audit_log where tenant_id = $1', [t.tenantId]);
    expect(audit.rows).toEqual([{ action: 'invitation.send', entity_id: id, after: { email, role: 'buyer' } }]);
    expect(await lookupInvitation(token, app.db)).toMatchObject({ tenantId: t.tenantId, email, role: 'buyer', status: 'open', account: 'none' });
  });

  it('says the same for an email with an account elsewhere, and attaches nobody without their consent (finding 8)', async () => {
    const t = await createTeam(owner, 'Consent');
    const elsewhere = await createUser(owner);
    const unknown = fresh('unknown');
    const a = await invite(t.admin.id, elsewhere.email);
    const b = await invite(t.admin.id, unknown);
    expect(a.ok && b.ok).toBe(true);
    expect(a.ok && a.message!.replace(elsewhere.email, 'X')).toBe(b.ok && b.message!.replace(unknown, 'X'));
    expect(await roleOf(t.tenantId, elsewhere.id)).toBeNull();
  });

  it('refuses a current member, a bad email, a control character and a bad role by field, writing nothing', async () => {
    const t = await createTeam(owner, 'Invite refusals');
    expect(await invite(t.admin.id, t.viewer.email)).toMatchObject({ ok: false, fieldErrors: { email: ['Already a member, as Viewer.'] } });
    const bad = await invite(t.admin.id, 'not-an-email', 'owner');
    expect(!bad.ok && Object.keys(bad.fieldErrors ?? {}).sort()).toEqual(['email', 'role']);
    expect(await invite(t.admin.id, 'a\u0000b@invite.test')).toMatchObject({ ok: false, fieldErrors: { email: ['An email address cannot contain control characters.'] } });
    const asBuyer = await act(inviteMemberSchema, inviteMember, t.buyer.id, { email: fresh('x'), role: 'viewer' });
    expect(!asBuyer.ok && asBuyer.message).toMatch(/needs the Admin role/);
    expect(await count(owner, 'select 1 from saas.invitations where tenant_id = $1', [t.tenantId])).toBe(0);
  });

  it('two organisations may invite the same email; neither blocks the other (finding 3)', async () => {
    const a = await createTeam(owner, 'First org');
    const b = await createTeam(owner, 'Second org');
    const email = fresh('cfo');
    expect((await invite(a.admin.id, email)).ok).toBe(true);
    const tokenA = await linkFrom(email, 'invitation');
    expect((await invite(b.admin.id, email, 'admin')).ok).toBe(true);
    const tokenB = await linkFrom(email, 'invitation');
    expect(tokenA).not.toBe(tokenB);
    expect((await acceptWithNewPassword({ token: tokenB, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db)).ok).toBe(true);
    const user = await userByEmail(email);
    expect(await roleOf(b.tenantId, user.id)).toBe('admin');
    expect(await roleOf(a.tenantId, user.id)).toBeNull();
    // A's invitation still stands: the now verified account accepts it signed in.
    expect(await answerAsSignedIn(user.id, 'accept', { token: tokenA }, app.db)).toMatchObject({ ok: true, data: { tenantId: a.tenantId } });
    expect(await roleOf(a.tenantId, user.id)).toBe('viewer');
  });
});

describe('answering an invitation', () => {
  it('a new person chooses a password: verified account, membership, audit; the link works once', async () => {
    const t = await createTeam(owner, 'Welcome');
    const email = fresh('newhire');
    await invite(t.admin.id, email, 'buyer');
    const token = await linkFrom(email, 'invitation');
    const short = await acceptWithNewPassword({ token, newPassword: 'short', confirmPassword: 'short' }, app.db);
    expect(short).toMatchObject({ ok: false, fieldErrors: { newPassword: ['Use at least 12 characters.'] } });
    const r = await acceptWithNewPassword({ token, name: 'Nina New', newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db);
    expect(r).toEqual({ ok: true, message: 'Your account is ready.', data: { email, tenantId: t.tenantId } });
    const user = await userByEmail(email);
    expect(user.name).toBe('Nina New');
    expect(user.email_verified_at).not.toBeNull();
    expect(user.password_hash).toMatch(/^\$argon2id\$/);
    expect(await roleOf(t.tenantId, user.id)).toBe('buyer');
    expect((await checkCredentials(app.db, { email, password: NEW_PASSWORD, address: null })).ok).toBe(true);
    const audit = await owner.query("select actor_user_id, after from saas.audit_log where tenant_id = $1 and action = 'invitation.accept'", [t.tenantId]);
    expect(audit.rows).toEqual([{ actor_user_id: user.id, after: { email, role: 'buyer', invitation: token.split('.')[0], newAccount: true } }]);
    expect(await acceptWithNewPassword({ token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db)).toEqual({ ok: false, message: LINK_INVALID });
  });

  it('takeover through an admin-known password is over: the holder of the link gets the account, the old password and sessions die (finding 1)', async () => {
    // Harbor's admin made (or took over) an account for newhire that nobody proved, and knows its password.
    const harbor = await createTeam(owner, 'Harbor');
    const pixel = await createTeam(owner, 'Pixel Quest');
    const email = fresh('newhire-pq');
    const planted = await createUser(owner, { email, password: 'the attacker knows this one', verified: false });
    await addMembership(owner, harbor.tenantId, planted.id, 'viewer');
    const attackerSession = await currentSessionVersion(app.db, planted.id);
    // Pixel Quest invites the same email: nobody joins until the link is used.
    expect((await invite(pixel.admin.id, email, 'buyer')).ok).toBe(true);
    expect(await roleOf(pixel.tenantId, planted.id)).toBeNull();
    // The real person follows the mailed link and chooses a password.
    const token = await linkFrom(email, 'invitation');
    expect(await lookupInvitation(token, app.db)).toMatchObject({ account: 'unverified' });
    expect((await acceptWithNewPassword({ token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db)).ok).toBe(true);
    // Same account, now theirs: the attacker's password and session are dead, Harbor's unaccepted membership is gone.
    expect((await checkCredentials(app.db, { email, password: 'the attacker knows this one', address: null })).ok).toBe(false);
    expect((await checkCredentials(app.db, { email, password: NEW_PASSWORD, address: null })).ok).toBe(true);
    expect(sessionStillValid(attackerSession ?? undefined, await currentSessionVersion(app.db, planted.id))).toBe(false);
    expect(await roleOf(harbor.tenantId, planted.id)).toBeNull();
    expect(await roleOf(pixel.tenantId, planted.id)).toBe('buyer');
  });

  it('a verified account must sign in to answer; another signed-in account is refused; decline closes the link', async () => {
    const t = await createTeam(owner, 'Existing');
    const someone = await createUser(owner);
    await invite(t.admin.id, someone.email, 'buyer');
    const token = await linkFrom(someone.email, 'invitation');
    expect(await acceptWithNewPassword({ token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db)).toEqual({ ok: false, message: SIGN_IN_TO_ACCEPT });
    expect((await checkCredentials(app.db, { email: someone.email, password: PASSWORD, address: null })).ok).toBe(true);
    expect(await answerAsSignedIn(t.viewer.id, 'accept', { token }, app.db)).toEqual({ ok: false, message: OTHER_ADDRESS });
    expect(await answerAsSignedIn(null, 'accept', { token }, app.db)).toMatchObject({ ok: false });
    expect(await roleOf(t.tenantId, someone.id)).toBeNull();
    expect(await answerAsSignedIn(someone.id, 'decline', { token }, app.db)).toEqual({ ok: true, message: 'Invitation declined.' });
    expect(await answerAsSignedIn(someone.id, 'accept', { token }, app.db)).toEqual({ ok: false, message: LINK_INVALID });
    expect(await roleOf(t.tenantId, someone.id)).toBeNull();
    expect((await lookupInvitation(token, app.db))?.status).toBe('declined');
  });

  it('revoke kills the link; resend replaces it; an expired link is refused', async () => {
    const t = await createTeam(owner, 'Revoke');
    const email = fresh('revoked');
    await invite(t.admin.id, email);
    const first = await linkFrom(email, 'invitation');
    const id = first.split('.')[0]!;
    expect((await act(invitationSchema, resendInvitation, t.admin.id, { invitationId: id })).ok).toBe(true);
    const second = await linkFrom(email, 'invitation');
    expect(second).not.toBe(first);
    expect(await lookupInvitation(first, app.db)).toBeNull();
    await owner.query("update saas.invitations set expires_at = now() - interval '1 minute' where id = $1", [id]);
    expect((await lookupInvitation(second, app.db))?.status).toBe('expired');
    expect(await acceptWithNewPassword({ token: second, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db)).toEqual({ ok: false, message: LINK_INVALID });
    await owner.query("update saas.invitations set expires_at = now() + interval '1 hour' where id = $1", [id]);
    expect((await act(invitationSchema, revokeInvitation, t.admin.id, { invitationId: id })).ok).toBe(true);
    expect(await acceptWithNewPassword({ token: second, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db)).toEqual({ ok: false, message: LINK_INVALID });
    expect(await act(invitationSchema, revokeInvitation, t.admin.id, { invitationId: id })).toEqual({ ok: false, message: INVITATION_NOT_OPEN });
    expect(await userByEmail(email)).toBeUndefined();
    // Another tenant's admin cannot touch it.
    const other = await createTeam(owner, 'Other admin');
    await owner.query('update saas.invitations set revoked_at = null where id = $1', [id]);
    expect(await act(invitationSchema, revokeInvitation, other.admin.id, { invitationId: id })).toEqual({ ok: false, message: INVITATION_NOT_OPEN });
  });

  it('a malformed or forged link is refused without touching anything', async () => {
    for (const token of ['', 'x', `${crypto.randomUUID()}.${'A'.repeat(43)}`, `${'0'.repeat(36)}.short`, 'a.b.c']) {
      expect(await lookupInvitation(token, app.db)).toBeNull();
      const r = await acceptWithNewPassword({ token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db);
      expect(r.ok).toBe(false);
    }
  });
});

describe('password reset by emailed link, and sessions that end', () => {
  it('answers the same for unknown emails; the link sets the password, verifies the email and ends sessions, once', async () => {
    const unknown = fresh('nobody');
    expect(await requestPasswordReset({ email: unknown }, app.db)).toEqual({ ok: true, message: resetRequestedMessage(unknown) });
    expect(await count(owner, 'select 1 from saas.mail_outbox where to_address = $1', [unknown])).toBe(0);

    const u = await createUser(owner, { verified: false });
    const before = await currentSessionVersion(app.db, u.id);
    expect(await requestPasswordReset({ email: u.email }, app.db)).toEqual({ ok: true, message: resetRequestedMessage(u.email) });
    const token = await linkFrom(u.email, 'password_reset');
    const r = await completePasswordReset({ token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db);
    expect(r).toEqual({ ok: true, message: 'Your new password is set.', data: { email: u.email } });
    expect((await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: null })).ok).toBe(false);
    expect((await checkCredentials(app.db, { email: u.email, password: NEW_PASSWORD, address: null })).ok).toBe(true);
    expect((await userByEmail(u.email)).email_verified_at).not.toBeNull();
    expect(sessionStillValid(before ?? undefined, await currentSessionVersion(app.db, u.id))).toBe(false);
    expect(await completePasswordReset({ token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, app.db)).toEqual({ ok: false, message: RESET_LINK_INVALID });
  });

  it('at most three links an hour per account', async () => {
    const u = await createUser(owner);
    for (let i = 0; i < 5; i++) expect((await requestPasswordReset({ email: u.email }, app.db)).ok).toBe(true);
    expect(await count(owner, "select 1 from saas.mail_outbox where to_address = $1 and kind = 'password_reset'", [u.email])).toBe(3);
  });

  it('a password change ends the sessions issued before it (finding 6)', async () => {
    const t = await createTeam(owner, 'Sessions');
    const issued = await currentSessionVersion(app.db, t.viewer.id);
    expect(sessionStillValid(issued ?? undefined, issued)).toBe(true);
    const r = await changePassword({
      userId: t.viewer.id,
      preferredTenantId: null,
      address: null,
      input: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      db: app.db,
    });
    expect(r.ok).toBe(true);
    const now = await currentSessionVersion(app.db, t.viewer.id);
    expect(now).toBe(issued! + 1);
    expect(r.ok && r.data?.sessionVersion).toBe(now);
    expect(sessionStillValid(issued ?? undefined, now)).toBe(false);
    // A token from before versions existed counts as the first version.
    expect(sessionStillValid(undefined, 1)).toBe(true);
    expect(sessionStillValid(undefined, 2)).toBe(false);
  });
});
