// The app's database connections terminated under a signed-in buyer, as the
// owner does it (pg_terminate_backend on the aegis_app backends): between two
// page loads the next page simply works (the pool replaces what it lost);
// during a page load the page says the database is temporarily unavailable,
// with a retry that brings it back, and a reload works too. Only this test's
// own backends are terminated: the other specs running beside it keep theirs.
import type { Page } from '@playwright/test';
import { DATABASE_UNAVAILABLE_PAGE, DATABASE_UNAVAILABLE_TITLE } from '../lib/db/unavailable';
import { loadMetricLines, type MetricLine } from '../tests/helpers/metrics';
import { alertOf, expect, test } from './fixtures';

// One Meta campaign with five weeks of delivery: its detail page analyses it (and writes its
// ads.campaign_performance rows, which the test below holds to catch the page mid-load).
const CAMPAIGN: MetricLine[] = [
  { platform: 'meta', id: 'C1', name: 'Meta one', fromAgo: 34, toAgo: 0, spend: 100, impressions: 10000, clicks: 200, conversions: 10, value: 400 },
];

const detail = (page: Page) => page.getByRole('heading', { level: 1, name: 'Meta one' });

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('connections terminated between two page loads: the next page loads as usual, on new connections', async ({ page, team, signIn, db }) => {
  await loadMetricLines(db.pool, team.tenantId, CAMPAIGN);
  await signIn(page, team.buyer);
  await page.goto('/performance/meta/C1');
  await expect(detail(page)).toBeVisible();
  // Idle ones only: a backend another spec is using at this moment is left alone.
  const idle = await db.pool.query<{ pid: number }>("select pid from pg_stat_activity where usename = 'aegis_app' and datname = current_database() and state = 'idle'");
  expect(idle.rowCount).toBeGreaterThan(0);
  const killed = await db.pool.query<{ pid: number }>('select pid from unnest($1::int[]) as pid where pg_terminate_backend(pid, 5000)', [idle.rows.map((r) => r.pid)]);
  await page.goto('/performance');
  await expect(page.getByRole('heading', { name: 'Performance' })).toBeVisible();
  await page.goto('/performance/meta/C1');
  await expect(detail(page)).toBeVisible();
  await expect(page.getByText(DATABASE_UNAVAILABLE_TITLE)).toHaveCount(0);
  // The server replaced them: none of its connections now is one that was terminated.
  const now = await db.pool.query<{ pid: number }>("select pid from pg_stat_activity where usename = 'aegis_app' and datname = current_database()");
  const gone = new Set(killed.rows.map((r) => r.pid));
  expect(now.rows.filter((r) => gone.has(r.pid))).toEqual([]);
});

test('a connection terminated during a page load: "temporarily unavailable" with a retry, then the page again', async ({ page, team, signIn, db }) => {
  await loadMetricLines(db.pool, team.tenantId, CAMPAIGN);
  await signIn(page, team.buyer);
  await page.goto('/performance/meta/C1');
  await expect(detail(page)).toBeVisible();

  // Hold the rows the page's analysis upserts: its next load waits on this lock, mid-transaction.
  const holder = await db.pool.connect();
  try {
    await holder.query('begin');
    await holder.query("select set_config('saas.tenant_id', $1, true)", [team.tenantId]);
    const held = await holder.query("select 1 from ads.campaign_performance where tenant_id = $1 and platform = 'meta' and campaign_id = 'C1' for update", [team.tenantId]);
    expect(held.rowCount).toBeGreaterThan(0);
    const me = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

    const load = page.goto('/performance/meta/C1');
    // The app's backend waiting on this lock: the page's own transaction, and no other spec's.
    const blocked = await poll('the page to wait on the held rows', async () => {
      const r = await db.pool.query<{ pid: number }>("select pid from pg_stat_activity where usename = 'aegis_app' and $1 = any(pg_blocking_pids(pid))", [me]);
      return r.rows[0]?.pid;
    });
    await db.pool.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1 and pid = $2', ['aegis_app', blocked]);
    const response = await load;
    // 500 when the failure comes before the page's first byte; 200 when the page streams from a loading state.
    expect([200, 500]).toContain(response?.status());
    await expect(alertOf(page)).toContainText(DATABASE_UNAVAILABLE_TITLE);
    await expect(page.getByText(DATABASE_UNAVAILABLE_PAGE)).toBeVisible();
    await expect(page.getByText('Something went wrong')).toHaveCount(0);
  } finally {
    await holder.query('rollback').catch(() => undefined);
    holder.release();
  }

  // The retry asks the server again: with the rows free, the page is back.
  await page.getByRole('button', { name: 'Try again' }).click();
  await expect(detail(page)).toBeVisible();
  await expect(page.getByText(DATABASE_UNAVAILABLE_TITLE)).toHaveCount(0);
  await page.reload();
  await expect(detail(page)).toBeVisible();
});
