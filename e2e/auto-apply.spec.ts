// The queue with data the engine backs: approving a budget raise moves the
// budget (the database shows it) and lifts the optimization score in the top
// bar; a bulk approval; a budget change the daily loop applied by itself is
// listed and undone; turning auto-apply on in the settings asks for a
// confirmation. Metrics, configs and budgets are inserted as the owner in the
// test's fresh tenant; the engine then runs on them.
import type pg from 'pg';
import { expect, test } from './fixtures';

/** 57 days to the tenant's yesterday (the score's window ends there) on Meta, target ROAS 3: "winner" capped by its budget of 100 at ROAS 6.06 (the engine backs a raise); "steady" at target. */
async function seed(pool: pg.Pool, tenant: string, autoApply: boolean): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    await c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
       select $1, 'meta', 'campaign', x.id, d::date, x.name, x.spend, x.impressions, x.clicks, 10, x.value
       from generate_series(ads_engine.tenant_yesterday($1) - 56, ads_engine.tenant_yesterday($1), interval '1 day') d,
            (values ('winner', 'Winner', 99, 19800, 198, 600), ('steady', 'Steady', 100, 20000, 200, 300)) x(id, name, spend, impressions, clicks, value)`,
      [tenant],
    );
    await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas, auto_apply_recommendations) values ($1, 'meta', 3, $2)`, [tenant, autoApply]);
    await c.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, 'meta', 'winner', 'Winner', 100), ($1, 'meta', 'steady', 'Steady', 200)`,
      [tenant],
    );
    c.on('notice', () => undefined);
    await c.query('select ads.generate_recommendations($1)', [tenant]);
    await c.query('commit');
  } finally {
    c.release();
  }
}

const budgetOf = async (pool: pg.Pool, tenant: string) =>
  (await pool.query("select daily_budget::float8 as b from ads.budget_allocation where tenant_id = $1 and campaign_id = 'winner'", [tenant])).rows[0].b as number;

test('approving a budget raise moves the budget; a bulk approval decides every ticked one', async ({ page, team, signIn, db }) => {
  await seed(db.pool, team.tenantId, false);
  // Two recommendations the buyer makes on the platform, for the bulk approval.
  await db.pool.query(
    `insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description, confidence_score, evidence)
     values ($1, 'meta', 'campaign', 'steady', 'Steady', 'steady', 'creative', 'creative for Steady', 0.7, '{"money_per_week": 50}'),
            ($1, 'meta', 'campaign', 'steady', 'Steady', 'steady', 'bid_adjustment', 'bid for Steady', 0.6, '{"money_per_week": 30}')`,
    [team.tenantId],
  );
  const recommended = (
    await db.pool.query("select recommended_value::float8 as v from ads.optimization_recommendations where tenant_id = $1 and entity_id = 'winner'", [team.tenantId])
  ).rows[0].v as number;
  expect(recommended).toBeGreaterThan(100);
  await signIn(page, team.buyer);
  await page.goto('/recommendations');
  // The score is below 100 % with three pending; the raise says what it adds.
  const pill = page.getByRole('link', { name: /^Score \d+ %$/ });
  const before = Number((await pill.textContent())!.match(/(\d+) %/)![1]);
  expect(before).toBeLessThan(100);
  const raise = page.getByRole('listitem').filter({ hasText: 'Budget increase' }).filter({ hasText: 'Confidence' });
  await expect(raise.getByText(/^\+[\d.]+ pts$/)).toBeVisible();
  await raise.getByText('Evidence', { exact: true }).click();
  await expect(raise.getByRole('figure')).toBeVisible();
  await raise.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Approved' })).toContainText('Winner');
  expect(await budgetOf(db.pool, team.tenantId)).toBe(recommended);
  await expect.poll(async () => Number((await pill.textContent())!.match(/(\d+) %/)![1])).toBeGreaterThan(before);

  await page.getByRole('checkbox', { name: 'Tick Steady' }).first().check();
  await page.getByRole('checkbox', { name: 'Tick Steady' }).nth(1).check();
  const bulk = page.getByRole('form', { name: 'Decide the ticked recommendations' });
  await bulk.getByRole('button', { name: 'Approve ticked' }).click();
  await expect(page.getByRole('status').filter({ hasText: '2 approved' })).toBeVisible();
  const left = await db.pool.query("select count(*)::int as n from ads.optimization_recommendations where tenant_id = $1 and status = 'pending'", [team.tenantId]);
  expect(left.rows[0].n).toBe(0);
  await expect(pill).toHaveText('Score 100 %');
});

test('a change the loop applied by itself is listed and undone; the settings ask before turning auto-apply on', async ({ page, team, signIn, db }) => {
  await seed(db.pool, team.tenantId, true);
  const raised = await budgetOf(db.pool, team.tenantId);
  expect(raised).toBeGreaterThan(100);
  await signIn(page, team.buyer);
  await page.goto('/recommendations');
  const panel = page.getByRole('region', { name: 'Applied automatically' });
  await expect(panel).toContainText('Meta: applies budget increases of any size, budget decreases of any size by itself; pauses wait for a buyer.');
  const item = panel.getByRole('listitem').filter({ hasText: 'Winner' });
  await expect(item).toContainText('€100 → ');
  await item.getByRole('button', { name: 'Undo' }).click();
  await expect(panel.getByRole('status')).toContainText('Undone: the daily budget was set back');
  expect(await budgetOf(db.pool, team.tenantId)).toBe(100);
  await page.reload();
  await expect(panel.getByRole('listitem').filter({ hasText: 'Winner' })).toContainText(`Undone by ${team.buyer.name}`);
  await expect(panel.getByRole('button', { name: 'Undo' })).toHaveCount(0);

  // Off, then on again: the switch is in the platform's settings, and the server wants the confirmation box.
  await page.goto('/settings');
  const settings = page.getByRole('form', { name: 'Meta settings' });
  await settings.getByLabel('Apply recommendations automatically on Meta').uncheck();
  await settings.getByRole('button', { name: 'Save Meta settings' }).click();
  await expect(settings.getByRole('status')).toHaveText('Saved: auto-apply on → off.');
  const cfg = async () =>
    (await db.pool.query("select auto_apply_recommendations as on from ads.platform_configs where tenant_id = $1 and platform = 'meta'", [team.tenantId])).rows[0].on;
  expect(await cfg()).toBe(false);
  // the step limit is an auto-apply choice of its own
  const choices = page.getByRole('form', { name: 'Auto-apply on Meta' });
  await choices.getByLabel('Budget increases: largest step in percent').fill('20');
  await choices.getByRole('button', { name: 'Save auto-apply choices' }).click();
  await expect(choices.getByRole('status')).toHaveText('Saved.');
  const step = await db.pool.query("select max_step::float8 as s from ads_engine.auto_apply_policies where tenant_id = $1 and recommendation_type = 'budget_increase'", [team.tenantId]);
  expect(step.rows[0].s).toBe(0.2);
  await page.reload();
  await settings.getByLabel('Apply recommendations automatically on Meta').check();
  await settings.getByLabel(/^I understand\. On Meta each run of the engine will apply by itself/).waitFor();
  await settings.getByRole('button', { name: 'Save Meta settings' }).click();
  await expect(settings.getByText(/^Confirm: tick the box to turn auto-apply on\./)).toBeVisible();
  expect(await cfg()).toBe(false);
  await settings.getByLabel(/^I understand\. On Meta each run of the engine will apply by itself/).check();
  await settings.getByRole('button', { name: 'Save Meta settings' }).click();
  await expect(settings.getByRole('status')).toHaveText('Saved: auto-apply off → on.');
  expect(await cfg()).toBe(true);
  // A viewer reads the settings, without a switch to flip.
  await page.context().clearCookies();
  await signIn(page, team.viewer);
  await page.goto('/settings');
  await expect(page.getByRole('term').filter({ hasText: /^Auto-apply$/ }).first()).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Apply recommendations automatically on Meta' })).toHaveCount(0);
});
