// Running the optimiser from the dashboard: buyers can, viewers cannot, and a
// forged request from a viewer is refused by the server.
import { expect, forgeServerAction, serverActionId, test } from './fixtures';

test('a buyer runs the optimiser; the run is listed and audited', async ({ page, team, signIn, db }) => {
  await signIn(page, team.buyer);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Recommendations/ }).click();
  await expect(page.getByText('The optimiser has not run for this tenant yet.')).toBeVisible();
  await page.getByRole('button', { name: 'Run the optimiser now' }).click();
  await expect(page.getByText(/Optimiser ran for \d{4}-\d{2}-\d{2}: 0 new recommendation\(s\), 0 new anomaly\(ies\)/)).toBeVisible();
  await page.reload();
  await expect(page.getByRole('table', { name: 'Latest runs' }).getByRole('cell', { name: 'from the dashboard' })).toBeVisible();
  const audit = await db.pool.query("select action from saas.audit_log where tenant_id = $1 and action = 'optimizer.run'", [team.tenantId]);
  expect(audit.rowCount).toBe(1);
});

test('a viewer has no run button, and a forged run is refused with nothing run', async ({ page, team, signIn, db }) => {
  await signIn(page, team.viewer);
  await page.goto('/recommendations');
  await expect(page.getByRole('heading', { name: 'Optimiser' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Run the optimiser now' })).toHaveCount(0);
  const id = serverActionId('runOptimizerAction', 'lib/engine/actions.ts');
  const r = await forgeServerAction(page, '/recommendations', id, { _tenant: team.tenantId });
  expect(r.text).toContain('This needs the Buyer role; you are Viewer.');
  const runs = await db.pool.query('select 1 from ads_engine.optimizer_runs where tenant_id = $1', [team.tenantId]);
  expect(runs.rowCount).toBe(0);
});
