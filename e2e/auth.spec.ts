// Signing in and out, a wrong password, and the login rate limit.
import { alertOf, expect, PASSWORD, test } from './fixtures';

test('sign in shows the tenant, currency, user and role; sign out ends the session', async ({ page, team, signIn }) => {
  await signIn(page, team.buyer);
  await expect(page.getByRole('heading', { name: 'Performance' })).toBeVisible();
  const tenant = page.getByLabel('Current tenant');
  await expect(tenant).toContainText(team.name);
  await expect(tenant).toContainText('EUR');
  await expect(page.getByText(team.buyer.email)).toBeVisible();
  await expect(page.getByLabel('Role: Buyer')).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Performance', 'Recommendations', 'Anomalies', 'A/B tests', 'Budgets', 'Benchmarks', 'Settings', 'Imports', 'Members', 'Audit']) {
    await expect(nav.getByRole('link', { name })).toBeVisible();
  }
  await nav.getByRole('link', { name: 'Imports' }).click();
  await expect(page.getByRole('heading', { name: 'Imports' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin/);
  // The session is gone: a signed-in page sends us back to sign in.
  await page.goto('/performance');
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});

test('signed-out visitors are sent to sign in; the landing page links there', async ({ page }) => {
  for (const path of ['/performance', '/members', '/audit', '/recommendations']) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/signin/);
  }
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to AEGIS' })).toBeVisible();
});

test('a wrong password is refused with a clear message, and the right one still works', async ({ page, team, signIn }) => {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(team.viewer.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(alertOf(page)).toHaveText('Email or password is incorrect.');
  await expect(page).toHaveURL(/\/signin/);
  // An unknown account gets the same answer.
  await page.getByLabel('Email').fill('nobody-at-all@e2e.test');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(alertOf(page)).toHaveText('Email or password is incorrect.');
  await signIn(page, team.viewer);
});

test('after five wrong passwords the account is locked for 15 minutes, even with the right one', async ({ page, team, db }) => {
  await page.goto('/signin');
  const email = page.getByLabel('Email');
  const password = page.getByLabel('Password');
  const submit = page.getByRole('button', { name: 'Sign in' });
  for (let i = 1; i <= 5; i++) {
    await email.fill(team.admin.email);
    await password.fill(`wrong-${i}`);
    await submit.click();
    await expect(alertOf(page)).toHaveText('Email or password is incorrect.');
    await expect(submit).toBeEnabled();
  }
  await email.fill(team.admin.email);
  await password.fill(PASSWORD);
  await submit.click();
  await expect(alertOf(page)).toHaveText('Too many attempts, try again in 15 minutes.');
  await expect(page).toHaveURL(/\/signin/);
  // The count lives in PostgreSQL (shared by every web instance).
  const r = await db.pool.query("select count(*)::int as n from saas.login_attempts where scope = 'account' and key = $1", [team.admin.email]);
  expect(r.rows[0].n).toBe(5);
});
