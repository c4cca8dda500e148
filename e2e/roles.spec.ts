// Roles are enforced on the server: pages hide what a role cannot do, and a
// forged request for it is refused without changing anything.
import { expect, forgeServerAction, rowOf, serverActionId, test } from './fixtures';

test('a viewer sees the members but no way to manage them, and member pages are not found', async ({ page, team, signIn }) => {
  await signIn(page, team.viewer);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
  await expect(page.getByRole('heading', { name: 'Members', level: 1 })).toBeVisible();
  await expect(rowOf(page, team.admin.email)).toBeVisible();
  await expect(page.getByRole('form', { name: 'Invite a member' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: /^Manage / })).toHaveCount(0);
  await page.goto(`/members/${team.buyer.id}`);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
});

test('a forged role change or removal by a viewer is refused by the server and changes nothing', async ({ page, team, signIn, db }) => {
  await signIn(page, team.viewer);
  const auditBefore = await db.auditRows(team.tenantId);

  const change = serverActionId('changeMemberRoleAction', 'lib/members/actions.ts');
  const promote = await forgeServerAction(page, `/members/${team.viewer.id}`, change, {
    _tenant: team.tenantId,
    userId: team.viewer.id,
    role: 'admin',
  });
  expect(promote.text).toContain('This needs the Admin role; you are Viewer.');

  const remove = serverActionId('removeMemberAction', 'lib/members/actions.ts');
  const kick = await forgeServerAction(page, `/members/${team.admin.id}`, remove, { _tenant: team.tenantId, userId: team.admin.id });
  expect(kick.text).toContain('This needs the Admin role; you are Viewer.');

  const invite = serverActionId('inviteMemberAction', 'lib/members/actions.ts');
  const sneak = await forgeServerAction(page, '/members', invite, { _tenant: team.tenantId, email: 'sneaky@e2e.test', role: 'admin' });
  expect(sneak.text).toContain('This needs the Admin role; you are Viewer.');

  expect(await db.roleOf(team.tenantId, team.viewer.id)).toBe('viewer');
  expect(await db.roleOf(team.tenantId, team.admin.id)).toBe('admin');
  expect((await db.pool.query("select 1 from saas.invitations where email = 'sneaky@e2e.test'")).rowCount).toBe(0);
  expect(await db.auditRows(team.tenantId)).toEqual(auditBefore);
});

test('a buyer is refused member management too; the same forged call works for the admin', async ({ page, team, signIn, db, browser }) => {
  await signIn(page, team.buyer);
  const change = serverActionId('changeMemberRoleAction', 'lib/members/actions.ts');
  const r = await forgeServerAction(page, `/members/${team.buyer.id}`, change, { _tenant: team.tenantId, userId: team.buyer.id, role: 'admin' });
  expect(r.text).toContain('This needs the Admin role; you are Buyer.');
  expect(await db.roleOf(team.tenantId, team.buyer.id)).toBe('buyer');

  // Control: the request is well formed — the admin sending it gets the change.
  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  await signIn(adminPage, team.admin);
  const ok = await forgeServerAction(adminPage, `/members/${team.buyer.id}`, change, { _tenant: team.tenantId, userId: team.buyer.id, role: 'viewer' });
  expect(ok.text).toContain('is now Viewer.');
  expect(await db.roleOf(team.tenantId, team.buyer.id)).toBe('viewer');
  await adminContext.close();
});

test('a removed member loses access at once, a demoted one loses the controls at once', async ({ page, team, signIn, db, browser }) => {
  const second = await browser.newContext();
  const other = await second.newPage();
  await signIn(page, team.viewer);
  await signIn(other, team.admin);

  // Demote the admin to buyer behind their back (a second admin keeps the tenant managed).
  await db.addMember(team.tenantId, (await db.createUser()).id, 'admin');
  await db.pool.query("update saas.memberships set role = 'buyer' where tenant_id = $1 and user_id = $2", [team.tenantId, team.admin.id]);
  await other.goto('/members');
  await expect(other.getByLabel('Role: Buyer')).toBeVisible();
  await expect(other.getByRole('form', { name: 'Invite a member' })).toHaveCount(0);

  await db.pool.query('delete from saas.memberships where tenant_id = $1 and user_id = $2', [team.tenantId, team.viewer.id]);
  await page.goto('/performance');
  await expect(page).toHaveURL(/\/no-access$/);
  await expect(page.getByRole('heading', { name: 'No tenant yet' })).toBeVisible();
  await second.close();
});
