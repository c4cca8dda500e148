// A/B tests as a buyer meets them: create a test on two ad sets of a campaign
// and start it (the design freezes), then declare a winner before the data
// decides it, which the page only allows with an explicit confirmation and the
// audit log records as such. A viewer reads the test without the moves.
import { loadMetricLines } from '../tests/helpers/metrics';
import { expect, test } from './fixtures';

test('create a test on two ad sets, start it, and declare a winner without a significant result', async ({ page, team, signIn, db }) => {
  // 28 days of two ad sets of one Meta campaign (the form offers the campaign's entities with their recent spend)
  await loadMetricLines(db.pool, team.tenantId, [
    { platform: 'meta', id: 'C1', name: 'Prospecting DE', fromAgo: 27, toAgo: 0, spend: 400, impressions: 50_000, clicks: 900, conversions: 18, value: 1500 },
    { platform: 'meta', id: 'S1', name: 'Hook: rain', level: 'adset', campaignId: 'C1', campaignName: 'Prospecting DE', fromAgo: 27, toAgo: 0, spend: 200, impressions: 25_000, clicks: 450, conversions: 9, value: 750 },
    { platform: 'meta', id: 'S2', name: 'Hook: studio', level: 'adset', campaignId: 'C1', campaignName: 'Prospecting DE', fromAgo: 27, toAgo: 0, spend: 200, impressions: 25_000, clicks: 450, conversions: 9, value: 750 },
  ]);
  await signIn(page, team.buyer);
  await page.goto('/ab-tests');
  await expect(page.getByRole('heading', { name: 'A/B tests' })).toBeVisible();
  await page.getByRole('link', { name: /Create a test|New test/ }).first().click();
  await expect(page).toHaveURL(/\/ab-tests\/new/);

  const form = page.getByRole('form', { name: 'New A/B test' });
  await form.locator('#ab-name').fill('Rain hook vs studio hook');
  await form.locator('#ab-hypothesis').fill('A rainy street opening stops the scroll better than the studio shot.');
  await form.locator('#ab-platform').selectOption('meta');
  await form.locator('#ab-campaign').selectOption('C1');
  await form.locator('#ab-variantA').fill('Studio hook');
  await form.locator('#ab-variantB').fill('Rain hook');
  const armA = form.getByRole('group', { name: 'Ad sets and ads carrying variant A' });
  const armB = form.getByRole('group', { name: 'Ad sets and ads carrying variant B' });
  await armA.getByRole('checkbox', { name: /Hook: studio \(S2\)/ }).check();
  await armB.getByRole('checkbox', { name: /Hook: rain \(S1\)/ }).check();
  // the id chosen for A is not offered to B
  await expect(armB.getByRole('checkbox', { name: /Hook: studio \(S2\)/ })).toBeDisabled();
  await form.locator('#ab-metric').selectOption('ctr');
  // the sample size, from the chosen ad sets' last 28 days
  await expect(form.getByText(/per variant/).first()).toBeVisible();
  const end = (await db.pool.query("select to_char(ads_engine.tenant_yesterday($1) + 29, 'YYYY-MM-DD') as d", [team.tenantId])).rows[0].d as string;
  await form.locator('#ab-endDate').fill(end);
  await form.getByRole('button', { name: 'Save and start now' }).click();

  await expect(page).toHaveURL(/\/ab-tests\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').at(-1)!;
  await expect(page.getByRole('heading', { name: 'Rain hook vs studio hook' })).toBeVisible();
  const stored = (
    await db.pool.query(
      `select t.status, t.primary_metric, t.winner, d.frozen_at is not null as frozen,
              (select array_agg(v.arm || ':' || v.platform_id order by v.arm) from ads_engine.ab_test_variants v
                where v.tenant_id = t.tenant_id and v.test_id = t.id) as variants
       from ads.ab_tests t join ads_engine.ab_test_designs d on d.tenant_id = t.tenant_id and d.test_id = t.id
       where t.tenant_id = $1 and t.id = $2`,
      [team.tenantId, id],
    )
  ).rows[0];
  expect(stored).toEqual({ status: 'running', primary_metric: 'ctr', winner: null, frozen: true, variants: ['A:S2', 'B:S1'] });
  // it starts today and the data run to yesterday: nothing to read yet
  await expect(page.getByRole('heading', { name: 'Not started yet' })).toBeVisible();

  // Declaring B before the rule decides: the dialog wants the confirmation.
  await page.getByRole('button', { name: 'Declare B the winner…' }).click();
  const dialog = page.getByRole('dialog', { name: /^Declare variant B .*Rain hook.* the winner\?$/ });
  await expect(dialog).toBeVisible();
  const confirm = dialog.getByRole('button', { name: 'Declare B the winner' });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel('Declare without a significant result').check();
  await confirm.click();
  await expect.poll(async () => (await db.pool.query('select status, winner from ads.ab_tests where id = $1', [id])).rows[0]).toEqual({
    status: 'completed',
    winner: 'B',
  });
  await page.reload();
  await expect(page.getByRole('button', { name: 'Declare B the winner…' })).toHaveCount(0);
  const audit = (await db.auditRows(team.tenantId)).filter((r) => r.entity_id === id).map((r) => r.action);
  expect(audit).toEqual(expect.arrayContaining(['ab_test.create', 'ab_test.start', 'ab_test.declare_winner']));

  // A viewer reads the test, without the moves.
  await page.context().clearCookies();
  await signIn(page, team.viewer);
  await page.goto(`/ab-tests/${id}`);
  await expect(page.getByRole('heading', { name: 'Rain hook vs studio hook' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Move the test' })).toHaveCount(0);
  await page.goto('/ab-tests/new');
  await expect(page.getByRole('form', { name: 'New A/B test' })).toHaveCount(0);
});
