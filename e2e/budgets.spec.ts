// Budgets, thresholds and a launch as a buyer and a viewer meet them: a
// threshold and a budget edited in place (an invalid value shows its message
// and saves nothing, a valid one saves), the same pages read-only for a
// viewer, and the launch flow creating its budget, its settings and anomaly
// detection in one go.
import { loadMetricLines } from '../tests/helpers/metrics';
import { expect, test } from './fixtures';

test('a buyer edits a threshold and a budget; an invalid value saves nothing; a viewer reads both', async ({ page, team, signIn, db }) => {
  await loadMetricLines(db.pool, team.tenantId, [
    { platform: 'meta', id: 'C1', name: 'Prospecting DE', fromAgo: 20, toAgo: 0, spend: 95, impressions: 12_000, clicks: 240, conversions: 6, value: 420 },
  ]);
  await db.pool.query("insert into ads.platform_configs (tenant_id, platform, max_cpa) values ($1, 'meta', 40)", [team.tenantId]);
  await db.pool.query(
    "insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, 'meta', 'C1', 'Prospecting DE', 100)",
    [team.tenantId],
  );
  const maxCpa = async () => (await db.pool.query("select max_cpa::float8 as v from ads.platform_configs where tenant_id = $1 and platform = 'meta'", [team.tenantId])).rows[0].v;
  const daily = async () => (await db.pool.query("select daily_budget::float8 as v from ads.budget_allocation where tenant_id = $1 and campaign_id = 'C1'", [team.tenantId])).rows[0].v;

  await signIn(page, team.buyer);
  await page.goto('/settings');
  const settings = page.getByRole('form', { name: 'Meta settings' });
  await settings.getByLabel(/^Max CPA/).fill('-3');
  await settings.getByRole('button', { name: 'Save Meta settings' }).click();
  await expect(settings.getByRole('alert').first()).toBeVisible();
  await expect(settings.getByText(/Max CPA/).filter({ hasText: /positive|greater|above/i }).first()).toBeVisible();
  expect(await maxCpa()).toBe(40);
  await settings.getByLabel(/^Max CPA/).fill('25');
  await settings.getByRole('button', { name: 'Save Meta settings' }).click();
  await expect(settings.getByRole('status')).toContainText('Saved');
  expect(await maxCpa()).toBe(25);

  await page.goto('/budgets');
  await page.getByRole('button', { name: 'Edit the budget of Prospecting DE' }).click();
  const editor = page.getByRole('form', { name: 'Edit the budget of Prospecting DE' });
  await editor.getByLabel(/^Daily budget/).fill('-5');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByText(/Daily budget/).filter({ hasText: /0 or more|negative|at least/i }).first()).toBeVisible();
  expect(await daily()).toBe(100);
  await editor.getByLabel(/^Daily budget/).fill('150');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect.poll(daily).toBe(150);
  const audit = (await db.auditRows(team.tenantId)).map((r) => r.action);
  expect(audit).toEqual(expect.arrayContaining(['platform_config.update', 'budget.update']));

  // The viewer reads the same values, with nothing to edit.
  await page.context().clearCookies();
  await signIn(page, team.viewer);
  await page.goto('/settings');
  await expect(page.getByRole('form', { name: 'Meta settings' })).toHaveCount(0);
  await expect(page.getByText(/€25/).first()).toBeVisible();
  await page.goto('/budgets');
  await expect(page.getByRole('button', { name: 'Edit the budget of Prospecting DE' })).toHaveCount(0);
  await expect(page.getByText('€150').first()).toBeVisible();
});

test('the launch flow creates the budget, the platform settings and anomaly detection in one go', async ({ page, team, signIn, db }) => {
  await signIn(page, team.buyer);
  await page.goto('/budgets/launch');
  const flow = page.getByRole('form', { name: 'Launch a campaign' });
  await flow.getByLabel('Platform').selectOption('tiktok');
  await flow.getByLabel(/^Campaign id/).fill('TT-2026-WINTER');
  await flow.getByLabel(/^Campaign name/).fill('Winter launch');
  await flow.getByLabel(/^Daily budget/).fill('250');
  await flow.getByRole('button', { name: 'Launch campaign' }).click();
  await expect(page.getByRole('heading', { name: /launched/i })).toBeVisible();
  const row = (
    await db.pool.query(
      `select b.daily_budget::float8 as daily, b.campaign_name, c.anomaly_detection_enabled as anomalies
       from ads.budget_allocation b join ads.platform_configs c on c.tenant_id = b.tenant_id and c.platform = b.platform
       where b.tenant_id = $1 and b.platform = 'tiktok' and b.campaign_id = 'TT-2026-WINTER'`,
      [team.tenantId],
    )
  ).rows;
  expect(row).toEqual([{ daily: 250, campaign_name: 'Winter launch', anomalies: true }]);
  const audit = (await db.auditRows(team.tenantId)).map((r) => r.action);
  expect(audit).toEqual(expect.arrayContaining(['budget.create', 'platform_config.create', 'campaign.launch']));
});
