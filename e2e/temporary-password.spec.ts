// Temporary passwords (what an admin sees when adding a new account): they
// must be replaced before anything else opens, they expire, and an account
// still on one cannot be added by another organisation, whose data its
// inviting admin could otherwise read. Plus the voluntary password change.
import { alertOf, expect, forgeServerAction, PASSWORD, rowOf, serverActionId, test } from './fixtures';

const NEW_PASSWORD = 'my own long passphrase';

test('an invited member must change the temporary password before seeing or doing anything', async ({ page, team, db, browser, signIn }) => {
  // The admin invites a new person.
  await signIn(page, team.admin);
  await page.goto('/members');
  const add = page.getByRole('form', { name: 'Add a member' });
  const email = `invited-${Date.now()}@e2e.test`;
  await add.getByLabel('Email').fill(email);
  // As admin: then even the most powerful actions must be refused until the password is changed.
  await add.getByLabel('Role').selectOption('admin');
  await add.getByRole('button', { name: 'Add member' }).click();
  const temporary = (await page.getByRole('region', { name: 'Temporary password' }).locator('code').textContent())!.trim();
  const invitedId = (await db.pool.query('select id from saas.users where email = $1', [email])).rows[0].id as string;

  // The invited person signs in with it and lands on the change-password page.
  const ctx = await browser.newContext();
  const invited = await ctx.newPage();
  await invited.goto('/signin');
  await invited.getByLabel('Email').fill(email);
  await invited.getByLabel('Password').fill(temporary);
  await invited.getByRole('button', { name: 'Sign in' }).click();
  await expect(invited).toHaveURL(/\/account\/password$/);
  await expect(invited.getByRole('heading', { name: 'Change your password' })).toBeVisible();
  await expect(invited.getByRole('note')).toContainText('You signed in with a temporary password.');

  // Every other page sends them back here; nothing of the tenant is shown.
  for (const path of ['/performance', '/members', '/audit', `/members/${team.buyer.id}`, '/no-access']) {
    await invited.goto(path);
    await expect(invited).toHaveURL(/\/account\/password$/);
  }
  await expect(invited.getByText(team.name)).toHaveCount(0);

  // Actions are refused on the server too, not only hidden.
  const addMember = serverActionId('addMemberAction', 'lib/members/actions.ts');
  const sneak = `sneak-${Date.now()}@e2e.test`;
  const forged = await forgeServerAction(invited, '/members', addMember, { _tenant: team.tenantId, email: sneak, role: 'admin' });
  expect(forged.text).toContain('Choose your own password first');
  expect((await db.pool.query('select 1 from saas.users where email = $1', [sneak])).rowCount).toBe(0);
  const changeRole = serverActionId('changeMemberRoleAction', 'lib/members/actions.ts');
  expect(
    (await forgeServerAction(invited, `/members/${team.buyer.id}`, changeRole, { _tenant: team.tenantId, userId: team.buyer.id, role: 'viewer' })).text,
  ).toContain('Choose your own password first');
  expect(await db.roleOf(team.tenantId, team.buyer.id)).toBe('buyer');
  const switchTenant = serverActionId('switchTenantAction', 'lib/tenancy/actions.ts');
  expect((await forgeServerAction(invited, '/account/password', switchTenant, { tenantId: team.tenantId })).text).toContain(
    'Choose your own password first',
  );
  expect((await db.auditRows(team.tenantId)).map((r) => r.action)).toEqual(['member.add']);

  // Validation names the field: too short, then the two entries differ, then a wrong current password.
  const form = invited.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill(temporary);
  await form.getByLabel('New password', { exact: true }).fill('too short');
  await form.getByLabel('Confirm new password').fill('too short');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByLabel('New password', { exact: true })).toHaveAccessibleDescription(/Use at least 12 characters\./);
  await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await form.getByLabel('Confirm new password').fill(`${NEW_PASSWORD}?`);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByLabel('Confirm new password')).toHaveAccessibleDescription('The two new passwords differ.');
  await form.getByLabel('Current password').fill('not the temporary one');
  await form.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByLabel('Current password')).toHaveAccessibleDescription('That is not your current password.');
  expect((await db.pool.query('select password_must_change from saas.users where id = $1', [invitedId])).rows[0].password_must_change).toBe(true);

  // The right one: on to the dashboard, as the role they were given.
  await form.getByLabel('Current password').fill(temporary);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(invited).toHaveURL(/\/performance$/);
  await expect(invited.getByLabel('Role: Admin')).toBeVisible();
  const row = (await db.pool.query('select password_must_change, password_expires_at from saas.users where id = $1', [invitedId])).rows[0];
  expect(row).toEqual({ password_must_change: false, password_expires_at: null });
  const audit = await db.auditRows(team.tenantId);
  expect(audit.at(-1)).toMatchObject({ action: 'account.password_change', actor_user_id: invitedId, entity_id: invitedId });

  // The temporary password is dead; the new one works.
  await invited.getByRole('button', { name: 'Sign out' }).click();
  await expect(invited).toHaveURL(/\/signin/);
  await invited.getByLabel('Email').fill(email);
  await invited.getByLabel('Password').fill(temporary);
  await invited.getByRole('button', { name: 'Sign in' }).click();
  await expect(alertOf(invited)).toHaveText('Email or password is incorrect.');
  await signIn(invited, { id: invitedId, email, name: '' }, NEW_PASSWORD);
  await ctx.close();

  // The admin's list no longer calls them not activated.
  await page.reload();
  await expect(rowOf(page, email)).not.toContainText('not activated');
});

test('an expired temporary password is refused; the admin can issue a new one from the member page', async ({ page, team, db, browser, signIn }) => {
  await db.makeTemporary(team.viewer.id, '-1 minute');
  await page.goto('/signin');
  await page.getByLabel('Email').fill(team.viewer.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(alertOf(page)).toHaveText('Your temporary password has expired. Ask an admin of your organisation for a new one.');
  await expect(page).toHaveURL(/\/signin/);
  await page.goto('/performance');
  await expect(page).toHaveURL(/\/signin/);

  // The admin sees the expiry and issues a new temporary password.
  const ctx = await browser.newContext();
  const admin = await ctx.newPage();
  await signIn(admin, team.admin);
  await admin.goto(`/members/${team.viewer.id}`);
  await expect(admin.getByText(/the temporary password has expired/)).toBeVisible();
  await admin.getByRole('button', { name: 'Issue a new temporary password' }).click();
  const fresh = (await admin.getByRole('region', { name: 'Temporary password' }).locator('code').textContent())!.trim();
  expect((await db.auditRows(team.tenantId)).map((r) => r.action)).toEqual(['member.password_reset']);
  await ctx.close();

  await page.getByLabel('Email').fill(team.viewer.email);
  await page.getByLabel('Password').fill(fresh);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
});

test("adding an account that another tenant invited and that is not activated yet is refused", async ({ page, team, db, signIn }) => {
  // Tenant A (another organisation) invited this person; they never signed in.
  const other = await db.createTeam();
  const pending = await db.createUser();
  await db.addMember(other.tenantId, pending.id, 'viewer');
  await db.makeTemporary(pending.id, '1 day');

  await signIn(page, team.admin);
  await page.goto('/members');
  const add = page.getByRole('form', { name: 'Add a member' });
  await add.getByLabel('Email').fill(pending.email);
  await add.getByLabel('Role').selectOption('admin');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(alertOf(page)).toHaveText(
    'This person has been invited by another organisation and has not activated their account yet; ask them to sign in first.',
  );
  await expect(add.getByLabel('Email')).toHaveAccessibleDescription('Invited by another organisation; not activated yet.');
  expect(await db.roleOf(team.tenantId, pending.id)).toBeNull();
  await expect(page.getByRole('region', { name: 'Temporary password' })).toHaveCount(0);
  expect(await db.auditRows(team.tenantId)).toEqual([]);

  // Once they have chosen their own password, the same request goes through.
  await db.pool.query('update saas.users set password_must_change = false, password_expires_at = null where id = $1', [pending.id]);
  await add.getByLabel('Email').fill(pending.email);
  await add.getByLabel('Role').selectOption('viewer');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByRole('status')).toHaveText(`${pending.email} added as Viewer.`);
  expect(await db.roleOf(team.tenantId, pending.id)).toBe('viewer');
});

test('anyone signed in can change their password from the top bar; it is audited in the current tenant', async ({ page, team, db, signIn }) => {
  await signIn(page, team.viewer);
  await page.getByRole('link', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(page.getByRole('note')).toHaveCount(0);
  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill(PASSWORD);
  await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await form.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toHaveText('Your password has been changed.');
  const audit = await db.auditRows(team.tenantId);
  expect(audit).toEqual([
    expect.objectContaining({ action: 'account.password_change', actor_user_id: team.viewer.id, entity_id: team.viewer.id, after: { email: team.viewer.email, temporaryReplaced: false } }),
  ]);
  await page.getByRole('link', { name: '← Back to the dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Performance' })).toBeVisible();
});
