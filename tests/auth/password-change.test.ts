// Changing one's own password (lib/auth/password-change.ts) on the real
// database: the current password is checked and wrong guesses are counted
// with the sign-in limit; the new one is validated, stored, and the temporary
// flag cleared; one audit row lands in the user's current tenant; an expired
// temporary password cannot be used to choose a new one.
import { describe, expect, it } from 'vitest';
import { INVALID_INPUT, PASSWORD_CHANGE_REQUIRED, runTenantAction, SIGNED_OUT } from '../../lib/request/action-core';
import { checkCredentials, INVALID_CREDENTIALS, TEMPORARY_PASSWORD_EXPIRED } from '../../lib/auth/credentials';
import { changePassword, NO_PASSWORD, PASSWORD_CHANGED, WRONG_CURRENT_PASSWORD } from '../../lib/account/mutations';
import { MAX_FAILURES_PER_ACCOUNT } from '../../lib/auth/rate-limit';
import { z } from 'zod';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { addMembership, count, createTeam, createUser, PASSWORD } from './fixtures';

const app = appKysely();
const owner = ownerPool();

const NEW = 'a brand new passphrase';
// Each call from its own address: the per-address delay (after five failures from one) is not what these are about.
let calls = 0;
const nextAddress = () => `10.2.${(++calls >> 8) & 255}.${calls & 255}`;
const change = (userId: string | null, input: Record<string, string>, preferredTenantId: string | null = null) =>
  changePassword({ userId, preferredTenantId, address: nextAddress(), input, db: app.db });
const fields = (current: string, next = NEW, confirm = next) => ({ currentPassword: current, newPassword: next, confirmPassword: confirm });
const makeTemporary = (id: string, interval = '1 day') =>
  owner.query(`update saas.users set password_must_change = true, password_expires_at = now() + $2::interval where id = $1`, [id, interval]);
const flags = async (id: string) =>
  (await owner.query('select password_must_change, password_expires_at from saas.users where id = $1', [id])).rows[0];
const audit = (tenantId: string) =>
  owner.query('select actor_user_id, action, entity_type, entity_id, after from saas.audit_log where tenant_id = $1 order by id', [tenantId]);
const failures = async (key: string) => count(owner, "select 1 from saas.login_attempts where scope = 'account' and key = $1", [key]);

describe('changePassword', () => {
  it('changes the password: the old one stops working, the new one signs in, one audit row in the current tenant only', async () => {
    const a = await createTeam(owner, 'Change A');
    const b = await createTeam(owner, 'Change B');
    await addMembership(owner, b.tenantId, a.buyer.id, 'viewer');
    const r = await change(a.buyer.id, fields(PASSWORD), b.tenantId);
    expect(r).toEqual({ ok: true, message: PASSWORD_CHANGED, data: { wasTemporary: false, sessionVersion: expect.any(Number) } });
    expect((await checkCredentials(app.db, { email: a.buyer.email, password: PASSWORD, address: null })).ok).toBe(false);
    expect((await checkCredentials(app.db, { email: a.buyer.email, password: NEW, address: null })).ok).toBe(true);
    expect((await audit(b.tenantId)).rows).toEqual([
      {
        actor_user_id: a.buyer.id,
        action: 'account.password_change',
        entity_type: 'user',
        entity_id: a.buyer.id,
        after: { email: a.buyer.email, temporaryReplaced: false },
      },
    ]);
    expect((await audit(a.tenantId)).rows).toEqual([]);
    // Nothing secret in the audit row.
    expect(JSON.stringify((await audit(b.tenantId)).rows)).not.toMatch(/argon2|brand new/);
  });

  it('replacing a temporary password clears the flag and the expiry, and unlocks the tenant actions', async () => {
    const t = await createTeam(owner, 'Change temporary');
    await makeTemporary(t.viewer.id);
    const note = { schema: z.object({}), minRole: 'viewer' as const, handler: async () => ({ message: 'ran' }), preferredTenantId: null, db: app.db };
    expect(await runTenantAction({ ...note, userId: t.viewer.id, input: {} })).toEqual({ ok: false, message: PASSWORD_CHANGE_REQUIRED });
    const r = await change(t.viewer.id, fields(PASSWORD));
    expect(r).toEqual({ ok: true, message: PASSWORD_CHANGED, data: { wasTemporary: true, sessionVersion: expect.any(Number) } });
    expect(await flags(t.viewer.id)).toEqual({ password_must_change: false, password_expires_at: null });
    expect((await audit(t.tenantId)).rows.map((x) => x.after)).toEqual([{ email: t.viewer.email, temporaryReplaced: true }]);
    expect(await runTenantAction({ ...note, userId: t.viewer.id, input: {} })).toEqual({ ok: true, message: 'ran', data: undefined });
  });

  it('refuses a wrong current password on its field, counts it with the sign-in failures, and changes nothing', async () => {
    const t = await createTeam(owner, 'Change wrong');
    const r = await change(t.viewer.id, fields('not my password'));
    expect(r).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { currentPassword: [WRONG_CURRENT_PASSWORD] } });
    expect(await failures(t.viewer.email)).toBe(1);
    expect((await checkCredentials(app.db, { email: t.viewer.email, password: PASSWORD, address: null })).ok).toBe(true);
    expect((await audit(t.tenantId)).rows).toEqual([]);
  });

  it(`is blocked after ${MAX_FAILURES_PER_ACCOUNT} wrong guesses, even with the right current password`, async () => {
    const t = await createTeam(owner, 'Change throttled');
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) await change(t.viewer.id, fields(`guess number ${i}`));
    const r = await change(t.viewer.id, fields(PASSWORD));
    expect(r).toEqual({ ok: false, message: 'Too many attempts, try again in 15 minutes.' });
    expect(await checkCredentials(app.db, { email: t.viewer.email, password: NEW, address: null })).toMatchObject({ ok: false });
    expect((await audit(t.tenantId)).rows).toEqual([]);
  });

  it('validates the new password: at least 12 characters, typed twice alike, different from the current one', async () => {
    const t = await createTeam(owner, 'Change invalid');
    expect(await change(t.viewer.id, fields(PASSWORD, 'short pw'))).toEqual({
      ok: false,
      message: INVALID_INPUT,
      fieldErrors: { newPassword: ['Use at least 12 characters.'] },
    });
    expect(await change(t.viewer.id, fields(PASSWORD, NEW, `${NEW}!`))).toEqual({
      ok: false,
      message: INVALID_INPUT,
      fieldErrors: { confirmPassword: ['The two new passwords differ.'] },
    });
    expect(await change(t.viewer.id, fields(PASSWORD, PASSWORD))).toEqual({
      ok: false,
      message: INVALID_INPUT,
      fieldErrors: { newPassword: ['Choose a password different from the current one.'] },
    });
    expect(await change(t.viewer.id, { newPassword: NEW, confirmPassword: NEW })).toMatchObject({
      ok: false,
      fieldErrors: { currentPassword: ['Enter your current password.'] },
    });
    expect((await checkCredentials(app.db, { email: t.viewer.email, password: PASSWORD, address: null })).ok).toBe(true);
    expect(await failures(t.viewer.email)).toBe(0);
  });

  it('an expired temporary password cannot choose a new one', async () => {
    const t = await createTeam(owner, 'Change expired');
    await makeTemporary(t.viewer.id, '-1 minute');
    expect(await change(t.viewer.id, fields(PASSWORD))).toEqual({ ok: false, message: TEMPORARY_PASSWORD_EXPIRED });
    expect((await flags(t.viewer.id)).password_must_change).toBe(true);
  });

  it('refuses no session, a disabled account and a single-sign-on account without a password', async () => {
    const t = await createTeam(owner, 'Change refusals');
    expect(await change(null, fields(PASSWORD))).toEqual({ ok: false, message: SIGNED_OUT });
    await owner.query('update saas.users set disabled_at = now() where id = $1', [t.buyer.id]);
    expect(await change(t.buyer.id, fields(PASSWORD))).toEqual({ ok: false, message: SIGNED_OUT });
    await owner.query('update saas.users set password_hash = null where id = $1', [t.viewer.id]);
    expect(await change(t.viewer.id, fields(PASSWORD))).toEqual({ ok: false, message: NO_PASSWORD });
  });

  it('works for an account with no membership (nothing to audit)', async () => {
    const loner = await createUser(owner);
    expect(await change(loner.id, fields(PASSWORD))).toMatchObject({ ok: true });
    expect(await checkCredentials(app.db, { email: loner.email, password: PASSWORD, address: null })).toMatchObject({ message: INVALID_CREDENTIALS });
    expect((await checkCredentials(app.db, { email: loner.email, password: NEW, address: null })).ok).toBe(true);
  });
});

describe('changePassword in parallel', () => {
  const wide = appKysely(10);

  it(`answers at most ${MAX_FAILURES_PER_ACCOUNT} of 50 simultaneous wrong current passwords; the rest are throttled`, async () => {
    const t = await createTeam(owner, 'Change parallel');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        changePassword({ userId: t.viewer.id, preferredTenantId: null, address: null, input: fields(`parallel guess ${i}`), db: wide.db }),
      ),
    );
    const wrong = results.filter((r) => !r.ok && r.fieldErrors?.currentPassword?.[0] === WRONG_CURRENT_PASSWORD);
    expect(wrong.length).toBeLessThanOrEqual(MAX_FAILURES_PER_ACCOUNT);
    expect(results.filter((r) => !r.ok && /^Too many attempts/.test(r.message)).length).toBe(50 - wrong.length);
    expect((await audit(t.tenantId)).rows).toEqual([]);
  });
});
