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
import { changeMemberRole, LAST_ADMIN, removeMember } from '../../lib/members/mutations';
import { changeRoleSchema, removeMemberSchema } from '../../lib/members/schema';
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
});
