// The action wrapper's core (runTenantAction) on the real database: it refuses
// a missing session, a disabled account, a non-member, a too-low role and
// invalid input, writing nothing; it runs the handler in the tenant's
// transaction, rolls back on an expected failure, and the member handlers
// write their audit rows in the same transaction.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ActionError,
  INVALID_INPUT,
  NO_MEMBERSHIP,
  PASSWORD_CHANGE_REQUIRED,
  runTenantAction,
  SIGNED_OUT,
  TENANT_CHANGED,
  type ActionHandler,
} from '../../lib/request/action-core';
import { loadAccess } from '../../lib/tenancy/membership';
import { recordAudit } from '../../lib/audit/mutations';
import { verifyPassword } from '../../lib/auth/password';
import {
  addMember,
  changeMemberRole,
  LAST_ADMIN,
  PENDING_ELSEWHERE,
  removeMember,
  RESET_ADMIN,
  RESET_OTHER_TENANT,
  RESET_SELF,
  resetMemberPassword,
} from '../../lib/members/mutations';
import { addMemberSchema, changeRoleSchema, removeMemberSchema, resetPasswordSchema } from '../../lib/members/schema';
import { checkCredentials } from '../../lib/auth/credentials';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { addMembership, count, createTeam, createUser } from './fixtures';

const app = appKysely();
const owner = ownerPool();

const auditCount = (tenantId: string) => count(owner, 'select 1 from saas.audit_log where tenant_id = $1', [tenantId]);
const roleOf = async (tenantId: string, userId: string) =>
  (await owner.query('select role from saas.memberships where tenant_id = $1 and user_id = $2', [tenantId, userId])).rows[0]?.role ?? null;

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  return f;
}

/** A handler that must never run in a refused call: it would write an audit row. */
const recordingHandler: ActionHandler<z.ZodObject<{ note: z.ZodString }>, string> = async (trx, input) => {
  await recordAudit(trx, { action: 'test.touch', entityType: 'test', after: { note: input.note } });
  const t = await sql<{ t: string; u: string }>`select current_setting('saas.tenant_id') as t, current_setting('saas.user_id') as u`.execute(trx);
  return { message: 'done', data: `${t.rows[0]!.t}/${t.rows[0]!.u}` };
};
const noteSchema = z.object({ note: z.string().min(3, { error: 'At least 3 characters.' }) });

const run = (userId: string | null, input: unknown, opts: { preferred?: string | null; minRole?: 'viewer' | 'buyer' | 'admin' } = {}) =>
  runTenantAction({
    schema: noteSchema,
    minRole: opts.minRole ?? 'buyer',
    handler: recordingHandler,
    userId,
    preferredTenantId: opts.preferred ?? null,
    input,
    db: app.db,
  });

describe('runTenantAction refusals', () => {
  it('no session: refused, nothing written', async () => {
    const t = await createTeam(owner);
    expect(await run(null, { note: 'hello' }, { preferred: t.tenantId })).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('an unknown or disabled account: refused as signed out', async () => {
    const t = await createTeam(owner);
    await owner.query('update saas.users set disabled_at = now() where id = $1', [t.buyer.id]);
    expect(await run(t.buyer.id, { note: 'hello' })).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await run('00000000-0000-4000-8000-000000000000', { note: 'hello' })).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await run('not-a-uuid', { note: 'hello' })).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('an account on a temporary password: refused whatever its role, nothing written', async () => {
    const t = await createTeam(owner);
    await owner.query("update saas.users set password_must_change = true, password_expires_at = now() + interval '1 day' where id = $1", [t.admin.id]);
    expect(await run(t.admin.id, { note: 'hello' }, { minRole: 'viewer' })).toEqual({ ok: false, message: PASSWORD_CHANGE_REQUIRED });
    expect(await auditCount(t.tenantId)).toBe(0);
    const access = await loadAccess(t.admin.id, null, app.db);
    expect(access).toMatchObject({ mustChangePassword: true, current: { tenantId: t.tenantId, role: 'admin' } });
  });

  it('no membership: refused, even when the preferred tenant names a real tenant', async () => {
    const t = await createTeam(owner);
    const loner = await createUser(owner);
    expect(await run(loner.id, { note: 'hello' }, { preferred: t.tenantId })).toEqual({ ok: false, message: NO_MEMBERSHIP });
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('a role below the minimum: refused with the roles named, nothing written', async () => {
    const t = await createTeam(owner);
    expect(await run(t.viewer.id, { note: 'hello' }, { minRole: 'buyer' })).toEqual({
      ok: false,
      message: 'This needs the Buyer role; you are Viewer.',
    });
    expect(await run(t.buyer.id, { note: 'hello' }, { minRole: 'admin' })).toEqual({
      ok: false,
      message: 'This needs the Admin role; you are Buyer.',
    });
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('invalid input: field errors by name, nothing written', async () => {
    const t = await createTeam(owner);
    const r = await run(t.buyer.id, form({ note: 'x' }));
    expect(r).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { note: ['At least 3 characters.'] } });
    const missing = await run(t.buyer.id, form({}));
    expect(missing.ok).toBe(false);
    expect(!missing.ok && Object.keys(missing.fieldErrors ?? {})).toEqual(['note']);
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('a preferred tenant the user does not belong to is ignored: the action runs in their own tenant', async () => {
    const mine = await createTeam(owner, 'Mine');
    const theirs = await createTeam(owner, 'Theirs');
    const r = await run(mine.buyer.id, { note: 'hello' }, { preferred: theirs.tenantId });
    expect(r).toEqual({ ok: true, message: 'done', data: `${mine.tenantId}/${mine.buyer.id}` });
    expect(await auditCount(theirs.tenantId)).toBe(0);
    expect(await auditCount(mine.tenantId)).toBe(1);
  });

  it('a form from another tenant (stale tab) is refused', async () => {
    const a = await createTeam(owner, 'Tab A');
    const b = await createTeam(owner, 'Tab B');
    await addMembership(owner, b.tenantId, a.buyer.id, 'buyer');
    const r = await run(a.buyer.id, form({ _tenant: a.tenantId, note: 'hello' }), { preferred: b.tenantId });
    expect(r).toEqual({ ok: false, message: TENANT_CHANGED });
    expect(await auditCount(a.tenantId)).toBe(0);
    expect(await auditCount(b.tenantId)).toBe(0);
    // The same form in the right tenant goes through.
    expect((await run(a.buyer.id, form({ _tenant: b.tenantId, note: 'hello' }), { preferred: b.tenantId })).ok).toBe(true);
    expect(await auditCount(b.tenantId)).toBe(1);
  });

  it('an ActionError from the handler is returned and rolls back what the handler wrote', async () => {
    const t = await createTeam(owner);
    const r = await runTenantAction({
      schema: noteSchema,
      minRole: 'viewer',
      userId: t.viewer.id,
      preferredTenantId: null,
      input: { note: 'hello' },
      db: app.db,
      handler: async (trx) => {
        await recordAudit(trx, { action: 'test.partial', entityType: 'test' });
        throw new ActionError('Not today.', { note: ['Pick another day.'] });
      },
    });
    expect(r).toEqual({ ok: false, message: 'Not today.', fieldErrors: { note: ['Pick another day.'] } });
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('an unexpected error throws (and rolls back)', async () => {
    const t = await createTeam(owner);
    await expect(
      runTenantAction({
        schema: noteSchema,
        minRole: 'viewer',
        userId: t.viewer.id,
        preferredTenantId: null,
        input: { note: 'hello' },
        db: app.db,
        handler: async (trx) => {
          await recordAudit(trx, { action: 'test.partial', entityType: 'test' });
          await sql`select 1 / 0`.execute(trx);
        },
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await auditCount(t.tenantId)).toBe(0);
  });
});

describe('membership is read from the database on every call', () => {
  it('a changed role and a removed membership take effect at once', async () => {
    const t = await createTeam(owner);
    expect((await run(t.buyer.id, { note: 'hello' })).ok).toBe(true);
    await owner.query("update saas.memberships set role = 'viewer' where tenant_id = $1 and user_id = $2", [t.tenantId, t.buyer.id]);
    expect(await run(t.buyer.id, { note: 'hello' })).toMatchObject({ ok: false, message: /Buyer role; you are Viewer/ });
    await owner.query('delete from saas.memberships where tenant_id = $1 and user_id = $2', [t.tenantId, t.buyer.id]);
    expect(await run(t.buyer.id, { note: 'hello' })).toEqual({ ok: false, message: NO_MEMBERSHIP });
    const access = await loadAccess(t.buyer.id, t.tenantId, app.db);
    expect(access).toMatchObject({ memberships: [], current: null });
  });
});

describe('member handlers through the wrapper', () => {
  const act = <S extends z.ZodType, T>(schema: S, handler: ActionHandler<S, T>, userId: string, input: Record<string, string>) =>
    runTenantAction({ schema, minRole: 'admin', handler, userId, preferredTenantId: null, input: form(input), db: app.db });

  it('a viewer or a buyer cannot change roles; nothing changes', async () => {
    const t = await createTeam(owner);
    for (const who of [t.viewer.id, t.buyer.id]) {
      const r = await act(changeRoleSchema, changeMemberRole, who, { userId: t.admin.id, role: 'viewer' });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(/needs the Admin role/);
    }
    expect(await roleOf(t.tenantId, t.admin.id)).toBe('admin');
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('adds a new account with a temporary password (24 h, must change), and audits it', async () => {
    const t = await createTeam(owner);
    const email = `new-${Date.now()}@auth.test`;
    const r = await act(addMemberSchema, addMember, t.admin.id, { email: ` ${email.toUpperCase()} `, name: 'Nina New', role: 'buyer' });
    expect(r.ok).toBe(true);
    const temporary = r.ok ? r.data?.temporary : undefined;
    expect(temporary?.email).toBe(email);
    expect(temporary?.password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
    const u = await owner.query(
      `select id, name, password_hash, password_must_change,
              extract(epoch from password_expires_at - now()) as seconds_left, password_expires_at
       from saas.users where email = $1`,
      [email],
    );
    expect(u.rows[0].name).toBe('Nina New');
    expect(u.rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(u.rows[0].password_hash).not.toContain(temporary!.password);
    expect(await verifyPassword(u.rows[0].password_hash, temporary!.password)).toBe(true);
    expect(u.rows[0].password_must_change).toBe(true);
    // 24 hours from now, give or take the test's own run time.
    expect(Number(u.rows[0].seconds_left)).toBeGreaterThan(24 * 3600 - 120);
    expect(Number(u.rows[0].seconds_left)).toBeLessThanOrEqual(24 * 3600);
    expect(new Date(temporary!.expiresAt).getTime()).toBe(u.rows[0].password_expires_at.getTime());
    expect(await roleOf(t.tenantId, u.rows[0].id)).toBe('buyer');
    const audit = await owner.query('select actor_user_id, actor_label, action, entity_type, entity_id, before, after from saas.audit_log where tenant_id = $1', [
      t.tenantId,
    ]);
    expect(audit.rows).toEqual([
      {
        actor_user_id: t.admin.id,
        actor_label: t.admin.email,
        action: 'member.add',
        entity_type: 'membership',
        entity_id: u.rows[0].id,
        before: null,
        after: { email, role: 'buyer', accountCreated: true },
      },
    ]);
  });

  it('adds an existing account by email without a password, and refuses a second time', async () => {
    const t = await createTeam(owner);
    const existing = await createUser(owner);
    const r = await act(addMemberSchema, addMember, t.admin.id, { email: existing.email, role: 'viewer' });
    expect(r).toMatchObject({ ok: true, data: { email: existing.email } });
    expect(r.ok && r.data?.temporary).toBeFalsy();
    expect(await roleOf(t.tenantId, existing.id)).toBe('viewer');
    const again = await act(addMemberSchema, addMember, t.admin.id, { email: existing.email, role: 'admin' });
    expect(again).toMatchObject({ ok: false, fieldErrors: { email: ['Already a member, as Viewer.'] } });
    expect(await roleOf(t.tenantId, existing.id)).toBe('viewer');
    expect(await auditCount(t.tenantId)).toBe(1);
  });

  it('reports a bad email and a bad role by field', async () => {
    const t = await createTeam(owner);
    const r = await act(addMemberSchema, addMember, t.admin.id, { email: 'not-an-email', role: 'owner' });
    expect(r.ok).toBe(false);
    expect(!r.ok && Object.keys(r.fieldErrors ?? {}).sort()).toEqual(['email', 'role']);
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('changes a role with before and after in the audit', async () => {
    const t = await createTeam(owner);
    const r = await act(changeRoleSchema, changeMemberRole, t.admin.id, { userId: t.viewer.id, role: 'buyer' });
    expect(r).toMatchObject({ ok: true, message: `${t.viewer.email} is now Buyer.` });
    expect(await roleOf(t.tenantId, t.viewer.id)).toBe('buyer');
    const a = await owner.query('select action, before, after from saas.audit_log where tenant_id = $1', [t.tenantId]);
    expect(a.rows).toEqual([
      { action: 'member.role_change', before: { email: t.viewer.email, role: 'viewer' }, after: { email: t.viewer.email, role: 'buyer' } },
    ]);
  });

  it('refuses to demote or remove the last admin, and allows it once there is another', async () => {
    const t = await createTeam(owner);
    expect(await act(changeRoleSchema, changeMemberRole, t.admin.id, { userId: t.admin.id, role: 'buyer' })).toEqual({ ok: false, message: LAST_ADMIN });
    expect(await act(removeMemberSchema, removeMember, t.admin.id, { userId: t.admin.id })).toEqual({ ok: false, message: LAST_ADMIN });
    expect(await roleOf(t.tenantId, t.admin.id)).toBe('admin');
    expect(await auditCount(t.tenantId)).toBe(0);
    expect((await act(changeRoleSchema, changeMemberRole, t.admin.id, { userId: t.buyer.id, role: 'admin' })).ok).toBe(true);
    expect((await act(removeMemberSchema, removeMember, t.admin.id, { userId: t.admin.id })).ok).toBe(true);
    expect(await roleOf(t.tenantId, t.admin.id)).toBeNull();
    const actions = await owner.query('select action from saas.audit_log where tenant_id = $1 order by id', [t.tenantId]);
    expect(actions.rows.map((r) => r.action)).toEqual(['member.role_change', 'member.remove']);
  });

  it("cannot reach another tenant's member by id", async () => {
    const a = await createTeam(owner, 'Admin A');
    const b = await createTeam(owner, 'Victim B');
    const r = await act(removeMemberSchema, removeMember, a.admin.id, { userId: b.viewer.id });
    expect(r).toMatchObject({ ok: false, message: /not found/ });
    expect(await roleOf(b.tenantId, b.viewer.id)).toBe('viewer');
    expect(await auditCount(b.tenantId)).toBe(0);
  });

  it('an account invited by tenant A and not yet activated cannot be added by tenant B (takeover through the temporary password)', async () => {
    const a = await createTeam(owner, 'Inviter A');
    const b = await createTeam(owner, 'Victim B');
    const email = `pending-${Date.now()}@auth.test`;
    const invited = await act(addMemberSchema, addMember, a.admin.id, { email, role: 'viewer' });
    expect(invited.ok).toBe(true);
    const r = await act(addMemberSchema, addMember, b.admin.id, { email, role: 'admin' });
    expect(r).toEqual({ ok: false, message: PENDING_ELSEWHERE, fieldErrors: { email: ['Invited by another organisation; not activated yet.'] } });
    const id = (await owner.query('select id from saas.users where email = $1', [email])).rows[0].id;
    expect(await roleOf(b.tenantId, id)).toBeNull();
    expect(await auditCount(b.tenantId)).toBe(0);
    // A's own admin is told it is already a member, not that it is pending elsewhere.
    expect(await act(addMemberSchema, addMember, a.admin.id, { email, role: 'viewer' })).toMatchObject({
      ok: false,
      fieldErrors: { email: ['Already a member, as Viewer.'] },
    });
    // Once the person has chosen their own password, B may add them.
    await owner.query('update saas.users set password_must_change = false, password_expires_at = null where id = $1', [id]);
    expect(await act(addMemberSchema, addMember, b.admin.id, { email, role: 'viewer' })).toMatchObject({ ok: true });
    expect(await roleOf(b.tenantId, id)).toBe('viewer');
  });

  it('removing a never-activated account from its only tenant deletes it, and frees the email for another tenant', async () => {
    const a = await createTeam(owner, 'Withdraw A');
    const b = await createTeam(owner, 'Withdraw B');
    const email = `withdrawn-${Date.now()}@auth.test`;
    await act(addMemberSchema, addMember, a.admin.id, { email, role: 'viewer' });
    const id = (await owner.query('select id from saas.users where email = $1', [email])).rows[0].id;
    const r = await act(removeMemberSchema, removeMember, a.admin.id, { userId: id });
    expect(r).toMatchObject({ ok: true, message: `${email} was removed from Withdraw A; the account, never activated, was deleted.` });
    expect((await owner.query('select 1 from saas.users where id = $1', [id])).rowCount).toBe(0);
    const added = await act(addMemberSchema, addMember, b.admin.id, { email, role: 'viewer' });
    expect(added).toMatchObject({ ok: true, data: { email, temporary: { email } } });
    // An activated account stays when it leaves its last tenant.
    await act(removeMemberSchema, removeMember, a.admin.id, { userId: a.viewer.id });
    expect((await owner.query('select 1 from saas.users where id = $1', [a.viewer.id])).rowCount).toBe(1);
  });

  it('an admin issues a new temporary password to a member of this tenant only; it signs in and must be changed', async () => {
    const t = await createTeam(owner, 'Reset');
    const r = await act(resetPasswordSchema, resetMemberPassword, t.admin.id, { userId: t.viewer.id });
    expect(r).toMatchObject({ ok: true, message: `A new temporary password was issued for ${t.viewer.email}.`, data: { email: t.viewer.email } });
    const temporary = r.ok ? r.data! : null;
    expect(temporary!.password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
    const row = (await owner.query('select password_must_change, extract(epoch from password_expires_at - now()) as left_s from saas.users where id = $1', [t.viewer.id]))
      .rows[0];
    expect(row.password_must_change).toBe(true);
    expect(Number(row.left_s)).toBeGreaterThan(24 * 3600 - 120);
    expect((await checkCredentials(app.db, { email: t.viewer.email, password: temporary!.password, address: null })).ok).toBe(true);
    expect((await loadAccess(t.viewer.id, null, app.db))?.mustChangePassword).toBe(true);
    const a = await owner.query('select action, entity_id, after from saas.audit_log where tenant_id = $1', [t.tenantId]);
    expect(a.rows).toEqual([
      { action: 'member.password_reset', entity_id: t.viewer.id, after: { email: t.viewer.email, temporaryPasswordExpiresAt: temporary!.expiresAt } },
    ]);
  });

  it('refuses to reset the password of someone in another tenant too, of an admin, of oneself, or as a non-admin', async () => {
    const a = await createTeam(owner, 'Reset A');
    const b = await createTeam(owner, 'Reset B');
    await addMembership(owner, b.tenantId, a.viewer.id, 'viewer');
    const hashOf = async (id: string) => (await owner.query('select password_hash from saas.users where id = $1', [id])).rows[0].password_hash;
    const before = await hashOf(a.viewer.id);
    expect(await act(resetPasswordSchema, resetMemberPassword, a.admin.id, { userId: a.viewer.id })).toEqual({ ok: false, message: RESET_OTHER_TENANT });
    expect(await hashOf(a.viewer.id)).toBe(before);
    await addMembership(owner, a.tenantId, b.admin.id, 'admin');
    expect(await act(resetPasswordSchema, resetMemberPassword, a.admin.id, { userId: b.admin.id })).toEqual({ ok: false, message: RESET_ADMIN });
    expect(await act(resetPasswordSchema, resetMemberPassword, a.admin.id, { userId: a.admin.id })).toEqual({ ok: false, message: RESET_SELF });
    const asBuyer = await act(resetPasswordSchema, resetMemberPassword, a.buyer.id, { userId: a.viewer.id });
    expect(!asBuyer.ok && asBuyer.message).toMatch(/needs the Admin role/);
    // Another tenant's member, by id: not found here.
    expect(await act(resetPasswordSchema, resetMemberPassword, a.admin.id, { userId: b.buyer.id })).toMatchObject({ ok: false, message: /not found/ });
    expect(await auditCount(a.tenantId)).toBe(0);
  });
});
