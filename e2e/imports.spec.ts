// An import as a buyer makes one in the browser: a Meta export with two bad
// rows is previewed (nothing stored, every problem with its row and column),
// imported with the listed rows skipped, and the stored rows and the history
// say so; a viewer sees the history without the upload.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from './fixtures';

test('a Meta export is previewed, imported with its bad rows skipped, and listed in the history', async ({ page, team, signIn, db }) => {
  const yesterday = (await db.pool.query("select to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as d", [team.tenantId])).rows[0].d as string;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'aegis-e2e-')), 'meta-export.csv');
  writeFileSync(
    file,
    [
      'Reporting starts,Reporting ends,Day,Campaign name,Campaign ID,Amount spent (EUR),Impressions,Link clicks,Purchases,Purchases conversion value',
      `${yesterday},${yesterday},${yesterday},Winter Test,99001,120.50,10000,150,5,400.00`,
      `${yesterday},${yesterday},${yesterday},Spring Test,99002,130.25,11000,160,-6,420.00`,
      `${yesterday},${yesterday},${yesterday},Summer Test,99003,abc,12000,170,7,480.00`,
      `${yesterday},${yesterday},,,,370.75,33000,480,18,1300.00`,
    ].join('\n'),
  );
  const stored = async () => (await db.pool.query('select platform_id, spend::float8 as spend from ads.metrics_daily where tenant_id = $1 order by 1', [team.tenantId])).rows;

  await signIn(page, team.buyer);
  await page.goto('/imports');
  // the choice registers once the form's script runs
  await page.waitForLoadState('networkidle');
  await page.locator('input[type=file]').setInputFiles(file);
  await expect(page.getByText('Chosen: meta-export.csv', { exact: false })).toBeVisible();
  await page.getByRole('button', { name: 'Preview' }).click();
  const problems = page.getByRole('row');
  await expect(problems.filter({ hasText: 'Purchases' }).filter({ hasText: '“-6” is negative' })).toBeVisible();
  await expect(problems.filter({ hasText: 'Amount spent (EUR)' }).filter({ hasText: '“abc” is not a number' })).toBeVisible();
  expect(await stored()).toEqual([]);
  await expect(page.getByRole('button', { name: 'Import', exact: true })).toBeDisabled();

  await page.getByLabel(/^Skip the listed rows/).check();
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'meta-export.csv is imported' })).toBeVisible();
  expect(await stored()).toEqual([{ platform_id: '99001', spend: 120.5 }]);
  const run = (await db.pool.query('select status, rows_inserted::int as rows_inserted, rows_rejected::int as rows_rejected from ads_engine.import_runs where tenant_id = $1', [team.tenantId])).rows;
  expect(run).toEqual([{ status: 'succeeded', rows_inserted: 1, rows_rejected: 2 }]);

  await page.context().clearCookies();
  await signIn(page, team.viewer);
  await page.goto('/imports');
  await expect(page.getByRole('cell', { name: /meta-export\.csv/ })).toBeVisible();
  await expect(page.locator('input[type=file]')).toHaveCount(0);
});
