// The anomaly board as buyers and viewers use it: a critical anomaly shows
// the shell's banner until it is acknowledged, then is resolved with a note;
// filters live in the URL and bad values fall back; a viewer sees the cards
// with their menus disabled. The anomalies are inserted as the owner in the
// test's fresh tenant.
import type pg from 'pg';
import { expect, test } from './fixtures';

async function insertAnomaly(pool: pg.Pool, tenant: string, a: { entity: string; name: string; severity: string; metric?: string; type?: string }): Promise<string> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const r = await c.query(
      `insert into ads.anomalies (tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
                                  baseline_value, actual_value, deviation_percent, anomaly_score, money_at_stake, severity, details)
       values ($1, 'meta', 'campaign', $2, $3, $2, current_date - 1, $4, $5, 20, 40, 100, 3.4, 250, $6::ads.severity_level,
               '{"test": "nb", "p_value": 0.0004, "p_threshold": 0.002, "expected": 12, "observed": 6, "direction": "lower",
                 "observed_metric": "conversions", "exposure_metric": "spend", "day": {"spend": 240}}')
       returning id`,
      [tenant, a.entity, a.name, a.metric ?? 'cpa', a.type ?? 'spike', a.severity],
    );
    await c.query('commit');
    return r.rows[0].id;
  } finally {
    c.release();
  }
}

test('a critical anomaly: the banner until it is acknowledged, then resolved with a note', async ({ page, team, signIn, db }) => {
  const id = await insertAnomaly(db.pool, team.tenantId, { entity: 'B1', name: 'Brand search', severity: 'critical' });
  await signIn(page, team.buyer);
  await page.goto('/performance');
  const banner = page.getByRole('status', { name: 'Critical anomalies' });
  await expect(banner).toContainText('1 critical anomaly');
  await banner.getByRole('link', { name: 'Open the anomaly board' }).click();
  await expect(page).toHaveURL(/\/anomalies\?severity=critical/);

  const card = page.getByRole('listitem', { name: /critical CPA Spike, Brand search/ });
  await card.getByText('Move…').click();
  await card.getByLabel('Move to').selectOption('acknowledge');
  await card.getByLabel('Note (optional)').fill('Checking the pixel');
  await card.getByRole('button', { name: 'Acknowledge (investigating)' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Acknowledged' })).toContainText('is under investigation');
  await expect(page.getByRole('status', { name: 'Critical anomalies' })).toHaveCount(0);
  expect((await db.pool.query('select status from ads.anomalies where id = $1', [id])).rows[0].status).toBe('investigating');

  const investigating = page.getByRole('region', { name: /Investigating/ });
  const moved = investigating.getByRole('listitem', { name: /Brand search/ });
  await moved.getByText('Move…').click();
  await moved.getByLabel('Move to').selectOption('resolve');
  await moved.getByLabel('Resolution note (required)').fill('Pixel fixed on the checkout page');
  await moved.getByRole('button', { name: 'Resolve' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Resolved:' })).toBeVisible();
  const row = await db.pool.query('select status, resolved_by, resolution_note from ads.anomalies where id = $1', [id]);
  expect(row.rows[0]).toEqual({ status: 'resolved', resolved_by: team.buyer.id, resolution_note: 'Pixel fixed on the checkout page' });
  const audit = (await db.auditRows(team.tenantId)).filter((r) => r.entity_id === id).map((r) => r.action);
  expect(audit).toEqual(['anomaly.acknowledge', 'anomaly.resolve']);

  // the detail: history with both moves
  await page.goto(`/anomalies?anomaly=${id}`);
  const detail = page.getByRole('region', { name: /CPA spike: Brand search/ });
  await expect(detail.getByText(/Acknowledge \(investigating\) by/)).toBeVisible();
  await expect(detail.getByText(/Resolve by .*Pixel fixed on the checkout page/)).toBeVisible();
});

test('filters live in the URL; bad values fall back', async ({ page, team, signIn, db }) => {
  await insertAnomaly(db.pool, team.tenantId, { entity: 'C1', name: 'Critical one', severity: 'critical' });
  await insertAnomaly(db.pool, team.tenantId, { entity: 'H1', name: 'High one', severity: 'high', metric: 'ctr', type: 'drop' });
  await signIn(page, team.buyer);
  await page.goto('/anomalies?severity=high');
  await expect(page.getByRole('listitem', { name: /High one/ })).toBeVisible();
  await expect(page.getByRole('listitem', { name: /Critical one/ })).toHaveCount(0);
  await page.getByLabel('Severity').selectOption('');
  await page.getByLabel('Metric').selectOption('ctr');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/metric=ctr/);
  await expect(page.getByRole('listitem', { name: /High one/ })).toBeVisible();
  await expect(page.getByRole('listitem', { name: /Critical one/ })).toHaveCount(0);
  await page.goto('/anomalies?severity=urgent&platform=myspace&level=ad');
  await expect(page.getByRole('listitem', { name: /High one/ })).toBeVisible();
  await expect(page.getByRole('listitem', { name: /Critical one/ })).toBeVisible();
});

test('a viewer sees the cards with their moves disabled', async ({ page, team, signIn, db }) => {
  const id = await insertAnomaly(db.pool, team.tenantId, { entity: 'V1', name: 'Viewed', severity: 'high' });
  await signIn(page, team.viewer);
  await page.goto('/anomalies');
  await expect(page.getByText('Viewers see the board; buyers and admins move the cards.')).toBeVisible();
  const card = page.getByRole('listitem', { name: /Viewed/ });
  await card.getByText('Move…').click();
  await expect(card.getByRole('button', { name: 'Acknowledge (investigating)' })).toBeDisabled();
  await expect(card.getByLabel('Move to')).toBeDisabled();
  expect((await db.pool.query('select status from ads.anomalies where id = $1', [id])).rows[0].status).toBe('active');
});
