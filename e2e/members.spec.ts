// Member management by an admin (invite a new person, who joins through the
// mailed link; change a role, remove), the last-admin rule, and the audit
// trail every change leaves. Invitations in detail: invitations.spec.ts.
import { alertOf, expect, invite, rowOf, test } from './fixtures';

test('an admin invites a new person, who chooses a password and joins; the admin changes a role and removes a member', async ({
  page,
  team,
  db,
  signIn,
  browser,
}) => {
  await signIn(page, team.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
  const form = page.getByRole('form', { name: 'Invite a member' });

  // Validation: a bad email is named on its field, nothing is sent.
  await form.getByLabel('Email').fill('not-an-email');
  await form.getByRole('button', { name: 'Send invitation' }).click();
  await expect(form.getByLabel('Email')).toHaveAccessibleDescription('Enter a valid email address, like name@example.com.');
  await expect(form.getByLabel('Email')).toHaveValue('not-an-email');

  // A brand-new person: an invitation, no account yet.
  const email = `fresh-${Date.now()}@e2e.test`;
  await invite(page, email, 'buyer');
  const pending = page.getByRole('region', { name: 'Pending invitations' });
  await expect(rowOf(pending, email)).toContainText('Buyer');
  await expect(rowOf(pending, email)).toContainText(team.admin.name);
  expect((await db.pool.query('select 1 from saas.users where email = $1', [email])).rowCount).toBe(0);
  const link = await db.mailedLink(email, 'invitation');

  // The invitee follows the mailed link, chooses a password, and lands in the tenant with the invited role.
  const fresh = await browser.newContext();
  const invitee = await fresh.newPage();
  await invitee.goto(link);
  await expect(invitee.getByRole('heading', { name: `Join ${team.name}` })).toBeVisible();
  await expect(invitee.getByRole('main')).toContainText(`invites ${email} to ${team.name} on AEGIS Media Buying as Buyer`);
  const join = invitee.getByRole('form', { name: 'Create my account and join' });
  await join.getByLabel('Your name (optional)').fill('Fresh Face');
  await join.getByLabel('Password', { exact: true }).fill('fresh face password');
  await join.getByLabel('Confirm password').fill('fresh face password');
  await join.getByRole('button', { name: 'Create my account and join' }).click();
  await expect(invitee).toHaveURL(/\/performance$/);
  await expect(invitee.getByLabel('Current tenant')).toContainText(team.name);
  await expect(invitee.getByLabel('Role: Buyer')).toBeVisible();
  const created = await db.pool.query('select id, password_hash, email_verified_at from saas.users where email = $1', [email]);
  expect(created.rows[0].password_hash).toMatch(/^\$argon2id\$/);
  expect(created.rows[0].email_verified_at).not.toBeNull();
  const freshId = created.rows[0].id as string;
  // The link works once.
  await invitee.goto(link);
  await expect(alertOf(invitee)).toHaveText('This invitation has already been accepted.');
  await fresh.close();

  // The admin's list now has the member, and no pending invitation.
  await page.reload();
  await expect(rowOf(page, email)).toContainText('Fresh Face');
  await expect(rowOf(page, email)).toContainText('Buyer');
  await expect(pending).toHaveCount(0);

  // Inviting a member again is refused on the email field.
  await form.getByLabel('Email').fill(team.viewer.email);
  await form.getByRole('button', { name: 'Send invitation' }).click();
  await expect(form.getByLabel('Email')).toHaveAccessibleDescription('Already a member, as Viewer.');

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
  expect(rows.map((r) => r.action)).toEqual(['invitation.send', 'invitation.accept', 'member.role_change', 'member.remove']);
  expect(rows[0]).toMatchObject({ actor_user_id: team.admin.id, after: { email, role: 'buyer' } });
  expect(rows[1]).toMatchObject({ actor_user_id: freshId, entity_id: freshId, after: { email, role: 'buyer', newAccount: true } });
  expect(rows[2]).toMatchObject({ actor_user_id: team.admin.id, entity_id: team.viewer.id, before: { role: 'viewer' }, after: { role: 'buyer' } });
  expect(rows[3]).toMatchObject({ actor_user_id: team.admin.id, entity_id: team.viewer.id });
  // And on the audit page.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  const audit = page.getByRole('table', { name: 'Audit log entries' });
  await expect(audit.getByRole('row').filter({ hasText: 'invitation.send' })).toContainText(team.admin.email);
  await expect(audit.getByRole('row').filter({ hasText: 'invitation.accept' })).toContainText(email);
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
