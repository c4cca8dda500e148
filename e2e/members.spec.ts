// Member management by an admin (add new and existing accounts, change a role,
// remove), the last-admin rule, and the audit trail every change leaves.
import { alertOf, expect, rowOf, test } from './fixtures';

test('an admin adds a new account (one-time password works), adds an existing one, changes a role and removes a member', async ({
  page,
  team,
  db,
  signIn,
  browser,
}) => {
  await signIn(page, team.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
  const add = page.getByRole('form', { name: 'Add a member' });

  // Validation: a bad email is named on its field, nothing is created.
  await add.getByLabel('Email').fill('not-an-email');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(add.getByLabel('Email')).toHaveAccessibleDescription('Enter a valid email address, like name@example.com.');
  await expect(add.getByLabel('Email')).toHaveValue('not-an-email');

  // A brand-new account.
  const email = `fresh-${Date.now()}@e2e.test`;
  await add.getByLabel('Email').fill(email);
  await add.getByLabel('Name (optional)').fill('Fresh Face');
  await add.getByLabel('Role').selectOption('buyer');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByRole('status')).toHaveText(`Account created for ${email} and added as Buyer.`);
  const otp = (await page.getByRole('region', { name: 'One-time password' }).locator('code').textContent())!.trim();
  expect(otp).toMatch(/^[A-Za-z0-9]{20}$/);
  await expect(rowOf(page, email)).toBeVisible();
  const created = await db.pool.query('select id, password_hash from saas.users where email = $1', [email]);
  expect(created.rows[0].password_hash).toMatch(/^\$argon2id\$/);
  expect(await db.roleOf(team.tenantId, created.rows[0].id)).toBe('buyer');

  // The one-time password signs the new member in.
  const fresh = await browser.newContext();
  const freshPage = await fresh.newPage();
  await freshPage.goto('/signin');
  await freshPage.getByLabel('Email').fill(email);
  await freshPage.getByLabel('Password').fill(otp);
  await freshPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(freshPage.getByLabel('Role: Buyer')).toBeVisible();
  await fresh.close();

  // An existing account, by email: no password is shown.
  const existing = await db.createUser();
  await add.getByLabel('Email').fill(existing.email);
  await add.getByLabel('Role').selectOption('viewer');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByRole('status')).toHaveText(`${existing.email} added as Viewer.`);
  await expect(page.getByRole('region', { name: 'One-time password' })).toHaveCount(0);
  expect(await db.roleOf(team.tenantId, existing.id)).toBe('viewer');

  // Adding them again is refused on the email field.
  await add.getByLabel('Email').fill(existing.email);
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(add.getByLabel('Email')).toHaveAccessibleDescription('Already a member, as Viewer.');

  // Change a role.
  await page.getByRole('link', { name: `Manage ${team.viewer.email}` }).click();
  await page.getByRole('form', { name: 'Change role' }).getByLabel('Role').selectOption('buyer');
  await page.getByRole('button', { name: 'Save role' }).click();
  await expect(page.getByRole('region', { name: 'Role' }).getByRole('status')).toHaveText(`${team.viewer.email} is now Buyer.`);
  expect(await db.roleOf(team.tenantId, team.viewer.id)).toBe('buyer');

  // Remove a member.
  await page.getByRole('button', { name: 'Remove member' }).click();
  await expect(page.getByRole('region', { name: 'Remove from this tenant' }).getByRole('status')).toHaveText(`${team.viewer.email} was removed from ${team.name}.`);
  expect(await db.roleOf(team.tenantId, team.viewer.id)).toBeNull();
  await page.goto('/members');
  await expect(rowOf(page, team.viewer.email)).toHaveCount(0);

  // Every change is in the audit log, with who, before and after.
  const rows = await db.auditRows(team.tenantId);
  expect(rows.map((r) => r.action)).toEqual(['member.add', 'member.add', 'member.role_change', 'member.remove']);
  expect(rows.every((r) => r.actor_user_id === team.admin.id)).toBe(true);
  expect(rows[2]).toMatchObject({ entity_id: team.viewer.id, before: { role: 'viewer' }, after: { role: 'buyer' } });
});

test('the last admin can be neither demoted nor removed', async ({ page, team, db, signIn }) => {
  await signIn(page, team.admin);
  await page.goto(`/members/${team.admin.id}`);
  await page.getByRole('form', { name: 'Change role' }).getByLabel('Role').selectOption('viewer');
  await page.getByRole('button', { name: 'Save role' }).click();
  await expect(alertOf(page)).toHaveText('A tenant must keep at least one admin: make another member admin first.');
  await page.getByRole('button', { name: 'Remove member' }).click();
  await expect(alertOf(page).last()).toHaveText('A tenant must keep at least one admin: make another member admin first.');
  expect(await db.roleOf(team.tenantId, team.admin.id)).toBe('admin');
  expect(await db.auditRows(team.tenantId)).toEqual([]);
});

test('the audit page lists changes, filters them through the URL and shows before and after', async ({ page, team, db, signIn }) => {
  await signIn(page, team.admin);
  await page.goto(`/members/${team.buyer.id}`);
  await page.getByRole('form', { name: 'Change role' }).getByLabel('Role').selectOption('viewer');
  await page.getByRole('button', { name: 'Save role' }).click();
  await expect(page.getByRole('region', { name: 'Role' }).getByRole('status')).toHaveText(`${team.buyer.email} is now Viewer.`);
  await page.goto(`/members/${team.viewer.id}`);
  await page.getByRole('button', { name: 'Remove member' }).click();
  await expect(page.getByRole('region', { name: 'Remove from this tenant' }).getByRole('status')).toHaveText(`${team.viewer.email} was removed from ${team.name}.`);
  // Plenty of older rows, to page through.
  await db.pool.query(
    `insert into saas.audit_log (tenant_id, occurred_at, actor_label, action, entity_type, entity_id)
     select $1, now() - make_interval(days => 3, mins => g), 'robot@e2e.test', 'budget.update', 'budget', 'cmp-' || g
     from generate_series(1, 30) g`,
    [team.tenantId],
  );

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await expect(page.getByText('32 entries.')).toBeVisible();
  const table = page.getByRole('table');
  await expect(table.getByRole('row')).toHaveCount(26); // header + 25 per page
  await expect(table.getByRole('row').nth(1)).toContainText('member.remove');
  await expect(table.getByRole('row').nth(1)).toContainText(team.admin.email);
  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(table.getByRole('row')).toHaveCount(8);

  const filters = page.getByRole('form', { name: 'Filter the audit log' });
  await filters.getByLabel('Action').selectOption('member.role_change');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=member\.role_change/);
  await expect(page.getByText('1 entry matches the filters.')).toBeVisible();
  await page.reload();
  await expect(table.getByRole('row')).toHaveCount(2);

  await table.getByRole('link', { name: /^Details of entry/ }).click();
  await expect(page.getByRole('heading', { name: /^Audit entry \d+$/ })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Before' })).toContainText('"role": "buyer"');
  await expect(page.getByRole('region', { name: 'After' })).toContainText('"role": "viewer"');

  await page.goto('/audit?actor=robot&from=2000-01-01');
  await expect(page.getByText('30 entries match the filters.')).toBeVisible();
});
