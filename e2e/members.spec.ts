// Member management by an admin (add new and existing accounts, change a role,
// remove), the last-admin rule, and the audit trail every change leaves.
import { alertOf, expect, rowOf, test } from './fixtures';

test('an admin adds a new account (temporary password, changed at first sign-in), adds an existing one, changes a role and removes a member', async ({
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
  const temporary = page.getByRole('region', { name: 'Temporary password' });
  await expect(temporary).toContainText('must choose their own password when they first sign in');
  const otp = (await temporary.locator('code').textContent())!.trim();
  expect(otp).toMatch(/^[A-Za-z0-9]{20}$/);
  await expect(rowOf(page, email)).toBeVisible();
  await expect(rowOf(page, email)).toContainText('(not activated yet)');
  const created = await db.pool.query('select id, password_hash, password_must_change from saas.users where email = $1', [email]);
  expect(created.rows[0].password_hash).toMatch(/^\$argon2id\$/);
  expect(created.rows[0].password_must_change).toBe(true);
  expect(await db.roleOf(team.tenantId, created.rows[0].id)).toBe('buyer');

  // The temporary password signs the new member in, straight to choosing their own.
  const fresh = await browser.newContext();
  const freshPage = await fresh.newPage();
  await freshPage.goto('/signin');
  await freshPage.getByLabel('Email').fill(email);
  await freshPage.getByLabel('Password').fill(otp);
  await freshPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(freshPage).toHaveURL(/\/account\/password$/);
  await freshPage.getByLabel('Current password').fill(otp);
  await freshPage.getByLabel('New password', { exact: true }).fill('fresh face password');
  await freshPage.getByLabel('Confirm new password').fill('fresh face password');
  await freshPage.getByRole('button', { name: 'Change password' }).click();
  await expect(freshPage.getByLabel('Role: Buyer')).toBeVisible();
  await fresh.close();

  // An existing account, by email: no password is shown.
  const existing = await db.createUser();
  await add.getByLabel('Email').fill(existing.email);
  await add.getByLabel('Role').selectOption('viewer');
  await add.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByRole('status')).toHaveText(`${existing.email} added as Viewer.`);
  await expect(page.getByRole('region', { name: 'Temporary password' })).toHaveCount(0);
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
  expect(rows.map((r) => r.action)).toEqual(['member.add', 'account.password_change', 'member.add', 'member.role_change', 'member.remove']);
  expect(rows.filter((r) => r.action !== 'account.password_change').every((r) => r.actor_user_id === team.admin.id)).toBe(true);
  expect(rows[1]).toMatchObject({ actor_user_id: created.rows[0].id, entity_id: created.rows[0].id, after: { temporaryReplaced: true } });
  expect(rows[3]).toMatchObject({ entity_id: team.viewer.id, before: { role: 'viewer' }, after: { role: 'buyer' } });
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

test('the members and audit tables sort by column: members in the browser, the audit log through the URL', async ({ page, team, db, signIn }) => {
  await signIn(page, team.admin);
  await page.goto('/members');
  const table = page.getByRole('table', { name: 'Members of this tenant' });
  const emails = async () => (await table.getByRole('row').allInnerTexts()).slice(1).map((t) => t.split(/\s/)[0]);
  const byEmail = [team.admin.email, team.buyer.email, team.viewer.email].sort();
  await expect(table.getByRole('columnheader', { name: 'Email' })).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(emails).toEqual(byEmail);
  await table.getByRole('button', { name: 'Email' }).click();
  await expect(table.getByRole('columnheader', { name: 'Email' })).toHaveAttribute('aria-sort', 'descending');
  await expect.poll(emails).toEqual([...byEmail].reverse());
  // By role: Admin, Buyer, Viewer (alphabetical on the label), then the other way.
  await table.getByRole('button', { name: 'Role' }).click();
  await expect(table.getByRole('columnheader', { name: 'Role' })).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(emails).toEqual([team.admin.email, team.buyer.email, team.viewer.email]);
  await table.getByRole('button', { name: 'Role' }).click();
  await expect.poll(emails).toEqual([team.viewer.email, team.buyer.email, team.admin.email]);

  // Audit: three actions, ordered by the server on the URL's say, filters kept.
  await db.pool.query(
    `insert into saas.audit_log (tenant_id, occurred_at, actor_label, action, entity_type, entity_id)
     values ($1, now() - interval '3 minutes', 'carol@e2e.test', 'budget.update', 'budget', 'b1'),
            ($1, now() - interval '2 minutes', 'alice@e2e.test', 'anomaly.resolve', 'anomaly', 'a1'),
            ($1, now() - interval '1 minute', 'bob@e2e.test', 'recommendation.approve', 'recommendation', 'r1')`,
    [team.tenantId],
  );
  await page.goto('/audit?actor=e2e.test');
  const audit = page.getByRole('table', { name: 'Audit log entries' });
  const actions = async () => (await audit.locator('tbody tr td:nth-child(3)').allInnerTexts()).map((t) => t.trim());
  await expect(audit.getByRole('columnheader', { name: 'When' })).toHaveAttribute('aria-sort', 'descending');
  await expect.poll(actions).toEqual(['recommendation.approve', 'anomaly.resolve', 'budget.update']);
  await audit.getByRole('link', { name: 'Action' }).click();
  await expect(page).toHaveURL(/sort=action&dir=asc/);
  await expect(page).toHaveURL(/actor=e2e.test/);
  await expect(audit.getByRole('columnheader', { name: 'Action' })).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(actions).toEqual(['anomaly.resolve', 'budget.update', 'recommendation.approve']);
  await audit.getByRole('link', { name: 'Who' }).click();
  await expect(page).toHaveURL(/sort=actor&dir=asc/);
  await expect.poll(actions).toEqual(['anomaly.resolve', 'recommendation.approve', 'budget.update']);
  // A new filter keeps the order.
  const filters = page.getByRole('form', { name: 'Filter the audit log' });
  await filters.getByLabel('Entity').selectOption('budget');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/sort=actor/);
  await expect.poll(actions).toEqual(['budget.update']);
});
