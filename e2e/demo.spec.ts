// The demo as a buyer meets it. The demo tenants are seeded into this run's
// database once, for the tests of this file (they exist in no other spec), and
// the daily loop runs on Northwind's yesterday as the scheduler would:
//  - the seed's planted anomalies are on the board; a buyer acknowledges one
//    and resolves it with a note, and the database records who and when;
//  - a demo A/B test's results page shows what the product's statistics
//    conclude from its test-cell ad sets, the figures equal the stored totals.
import pg from 'pg';
import { seedDemo } from '../db/seed/seed';
import { metricLabel, typeLabel } from '../lib/anomalies/labels';
import { expect, test } from './fixtures';

test.describe.configure({ mode: 'serial' });

let tenant: string;

test.beforeAll(async ({ db }) => {
  const ownerUrl = process.env.AEGIS_E2E_OWNER_URL!;
  const appUrl = process.env.AEGIS_E2E_APP_URL!;
  await seedDemo({ ownerUrl, appUrl, decisions: false });
  tenant = (await db.pool.query("select id from saas.tenants where name = 'Northwind Outfitters'")).rows[0].id as string;
  const app = new pg.Client({ connectionString: appUrl });
  await app.connect();
  try {
    await app.query('begin');
    await app.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    await app.query("select ads_engine.run_daily_loop($1, ads_engine.tenant_yesterday($1), 'cli')", [tenant]);
    await app.query('commit');
  } finally {
    await app.end();
  }
});

async function signInAsDemoBuyer(page: import('@playwright/test').Page) {
  await page.goto('/signin');
  await page.getByLabel('Email').fill('buyer@demo.test');
  await page.getByLabel('Password').fill('demo-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
}

test('a planted anomaly of the demo data is acknowledged and resolved', async ({ page, db }) => {
  const planted = (
    await db.pool.query(
      // one that is a card of its own, not a fall (falls of one platform and day may form an incident)
      `select id, name, severity::text, anomaly_type, metric_name from (
         select id, coalesce(entity_name, entity_id) as name, severity, money_at_stake, anomaly_type, metric_name,
                count(*) over (partition by platform, entity_id) as of_entity,
                count(*) over (partition by platform, day) as of_day
         from ads.anomalies where tenant_id = $1 and status = 'active' and level = 'campaign') x
       where anomaly_type = 'trend_change' or (anomaly_type = 'spike' and metric_name not in ('cpa', 'cpc'))
       order by severity desc, money_at_stake desc nulls last limit 1`,
      [tenant],
    )
  ).rows[0] as { id: string; name: string; severity: string; anomaly_type: string; metric_name: string } | undefined;
  const all = await db.pool.query(
    `select anomaly_type, metric_name, level, status, count(*)::int as n from ads.anomalies where tenant_id = $1 group by 1, 2, 3, 4 order by 1, 2`,
    [tenant],
  );
  expect(planted, `the loop finds the planted anomalies: ${JSON.stringify(all.rows)}`).toBeDefined();

  await signInAsDemoBuyer(page);
  await page.goto('/anomalies');
  // the card's accessible name, as the board writes it
  const label = `${planted!.severity} ${metricLabel(planted!.metric_name)} ${typeLabel(planted!.anomaly_type as never)}, ${planted!.name}`;
  const esc = `^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const card = page.getByRole('region', { name: /Active/ }).getByRole('listitem', { name: new RegExp(esc) }).first();
  await card.getByText('Move…').click();
  await card.getByLabel('Move to').selectOption('acknowledge');
  await card.getByRole('button', { name: 'Acknowledge (investigating)' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Acknowledged' }).first()).toBeVisible();
  const state = async () =>
    (await db.pool.query('select status, resolved_by, resolution_note from ads.anomalies where id = $1', [planted!.id])).rows[0] as {
      status: string;
      resolved_by: string | null;
      resolution_note: string | null;
    };
  await expect.poll(async () => (await state()).status).toBe('investigating');

  const moved = page.getByRole('region', { name: /Investigating/ }).getByRole('listitem', { name: new RegExp(esc) }).first();
  await moved.getByText('Move…').click();
  await moved.getByLabel('Move to').selectOption('resolve');
  await moved.getByLabel('Resolution note (required)').fill('Checked with the platform: a real change, budget moved');
  await moved.getByRole('button', { name: 'Resolve' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Resolved:' }).first()).toBeVisible();
  const buyer = (await db.pool.query("select id from saas.users where email = 'buyer@demo.test'")).rows[0].id as string;
  await expect.poll(async () => (await state()).status).toBe('resolved');
  expect(await state()).toEqual({ status: 'resolved', resolved_by: buyer, resolution_note: 'Checked with the platform: a real change, budget moved' });
});

test("a demo A/B test's results: the winner the statistics found, on the stored totals", async ({ page, db }) => {
  const t = (
    await db.pool.query(
      `select id, winner, statistical_significance::float8 as sig, performance_a, performance_b
       from ads.ab_tests where tenant_id = $1 and test_name = 'Creator UGC video vs studio product video'`,
      [tenant],
    )
  ).rows[0] as { id: string; winner: string; sig: number; performance_a: { impressions: number }; performance_b: { impressions: number } };
  expect(t.winner).toBe('B');
  expect(t.sig).toBeGreaterThanOrEqual(0.95);
  await signInAsDemoBuyer(page);
  // Northwind is the buyer's tenant; the list shows the test as completed and won by B
  await page.goto('/ab-tests');
  const row = page.getByRole('row').filter({ hasText: 'Creator UGC video vs studio product video' });
  await expect(row).toContainText('Creator UGC video');
  await row.getByRole('link', { name: 'Creator UGC video vs studio product video' }).click();
  await expect(page).toHaveURL(new RegExp(`/ab-tests/${t.id}$`));
  await expect(page.getByRole('heading', { name: 'Creator UGC video vs studio product video' })).toBeVisible();
  await expect(page.getByText(/B wins|won by|winner/i).first()).toBeVisible();
  // the figures are the stored totals, in the tenant's locale
  const fmt = (n: number) => new Intl.NumberFormat('en-GB').format(n);
  await expect(page.getByText(fmt(t.performance_a.impressions)).first()).toBeVisible();
  await expect(page.getByText(fmt(t.performance_b.impressions)).first()).toBeVisible();
  // the lift over time is drawn, with its table for screen readers
  await expect(page.locator('.recharts-surface').first()).toBeVisible();
});
