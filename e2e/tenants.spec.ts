// Tenants: switching between memberships (re-checked on the server), a user
// without membership, and a user of tenant A reaching for tenant B's pages,
// ids and actions.
import { expect, forgeServerAction, rowOf, serverActionId, test } from './fixtures';

test('a member of two tenants switches between them; the role follows the tenant', async ({ page, team, db, signIn }) => {
  // Named to sort after the team's tenant, which is therefore in force at first.
  const otherName = `Zeta ${team.name}`;
  const other = await db.createTenant(otherName, 'USD');
  await db.addMember(other, team.buyer.id, 'viewer');
  await signIn(page, team.buyer);

  const current = page.getByLabel('Current tenant');
  // Memberships are listed by tenant name; the first is in force until the user chooses.
  await expect(current).toContainText(team.name);
  await expect(current).toContainText('EUR');
  await expect(page.getByLabel('Role: Buyer')).toBeVisible();
  const switcher = page.getByRole('form', { name: 'Switch tenant' });
  await switcher.getByLabel('Tenant').selectOption({ label: `${otherName} (viewer)` });
  await switcher.getByRole('button', { name: 'Switch' }).click();
  await expect(current).toContainText(otherName);
  await expect(current).toContainText('USD');
  await expect(page.getByLabel('Role: Viewer')).toBeVisible();

  await switcher.getByLabel('Tenant').selectOption({ label: `${team.name} (buyer)` });
  await switcher.getByRole('button', { name: 'Switch' }).click();
  await expect(current).not.toContainText('Zeta');
  await expect(current).toContainText('EUR');
  await expect(page.getByLabel('Role: Buyer')).toBeVisible();

  // Removed from the chosen tenant: the preference no longer counts, the other membership applies.
  await db.pool.query('delete from saas.memberships where tenant_id = $1 and user_id = $2', [team.tenantId, team.buyer.id]);
  await page.reload();
  await expect(current).toContainText(otherName);
  await expect(page.getByRole('form', { name: 'Switch tenant' })).toHaveCount(0);
});

test('a user without any membership sees a page saying so', async ({ page, db, signIn }) => {
  const loner = await db.createUser();
  await page.goto('/signin');
  await page.getByLabel('Email').fill(loner.email);
  await page.getByLabel('Password').fill('e2e-password-123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/no-access$/);
  await expect(page.getByRole('heading', { name: 'No tenant yet' })).toBeVisible();
  await expect(page.getByText(loner.email)).toBeVisible();
  await page.goto('/members');
  await expect(page).toHaveURL(/\/no-access$/);
  void signIn;
});

test("a user of tenant A gets 'not found' for tenant B's pages, ids and actions", async ({ page, team, db, signIn, context, baseURL }) => {
  const b = await db.createTeam(`Other ${team.name}`);
  // Something in B's audit log to aim at.
  const auditB = await db.pool.query(
    "insert into saas.audit_log (tenant_id, action, entity_type, entity_id) values ($1, 'member.add', 'membership', $2) returning id",
    [b.tenantId, b.viewer.id],
  );
  await signIn(page, team.admin);

  await page.goto(`/members/${b.viewer.id}`);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await page.goto(`/audit/${auditB.rows[0].id}`);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await page.goto('/members');
  await expect(rowOf(page, b.admin.email)).toHaveCount(0);
  await expect(rowOf(page, team.admin.email)).toBeVisible();

  // A forged preference cookie naming B changes nothing: the membership is checked.
  await context.addCookies([{ name: 'aegis-tenant', value: b.tenantId, url: baseURL! }]);
  await page.goto('/members');
  await expect(page.getByLabel('Current tenant')).toContainText(team.name);
  await expect(rowOf(page, b.admin.email)).toHaveCount(0);

  // Forged actions: switching to B, removing B's member, changing B's roles, inviting into B.
  const sw = await forgeServerAction(page, '/performance', serverActionId('switchTenantAction', 'lib/tenancy/actions.ts'), { tenantId: b.tenantId });
  expect(sw.text).toContain('You are not a member of that tenant.');
  const rm = await forgeServerAction(page, `/members/${b.viewer.id}`, serverActionId('removeMemberAction', 'lib/members/actions.ts'), {
    userId: b.viewer.id,
  });
  expect(rm.text).toContain('That member was not found in this tenant.');
  const ch = await forgeServerAction(page, `/members/${b.admin.id}`, serverActionId('changeMemberRoleAction', 'lib/members/actions.ts'), {
    _tenant: b.tenantId,
    userId: b.admin.id,
    role: 'viewer',
  });
  expect(ch.text).toContain('You switched tenant in another window.');
  const inv = await forgeServerAction(page, '/members', serverActionId('inviteMemberAction', 'lib/members/actions.ts'), {
    _tenant: b.tenantId,
    email: 'into-b@e2e.test',
    role: 'admin',
  });
  expect(inv.text).toContain('You switched tenant in another window.');
  expect((await db.pool.query('select 1 from saas.invitations where tenant_id = $1', [b.tenantId])).rowCount).toBe(0);
  expect(await db.roleOf(b.tenantId, b.viewer.id)).toBe('viewer');
  expect(await db.roleOf(b.tenantId, b.admin.id)).toBe('admin');
  expect((await db.auditRows(b.tenantId)).length).toBe(1);
  await page.goto('/performance');
  await expect(page.getByLabel('Current tenant')).toContainText(team.name);
});
