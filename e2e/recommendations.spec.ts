// The approval queue as buyers and viewers use it: a budget increase the data
// no longer support is withdrawn at approval, not applied; an approved pause
// marks the campaign's budget paused; a dismissal needs a reason; a viewer sees the queue with the buttons disabled. The rows are
// inserted as the owner in the test's fresh tenant.
import type pg from 'pg';
import { expect, forgeServerAction, serverActionId, test } from './fixtures';

async function seed(pool: pg.Pool, tenant: string): Promise<{ increase: string; pause: string; creative: string }> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    await c.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget)
       values ($1, 'meta', 'W1', 'Winner', 100), ($1, 'meta', 'P1', 'Burner', 80)`,
      [tenant],
    );
    const insert = (type: string, name: string, id: string, current: number | null, recommended: number | null, priority: string) =>
      c.query(
        `insert into ads.optimization_recommendations
           (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description, current_value, recommended_value,
            estimated_impact, impact_unit, priority, confidence_score, evidence)
         values ($1, 'meta', 'campaign', $2, $3, $2, $4, $5, $6, $7, 420, 'value_per_week', $8, 0.9,
                 '{"roas_7d": 4.1, "target_roas": 2.5, "p_value": 0.0004, "p_threshold": 0.01, "spend_7d": 700}')
         returning id`,
        [tenant, id, name, type, `${type} for ${name}`, current, recommended, priority],
      );
    const increase = (await insert('budget_increase', 'Winner', 'W1', 100, 125, 'high')).rows[0].id;
    const pause = (await insert('pause', 'Burner', 'P1', 80, 0, 'critical')).rows[0].id;
    const creative = (await insert('creative', 'Tired ads', 'T1', null, null, 'low')).rows[0].id;
    await c.query('commit');
    return { increase, pause, creative };
  } finally {
    c.release();
  }
}

test('approval re-checks the data, a pause marks the budget paused, a dismissal needs a reason', async ({ page, team, signIn, db }) => {
  const ids = await seed(db.pool, team.tenantId);
  await signIn(page, team.buyer);
  await page.goto('/recommendations');
  const increase = page.getByRole('listitem').filter({ hasText: 'budget_increase for Winner' });
  // Evidence in plain words.
  await increase.getByText('Evidence', { exact: true }).click();
  await expect(increase.getByText('7-day ROAS 4.10 against a target of 2.50: the chance this is noise is under 0.1 %.')).toBeVisible();
  // The tenant has no metrics: the rule no longer holds at approval, so nothing is applied and it says so.
  await increase.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The data no longer support this' })).toContainText('withdrawn, not applied');
  const budget = await db.pool.query("select daily_budget::float8 as b from ads.budget_allocation where tenant_id = $1 and campaign_id = 'W1'", [team.tenantId]);
  expect(budget.rows[0].b).toBe(100);
  expect((await db.pool.query('select status from ads.optimization_recommendations where id = $1', [ids.increase])).rows[0].status).toBe('withdrawn');
  await expect(page.getByText('budget_increase for Winner')).toHaveCount(0);

  // Critical first: the pause leads the queue.
  await expect(page.getByRole('listitem').filter({ hasText: 'Confidence' }).first()).toContainText('pause for Burner');
  await page.getByRole('listitem').filter({ hasText: 'pause for Burner' }).getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Approved' })).toContainText('Burner is marked paused');
  const paused = await db.pool.query("select status from ads.budget_allocation where tenant_id = $1 and campaign_id = 'P1'", [team.tenantId]);
  expect(paused.rows[0].status).toBe('paused');
  const rec = await db.pool.query('select status, applied_by from ads.optimization_recommendations where id = $1', [ids.pause]);
  expect(rec.rows[0]).toEqual({ status: 'applied', applied_by: team.buyer.id });

  const creative = page.getByRole('listitem').filter({ hasText: 'creative for Tired ads' });
  await creative.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Reason: choose why you dismiss it.' })).toBeVisible();
  expect((await db.pool.query('select status from ads.optimization_recommendations where id = $1', [ids.creative])).rows[0].status).toBe('pending');
  await creative.getByLabel('Reason').selectOption('seasonal');
  await creative.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Dismissed' })).toBeVisible();
  const dismissed = await db.pool.query('select status, dismiss_reason from ads.optimization_recommendations where id = $1', [ids.creative]);
  expect(dismissed.rows[0]).toEqual({ status: 'dismissed', dismiss_reason: 'Seasonal' });

  // The history: each decision under its tab, with who decided and why.
  await page.getByRole('link', { name: 'History' }).click();
  const applied = page.getByRole('table', { name: 'Applied recommendations' });
  await expect(applied.getByRole('row', { name: /Burner/ })).toContainText(team.buyer.name);
  await page.getByRole('navigation', { name: 'History' }).getByRole('link', { name: 'Dismissed' }).click();
  await expect(page.getByRole('table', { name: 'Dismissed recommendations' }).getByRole('row', { name: /Tired ads/ })).toContainText('Seasonal');
  await page.getByRole('navigation', { name: 'History' }).getByRole('link', { name: 'Withdrawn' }).click();
  await expect(page.getByRole('table', { name: 'Withdrawn recommendations' }).getByRole('row', { name: /Winner/ })).toContainText('the engine');
});

test('a viewer sees the queue with the buttons disabled', async ({ page, team, signIn, db }) => {
  await seed(db.pool, team.tenantId);
  await signIn(page, team.viewer);
  await page.goto('/recommendations');
  const increase = page.getByRole('listitem').filter({ hasText: 'budget_increase for Winner' });
  await expect(increase).toBeVisible();
  await expect(increase.getByRole('button', { name: 'Approve' })).toBeDisabled();
  await expect(increase.getByRole('button', { name: 'Dismiss' })).toBeDisabled();
  await expect(page.getByText('Viewers see the queue; buyers and admins approve or dismiss.')).toBeVisible();
});

test('a buyer works through the queue with the keyboard', async ({ page, team, signIn, db }) => {
  const ids = await seed(db.pool, team.tenantId);
  await signIn(page, team.buyer);
  await page.goto('/recommendations');
  // The keys work once the page's script runs.
  await page.waitForLoadState('networkidle');
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toHaveCount(0);
  // The queue opens on the critical pause; j moves to the high budget increase.
  const items = page.getByRole('listitem').filter({ hasText: 'Confidence' });
  await expect(items.first()).toHaveAttribute('aria-current', 'true');
  await page.keyboard.press('j');
  await expect(items.nth(1)).toHaveAttribute('aria-current', 'true');
  await expect(items.nth(1)).toContainText('budget_increase for Winner');
  await page.keyboard.press('Enter');
  await expect(items.nth(1).getByText(/7-day ROAS 4\.10 against a target of 2\.50/)).toBeVisible();
  await page.keyboard.press('a');
  await expect(page.getByRole('status').filter({ hasText: 'The data no longer support this' })).toBeVisible();
  expect((await db.pool.query('select status from ads.optimization_recommendations where id = $1', [ids.increase])).rows[0].status).toBe('withdrawn');
  // d goes to the current one's reason: choosing it and pressing Dismiss decides it.
  await page.keyboard.press('k');
  await page.keyboard.press('d');
  await expect(items.first().getByLabel('Reason')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await items.first().getByRole('button', { name: 'Dismiss' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'Dismissed' })).toBeVisible();
  expect((await db.pool.query('select status from ads.optimization_recommendations where id = $1', [ids.pause])).rows[0].status).toBe('dismissed');
});

test("tenant A's buyer cannot decide tenant B's recommendation, and a forged viewer decision is refused", async ({ page, team, signIn, db }) => {
  const mine = await seed(db.pool, team.tenantId);
  const other = await db.createTeam();
  const theirs = await seed(db.pool, other.tenantId);
  const action = serverActionId('decideRecommendationAction', 'lib/recommendations/actions.ts');

  await signIn(page, team.buyer);
  await page.goto('/recommendations');
  await expect(page.getByText('pause for Burner')).toBeVisible();
  // B's id posted from A's session, in A's tenant: not found, nothing changes in B.
  const cross = await forgeServerAction(page, '/recommendations', action, { _tenant: team.tenantId, id: theirs.pause, decision: 'approve' });
  expect(cross.text).toContain('That recommendation was not found in this tenant.');
  // B's id claiming B's tenant: A is no member there.
  const claim = await forgeServerAction(page, '/recommendations', action, { _tenant: other.tenantId, id: theirs.pause, decision: 'approve' });
  expect(claim.text).not.toContain('Approved');
  const b = await db.pool.query('select status from ads.optimization_recommendations where id = $1', [theirs.pause]);
  expect(b.rows[0].status).toBe('pending');
  const bBudget = await db.pool.query("select status from ads.budget_allocation where tenant_id = $1 and campaign_id = 'P1'", [other.tenantId]);
  expect(bBudget.rows[0].status).toBe('active');

  await page.context().clearCookies();
  await signIn(page, team.viewer);
  await page.goto('/recommendations');
  const forged = await forgeServerAction(page, '/recommendations', action, { _tenant: team.tenantId, id: mine.pause, decision: 'approve' });
  expect(forged.text).toContain('This needs the Buyer role; you are Viewer.');
  expect((await db.pool.query('select status from ads.optimization_recommendations where id = $1', [mine.pause])).rows[0].status).toBe('pending');
});

test('bulk: ticked recommendations are dismissed together, all or nothing', async ({ page, team, signIn, db }) => {
  const ids = await seed(db.pool, team.tenantId);
  await signIn(page, team.buyer);
  await page.goto('/recommendations');
  await page.getByRole('checkbox', { name: 'Tick Burner' }).check();
  await page.getByRole('checkbox', { name: 'Tick Tired ads' }).check();
  const bulk = page.getByRole('form', { name: 'Decide the ticked recommendations' });
  await expect(bulk.getByText('2 ticked')).toBeVisible();
  // Without a reason nothing is dismissed.
  await bulk.getByRole('button', { name: 'Dismiss ticked' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Reason' }).first()).toBeVisible();
  const pending = await db.pool.query("select count(*)::int as n from ads.optimization_recommendations where tenant_id = $1 and status = 'pending'", [team.tenantId]);
  expect(pending.rows[0].n).toBe(3);
  await bulk.getByLabel('Reason').selectOption('already_done');
  await bulk.getByRole('button', { name: 'Dismiss ticked' }).click();
  await expect(page.getByRole('status').filter({ hasText: '2 dismissed' })).toBeVisible();
  const rows = await db.pool.query('select id, status from ads.optimization_recommendations where tenant_id = $1 order by id', [team.tenantId]);
  const status = Object.fromEntries(rows.rows.map((r: { id: string; status: string }) => [r.id, r.status]));
  expect([status[ids.pause], status[ids.creative], status[ids.increase]]).toEqual(['dismissed', 'dismissed', 'pending']);
});
