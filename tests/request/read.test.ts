// The read wrapper's core (runTenantRead) on the real database: where each kind
// of visitor is sent, that a role below the page's gets "not found" without the
// reader running, and that the reader runs in the tenant's own transaction
// (the setting is the member's tenant; another tenant's rows stay invisible,
// though the owner sees them).
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { CHANGE_PASSWORD_PATH, NO_ACCESS_PATH, runTenantRead, SIGN_IN_PATH } from '../../lib/request/read-core';
import { loadAccess } from '../../lib/tenancy/membership';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { createTeam, createUser } from '../auth/fixtures';

const app = appKysely();
const owner = ownerPool();

const access = (userId: string, preferred: string | null = null) => loadAccess(userId, preferred, app.db);

describe('runTenantRead', () => {
  it('sends the signed-out, the temporary password and the member of nothing where they belong, reading nothing', async () => {
    let calls = 0;
    const reader = async () => ++calls;
    expect(await runTenantRead(null, 'viewer', reader, app.db)).toEqual({ kind: 'redirect', to: SIGN_IN_PATH });

    const t = await createTeam(owner, 'Read redirects');
    await owner.query('update saas.users set password_must_change = true, password_expires_at = now() + $2::interval where id = $1', [
      t.viewer.id,
      '1 hour',
    ]);
    expect(await runTenantRead(await access(t.viewer.id), 'viewer', reader, app.db)).toEqual({ kind: 'redirect', to: CHANGE_PASSWORD_PATH });

    const loner = await createUser(owner);
    expect(await runTenantRead(await access(loner.id), 'viewer', reader, app.db)).toEqual({ kind: 'redirect', to: NO_ACCESS_PATH });
    expect(calls).toBe(0);
  });

  it('a role below the page gets not found and the reader does not run', async () => {
    const t = await createTeam(owner, 'Read roles');
    let calls = 0;
    const reader = async () => ++calls;
    expect(await runTenantRead(await access(t.viewer.id), 'admin', reader, app.db)).toEqual({ kind: 'not-found' });
    expect(await runTenantRead(await access(t.buyer.id), 'admin', reader, app.db)).toEqual({ kind: 'not-found' });
    expect(calls).toBe(0);
    const ok = await runTenantRead(await access(t.admin.id), 'admin', reader, app.db);
    expect(ok).toMatchObject({ kind: 'ok', data: 1, ctx: { role: 'admin', tenant: { tenantId: t.tenantId } } });
  });

  it("reads inside the member's tenant only", async () => {
    const a = await createTeam(owner, 'Read tenant A');
    const b = await createTeam(owner, 'Read tenant B');
    const r = await runTenantRead(await access(a.buyer.id), 'viewer', async (trx, ctx) => {
      const setting = await sql<{ t: string; u: string }>`select current_setting('saas.tenant_id') as t, current_setting('saas.user_id') as u`.execute(trx);
      const names = await trx.selectFrom('saas.tenants').select('name').where('id', 'in', [a.tenantId, b.tenantId]).execute();
      return { setting: setting.rows[0], names: names.map((n) => n.name), ctxTenant: ctx.tenant.tenantId };
    }, app.db);
    expect(r).toEqual({
      kind: 'ok',
      ctx: expect.objectContaining({ user: expect.objectContaining({ id: a.buyer.id }), role: 'buyer' }),
      data: { setting: { t: a.tenantId, u: a.buyer.id }, names: ['Read tenant A'], ctxTenant: a.tenantId },
    });
    // The other tenant exists: the owner sees both.
    const both = await owner.query('select name from saas.tenants where id = any($1) order by name', [[a.tenantId, b.tenantId]]);
    expect(both.rows.map((x) => x.name)).toEqual(['Read tenant A', 'Read tenant B']);
  });

  it('a member of two tenants reads the one they chose, and gets the context alone without a reader', async () => {
    const a = await createTeam(owner, 'Read choice A');
    const b = await createTeam(owner, 'Read choice B');
    await owner.query("insert into saas.memberships (tenant_id, user_id, role) values ($1, $2, 'viewer')", [b.tenantId, a.buyer.id]);
    const r = await runTenantRead(await access(a.buyer.id, b.tenantId), 'viewer', undefined, app.db);
    expect(r).toMatchObject({ kind: 'ok', data: undefined, ctx: { role: 'viewer', tenant: { tenantId: b.tenantId } } });
    if (r.kind === 'ok') expect(r.ctx.memberships.map((m) => m.tenantId).sort()).toEqual([a.tenantId, b.tenantId].sort());
  });
});
