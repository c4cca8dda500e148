// The performance page as a buyer uses it: the figures for each role, filters
// that change the URL and the figures, the CSV export against the table, the
// campaign detail with its analysis and benchmarks, another tenant's campaign
// not found, and the empty state. The data are inserted as the owner in the
// test's fresh tenant; every expected figure is worked out in a comment.
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { loadMetricLines, type MetricLine } from '../tests/helpers/metrics';

type Line = MetricLine;

// Range (last 7 days, ago 0..6) and the 28-day baseline before it (ago 7..34).
const BOOK: Line[] = [
  { platform: 'meta', id: 'C1', name: 'Meta one', fromAgo: 34, toAgo: 7, spend: 100, impressions: 10000, clicks: 200, conversions: 10, value: 400 },
  { platform: 'meta', id: 'C2', name: 'Meta two', fromAgo: 34, toAgo: 7, spend: 50, impressions: 4000, clicks: 100, conversions: 5, value: 150 },
  { platform: 'google', id: 'G1', name: 'Google one', fromAgo: 34, toAgo: 7, spend: 200, impressions: 8000, clicks: 400, conversions: 20, value: 1000 },
  { platform: 'meta', id: 'C1', name: 'Meta one', fromAgo: 6, toAgo: 0, spend: 100, impressions: 10000, clicks: 150, conversions: 5, value: 250 },
  { platform: 'meta', id: 'C2', name: 'Meta two', fromAgo: 6, toAgo: 0, spend: 80, impressions: 5000, clicks: 120, conversions: 8, value: 320 },
  { platform: 'google', id: 'G1', name: 'Google one', fromAgo: 6, toAgo: 0, spend: 200, impressions: 8000, clicks: 400, conversions: 20, value: 1000 },
  // C1's two ad sets over the range (their sum is C1's row).
  { platform: 'meta', level: 'adset', campaignId: 'C1', campaignName: 'Meta one', id: 'C1-a', name: 'Broad', fromAgo: 6, toAgo: 0, spend: 60, impressions: 6000, clicks: 90, conversions: 3, value: 150 },
  { platform: 'meta', level: 'adset', campaignId: 'C1', campaignName: 'Meta one', id: 'C1-b', name: 'Lookalike', fromAgo: 6, toAgo: 0, spend: 40, impressions: 4000, clicks: 60, conversions: 2, value: 100 },
];

const load = loadMetricLines;

function card(page: Page, label: string) {
  return page.getByRole('listitem').filter({ has: page.getByText(label, { exact: true }) });
}

function campaignsTable(page: Page) {
  return page.getByRole('table', { name: /^Campaigns: spend/ });
}

test('every role sees the figures, the chart and the table of its tenant', async ({ page, team, signIn, db }) => {
  await load(db.pool, team.tenantId, BOOK);
  for (const user of [team.admin, team.buyer, team.viewer]) {
    await page.context().clearCookies();
    await signIn(page, user);
    // Spend 7 x (100 + 80 + 200) = 2,660 against the baseline 28 x 350 x 7/28 = 2,450: +8.6 %.
    await expect(card(page, 'Spend').getByText('€2,660', { exact: true })).toBeVisible();
    await expect(card(page, 'Spend').getByText('+8.6%')).toBeVisible();
    // ROAS 10,990 / 2,660 = 4.13 against 43,400 / 9,800 = 4.43.
    await expect(card(page, 'ROAS').getByText('4.13', { exact: true })).toBeVisible();
    await expect(card(page, 'Conversions').getByText('All platforms, each platform\'s own attribution')).toBeVisible();
    await expect(page.getByRole('region', { name: /ROAS per day/ }).locator('svg.recharts-surface').first()).toBeVisible();
    const table = campaignsTable(page);
    await expect(table.getByRole('link', { name: 'Meta one' })).toBeVisible();
    await expect(table.getByRole('link', { name: 'Google one' })).toBeVisible();
    // Totals row: 2,660 spend over 3 rows on 2 platforms.
    await expect(table.getByRole('row', { name: /Total \(3 rows\)/ })).toContainText('€2,660');
  }
});

test('filters change the URL and the figures, survive a reload, and a bad URL falls back to defaults', async ({ page, team, signIn, db }) => {
  await load(db.pool, team.tenantId, BOOK);
  await signIn(page, team.buyer);
  await page.getByLabel('Range', { exact: true }).selectOption('14d');
  await expect(page).toHaveURL(/range=14d/);
  // 14 days: 7 x 380 + 7 x 350 = 5,110.
  await expect(card(page, 'Spend').getByText('€5,110', { exact: true })).toBeVisible();
  await page.getByRole('checkbox', { name: 'Google' }).uncheck();
  await expect(page).toHaveURL(/platform=meta/);
  // Meta only over 14 days: 7 x 180 + 7 x 150 = 2,310.
  await expect(card(page, 'Spend').getByText('€2,310', { exact: true })).toBeVisible();
  await expect(campaignsTable(page).getByRole('link', { name: 'Google one' })).toHaveCount(0);
  await page.reload();
  await expect(card(page, 'Spend').getByText('€2,310', { exact: true })).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Google' })).not.toBeChecked();

  await page.getByLabel('Level', { exact: true }).selectOption('adset');
  await expect(page).toHaveURL(/level=adset/);
  await expect(page.getByRole('table', { name: /^Ad sets: spend/ }).getByRole('link', { name: 'Broad' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Chart metric' }).getByRole('link', { name: 'CPA' }).click();
  await expect(page).toHaveURL(/metric=cpa/);
  await expect(page.getByRole('heading', { name: 'CPA per day against its expected range' })).toBeVisible();

  await page.goto('/performance?range=bogus&platform=myspace&level=ad&compare=%3Cscript%3E&from=2026-02-30');
  await expect(page.getByLabel('Range', { exact: true })).toHaveValue('7d');
  await expect(card(page, 'Spend').getByText('€2,660', { exact: true })).toBeVisible();
});

async function exportCsv(page: Page): Promise<string[]> {
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const text = readFileSync(await (await download).path(), 'utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  return text.slice(1).trim().split(/\r?\n/);
}

/** The table's header texts on screen, without sort arrows and second lines. */
async function shownHeaders(page: Page): Promise<string[]> {
  const texts = await campaignsTable(page).locator('thead th').allInnerTexts();
  return texts.map((h: string) => h.split('\n')[0]!.replace(/[▲▼]/g, '').trim()).filter(Boolean);
}

/** True when `sub` appears in `all` in the same order. */
function inOrder(sub: string[], all: string[]): boolean {
  let i = 0;
  for (const a of all) if (i < sub.length && a.startsWith(sub[i]!)) i++;
  return i === sub.length;
}

test('the CSV export holds the rows and columns of the table on screen', async ({ page, team, signIn, db }) => {
  await load(db.pool, team.tenantId, BOOK);
  await signIn(page, team.viewer);
  const table = campaignsTable(page);
  // The search box filters in the browser: typing before the table's script runs would be lost.
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Search campaigns').fill('meta');
  await expect(table.getByRole('link', { name: 'Google one' })).toHaveCount(0);
  let lines = await exportCsv(page);
  let header = lines[0]!.split(',').map((c) => c.replace(/"/g, ''));
  expect(inOrder(await shownHeaders(page), header)).toBe(true);
  expect(header).toContain('CTR');
  // Two matching rows, sorted by spend (Meta one 700, Meta two 560), then the totals row (1,260).
  expect(lines).toHaveLength(4);
  expect(lines[1]).toMatch(/^Meta one,.*,700\.00,/);
  expect(lines[2]).toMatch(/^Meta two,.*,560\.00,/);
  expect(lines[3]).toMatch(/^"?Total \(2 rows\).*,1260\.00,/);

  // A column hidden on screen is left out of the file too.
  await page.getByText('Columns', { exact: true }).click();
  await page.getByRole('checkbox', { name: 'CTR', exact: true }).uncheck();
  await expect(table.getByRole('columnheader', { name: /^CTR/ })).toHaveCount(1);
  lines = await exportCsv(page);
  header = lines[0]!.split(',').map((c) => c.replace(/"/g, ''));
  expect(header.filter((h) => h === 'CTR')).toEqual([]);
  expect(inOrder(await shownHeaders(page), header)).toBe(true);
});

test('the campaign detail shows the analysis, ad sets and benchmarks; another tenant\'s campaign is not found', async ({ page, team, signIn, db }) => {
  await load(db.pool, team.tenantId, BOOK);
  await db.pool.query("update saas.tenants set vertical = 'ecommerce' where id = $1", [team.tenantId]);
  await db.pool.query(
    `insert into ads.performance_benchmarks (platform, industry_vertical, campaign_type, metric_name, benchmark_value, percentile_10, percentile_50, percentile_90)
     values ('meta', 'ecommerce', 'all', 'roas', 2.9, 1.1, 2.9, 5.8) on conflict do nothing`,
  );
  const other = await db.createTeam();
  await load(db.pool, other.tenantId, [{ ...BOOK[0]!, id: 'THEIRS', name: 'Their secret campaign' }]);

  await signIn(page, team.viewer);
  await campaignsTable(page).getByRole('link', { name: 'Meta one' }).click();
  await expect(page).toHaveURL(/\/performance\/meta\/C1$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Meta one' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Against the rest of Meta' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Industry benchmarks' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Lookalike' })).toBeVisible();

  await page.goto('/performance/meta/THEIRS');
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(page.getByText('Their secret campaign')).toHaveCount(0);
  const theirs = await db.pool.query("select count(*)::int as n from ads.metrics_daily where tenant_id = $1 and platform_id = 'THEIRS'", [other.tenantId]);
  expect(theirs.rows[0].n).toBeGreaterThan(0);
  await page.goto('/performance/myspace/C1');
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
});

test('a tenant without data is pointed to the import page', async ({ page, team, signIn }) => {
  await signIn(page, team.admin);
  await expect(page.getByText('No performance data yet.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Import a platform export' })).toHaveAttribute('href', '/imports');
});
