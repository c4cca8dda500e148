// Emailed links: an invitation to an existing account (its owner signs in and
// accepts), revoked and resent invitations, the forgotten-password link; a
// password change that ends the account's other sessions; and invitations
// refused on the server to anyone but an admin. The mails are read from
// saas.mail_outbox (no SMTP_URL in e2e). A new person's invitation: members.spec.ts.
import type { Page } from '@playwright/test';
import { alertOf, expect, forgeServerAction, invite, PASSWORD, rowOf, serverActionId, test } from './fixtures';

const NEW_PASSWORD = 'my own long passphrase';

/** From the open change-password page: PASSWORD becomes NEW_PASSWORD. */
async function changePassword(page: Page) {
  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill(PASSWORD);
  await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await form.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toHaveText('Your password has been changed.');
}

test('an invitation to an existing account asks its owner to sign in, then to join; they land in the inviting tenant', async ({
  page,
  team,
  db,
  browser,
  signIn,
}) => {
  // Already in another tenant, whose name sorts first: it would be in force unless the invitation chose.
  const existing = await db.createUser();
  await db.addMember(await db.createTenant(`Alpha ${team.name}`), existing.id, 'admin');
  await signIn(page, team.admin);
  await page.goto('/members');
  await invite(page, existing.email, 'buyer');
  expect(await db.roleOf(team.tenantId, existing.id)).toBeNull();
  const link = await db.mailedLink(existing.email, 'invitation');

  const ctx = await browser.newContext();
  const invitee = await ctx.newPage();
  await invitee.goto(link);
  await expect(invitee.getByRole('heading', { name: `Join ${team.name}` })).toBeVisible();
  // No password to choose: the account is someone's; its owner signs in.
  await expect(invitee.getByRole('form', { name: 'Create my account and join' })).toHaveCount(0);
  await expect(invitee.getByRole('main')).toContainText('This email already has an account: sign in with it to accept or decline.');
  await invitee.getByRole('link', { name: 'Sign in to answer' }).click();
  await expect(invitee).toHaveURL(/\/signin\?callbackUrl=%2Finvite%2F/);
  await invitee.getByLabel('Email').fill(existing.email);
  await invitee.getByLabel('Password').fill(PASSWORD);
  await invitee.getByRole('button', { name: 'Sign in' }).click();
  await expect(invitee).toHaveURL((url) => url.pathname === link);
  await invitee.getByRole('button', { name: `Join ${team.name}` }).click();
  await expect(invitee).toHaveURL(/\/performance$/);
  await expect(invitee.getByLabel('Current tenant')).toContainText(team.name);
  await expect(invitee.getByLabel('Role: Buyer')).toBeVisible();
  await ctx.close();

  expect(await db.roleOf(team.tenantId, existing.id)).toBe('buyer');
  expect((await db.auditRows(team.tenantId)).at(-1)).toMatchObject({
    action: 'invitation.accept',
    actor_user_id: existing.id,
    after: { email: existing.email, role: 'buyer', newAccount: false },
  });
});

test("a revoked invitation's link says it was withdrawn; a resent invitation's old link is refused", async ({ page, team, db, browser, signIn }) => {
  await signIn(page, team.admin);
  await page.goto('/members');
  const revoked = `revoked-${Date.now()}@e2e.test`;
  const resent = `resent-${Date.now()}@e2e.test`;
  await invite(page, revoked, 'viewer');
  await invite(page, resent, 'buyer');
  const revokedLink = await db.mailedLink(revoked, 'invitation');
  const oldLink = await db.mailedLink(resent, 'invitation');
  const pending = page.getByRole('region', { name: 'Pending invitations' });

  await rowOf(pending, revoked).getByRole('button', { name: 'Revoke' }).click();
  await expect(rowOf(pending, revoked)).toHaveCount(0);
  await rowOf(pending, resent).getByRole('button', { name: 'Resend' }).click();
  await expect(rowOf(pending, resent).getByRole('status')).toHaveText(`Invitation sent to ${resent}. The link works for 72 hours.`);
  expect(await db.mailCount(resent, 'invitation')).toBe(2);
  const newLink = await db.mailedLink(resent, 'invitation');
  expect(newLink).not.toBe(oldLink);

  const ctx = await browser.newContext();
  const visitor = await ctx.newPage();
  await visitor.goto(revokedLink);
  await expect(alertOf(visitor)).toHaveText('This invitation was withdrawn by the organisation.');
  await expect(visitor.getByRole('form')).toHaveCount(0);
  await visitor.goto(oldLink);
  await expect(alertOf(visitor)).toHaveText('This invitation link is not valid. Check that you opened the whole link from the mail.');
  // The server refuses the old link too, not only the page.
  const accept = serverActionId('acceptInvitationWithPasswordAction', 'lib/invitations/actions.ts');
  const forged = await forgeServerAction(visitor, oldLink, accept, {
    token: oldLink.split('/').pop()!,
    newPassword: NEW_PASSWORD,
    confirmPassword: NEW_PASSWORD,
  });
  expect(forged.text).toContain('This invitation link is no longer valid.');
  expect((await db.pool.query('select 1 from saas.users where email = $1', [resent])).rowCount).toBe(0);
  // The new link is the one that works.
  await visitor.goto(newLink);
  await expect(visitor.getByRole('form', { name: 'Create my account and join' })).toBeVisible();
  await ctx.close();

  expect((await db.auditRows(team.tenantId)).map((r) => r.action)).toEqual([
    'invitation.send',
    'invitation.send',
    'invitation.revoke',
    'invitation.resend',
  ]);
});

test('forgot password: the same answer for any email; the mailed link sets a new password and signs in; the old one stops working', async ({
  page,
  team,
  db,
  signIn,
}) => {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
  const form = page.getByRole('form', { name: 'Reset your password' });
  const answer = (email: string) => `If an account exists for ${email}, a link to choose a new password is on its way. It works once, for one hour.`;

  const unknown = `nobody-${Date.now()}@e2e.test`;
  await form.getByLabel('Email').fill(unknown);
  await form.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toHaveText(answer(unknown));
  expect(await db.mailCount(unknown, 'password_reset')).toBe(0);

  await form.getByLabel('Email').fill(team.buyer.email);
  await form.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toHaveText(answer(team.buyer.email));
  const link = await db.mailedLink(team.buyer.email, 'password_reset');

  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await expect(page.getByRole('main')).toContainText(`For ${team.buyer.email}.`);
  const set = page.getByRole('form', { name: 'Set my password' });
  await set.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
  await set.getByLabel('Confirm password').fill(`${NEW_PASSWORD}?`);
  await set.getByRole('button', { name: 'Set my password' }).click();
  await expect(set.getByLabel('Confirm password')).toHaveAccessibleDescription('The two new passwords differ.');
  await set.getByLabel('Confirm password').fill(NEW_PASSWORD);
  await set.getByRole('button', { name: 'Set my password' }).click();
  await expect(page).toHaveURL(/\/performance$/);
  await expect(page.getByLabel('Role: Buyer')).toBeVisible();

  // The link works once; the old password is dead, the new one signs in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto(link);
  await expect(alertOf(page)).toHaveText('This reset link is no longer valid (used, or older than an hour). Ask for a new one.');
  await page.goto('/signin');
  await page.getByLabel('Email').fill(team.buyer.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(alertOf(page)).toHaveText('Email or password is incorrect.');
  await signIn(page, team.buyer, NEW_PASSWORD);
});

test('anyone signed in can change their password from the top bar; it is audited in the current tenant', async ({ page, team, db, signIn }) => {
  await signIn(page, team.viewer);
  await page.getByRole('link', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(page.getByRole('note')).toHaveCount(0);
  await changePassword(page);
  const audit = await db.auditRows(team.tenantId);
  expect(audit).toEqual([
    expect.objectContaining({ action: 'account.password_change', actor_user_id: team.viewer.id, entity_id: team.viewer.id, after: { email: team.viewer.email, temporaryReplaced: false } }),
  ]);
  await page.getByRole('link', { name: '← Back to the dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Performance' })).toBeVisible();
});

test("a password change ends the account's other sessions; the one that changed it stays signed in", async ({ page, team, browser, signIn }) => {
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await signIn(page, team.buyer);
  await signIn(other, team.buyer);

  await page.goto('/account/password');
  await changePassword(page);

  // The other browser is sent to sign in on its next navigation.
  await other.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
  await expect(other).toHaveURL(/\/signin/);
  await expect(other.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await otherContext.close();
  // This one goes on.
  await page.goto('/members');
  await expect(page.getByRole('heading', { name: 'Members', level: 1 })).toBeVisible();
  await expect(page.getByText(team.buyer.email).first()).toBeVisible();
});

test('a forged invitation by a viewer is refused and creates nothing; the same call by the admin invites', async ({ page, team, db, browser, signIn }) => {
  const inviteAction = serverActionId('inviteMemberAction', 'lib/members/actions.ts');
  const email = `sneak-${Date.now()}@e2e.test`;
  const invitations = async () => (await db.pool.query('select id from saas.invitations where email = $1', [email])).rows as { id: string }[];
  await signIn(page, team.viewer);
  const forged = await forgeServerAction(page, '/members', inviteAction, { _tenant: team.tenantId, email, role: 'admin' });
  expect(forged.text).toContain('This needs the Admin role; you are Viewer.');
  expect(await invitations()).toEqual([]);
  expect(await db.mailCount(email, 'invitation')).toBe(0);
  expect(await db.auditRows(team.tenantId)).toEqual([]);

  // Control: the request is well formed — the admin sending it invites.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, team.admin);
  const ok = await forgeServerAction(admin, '/members', inviteAction, { _tenant: team.tenantId, email, role: 'viewer' });
  expect(ok.text).toContain(`Invitation sent to ${email}.`);
  await adminContext.close();
  const [created] = await invitations();
  expect(created).toBeDefined();
  expect(await db.mailCount(email, 'invitation')).toBe(1);

  // Nor can the viewer revoke it.
  const revoke = serverActionId('revokeInvitationAction', 'lib/members/actions.ts');
  const r = await forgeServerAction(page, '/members', revoke, { _tenant: team.tenantId, invitationId: created!.id });
  expect(r.text).toContain('This needs the Admin role; you are Viewer.');
  expect((await db.pool.query('select revoked_at from saas.invitations where id = $1', [created!.id])).rows[0].revoked_at).toBeNull();
});
