// importRows, the ingest API's door: JSON rows through the file import's
// validation, staging and upsert; every row's outcome by its index; problems
// by index and field; a repeat is a no-op; the tenant is the key's, whatever a
// row says; the run and its audit row are recorded with the key.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { importRows } from '../../lib/ingest/import';
import { listImportRuns } from '../../lib/ingest/history';
import type { MetricInput } from '../../lib/ingest/types';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, createTenant, ownerPool } from '../helpers/db';
import { addDays, expectedByDay, storedByDay, storedRows, tenantYesterday, type TruthRow } from './fixtures';
import { footprint, ownerRows } from './helpers';

const owner = ownerPool();
const app = appPool();

async function fresh(label: string) {
  const tenant = await createTenant(owner, `Rows: ${label}`, 'EUR');
  const key = randomUUID();
  return { tenant, key, last: await tenantYesterday(owner, tenant) };
}

function input(last: string, n: number, level: 'campaign' | 'adset' = 'campaign'): { rows: MetricInput[]; truth: TruthRow[] } {
  const rows: MetricInput[] = [];
  const truth: TruthRow[] = [];
  for (let i = 0; i < n; i++) {
    const day = addDays(last, -(i % 7));
    const c = `cmp-${Math.floor(i / 7)}`;
    const spendCents = 1000 + i * 37;
    const row: MetricInput = {
      platform: 'google',
      campaign_id: c,
      campaign_name: `Campaign ${c}`,
      day,
      spend: spendCents / 100,
      impressions: 1000 + i,
      clicks: 10 + (i % 5),
      conversions: (i % 4) + 0.5,
      conversion_value: (i % 4) * 12.25,
      ...(level === 'adset' ? { level: 'adset' as const, adset_id: `${c}-as`, adset_name: 'Ad set' } : {}),
    };
    rows.push(row);
    truth.push({
      campaignId: c,
      campaignName: `Campaign ${c}`,
      day,
      spendCents,
      impressions: row.impressions,
      clicks: row.clicks,
      conversions100: Math.round(row.conversions * 100),
      valueCents: Math.round(row.conversion_value * 100),
    });
  }
  return { rows, truth };
}

describe('importRows', () => {
  it('stores the rows, lists each index as inserted, and a repeat as unchanged', async () => {
    const { tenant, key, last } = await fresh('round trip');
    const { rows, truth } = input(last, 30);
    const r = await importRows(app, rows, { tenantId: tenant, apiKeyId: key });
    expect(r.ok).toBe(true);
    expect(r.counts).toEqual({ read: 30, inserted: 30, updated: 0, unchanged: 0, rejected: 0, skipped: 0 });
    expect(r.inserted).toEqual([...Array(30).keys()]);
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(truth));
    const before = await storedRows(owner, tenant);
    const again = await importRows(app, rows, { tenantId: tenant, apiKeyId: key });
    expect(again).toMatchObject({ ok: true, inserted: [], updated: [], unchanged: [...Array(30).keys()], changedDays: null });
    expect(await storedRows(owner, tenant)).toEqual(before);
    // One figure changed: that index only.
    const changed = rows.map((x, i) => (i === 4 ? { ...x, conversions: x.conversions + 2 } : x));
    const third = await importRows(app, changed, { tenantId: tenant, apiKeyId: key });
    expect(third).toMatchObject({ ok: true, inserted: [], updated: [4], changedDays: { from: rows[4]!.day, to: rows[4]!.day } });
    expect(third.unchanged).toHaveLength(29);
  });

  it('ad set rows: the id is the ad set, the parent the campaign', async () => {
    const { tenant, key, last } = await fresh('ad sets');
    const { rows } = input(last, 3, 'adset');
    const r = await importRows(app, rows, { tenantId: tenant, apiKeyId: key });
    expect(r.ok).toBe(true);
    const stored = await storedRows(owner, tenant);
    expect(stored[0]).toMatchObject({ level: 'adset', platform_id: 'cmp-0-as', campaign_id: 'cmp-0', entity_name: 'Ad set', campaign_name: 'Campaign cmp-0' });
  });

  it('every problem by index and field; refused as a whole unless skipInvalid', async () => {
    const { tenant, key, last } = await fresh('problems');
    const { rows } = input(last, 8);
    const bad: unknown[] = [...rows];
    bad[1] = { ...rows[1], spend: -1 };
    bad[2] = { ...rows[2], level: 'ad' };
    bad[3] = { ...rows[3], day: addDays(last, 3) };
    bad[4] = { ...rows[4], campaign_id: 120253000000000017 };
    bad[5] = { ...rows[5], impressions: 1.5, tenant_id: randomUUID() };
    bad[6] = 'not an object';
    const r = await importRows(app, bad, { tenantId: tenant, apiKeyId: key });
    expect(r.ok).toBe(false);
    expect(r.refusal?.code).toBe('invalid_rows');
    expect(r.problems.map((p) => [p.index, p.field])).toEqual([
      [1, 'spend'],
      [2, 'level'],
      [3, 'day'],
      [4, 'campaign_id'],
      [5, 'tenant_id'],
      [5, 'impressions'],
      [6, null],
    ]);
    expect(r.problems[1]!.message).toMatch(/unknown level/);
    expect(r.problems[3]!.message).toMatch(/as a string/);
    expect(r.rejected.map((x) => x.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.rejected[4]!.reasons).toHaveLength(2);
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: 0, refused: 1 });

    const s = await importRows(app, bad, { tenantId: tenant, apiKeyId: key, skipInvalid: true });
    expect(s).toMatchObject({ ok: true, inserted: [0, 7] });
    expect(s.counts).toMatchObject({ read: 8, inserted: 2, rejected: 6 });
  });

  it('a key twice in one request: both rows are problems', async () => {
    const { tenant, key, last } = await fresh('duplicates');
    const { rows } = input(last, 3);
    const r = await importRows(app, [...rows, { ...rows[1]!, spend: 99 }], { tenantId: tenant, apiKeyId: key, skipInvalid: true });
    expect(r).toMatchObject({ ok: true, inserted: [0, 2] });
    expect(r.rejected.map((x) => x.index)).toEqual([1, 3]);
    expect(r.rejected[0]!.reasons[0]).toMatch(/also on row 3/);
  });

  it('another currency refuses the request; the tenant is always the caller’s', async () => {
    const { tenant, key, last } = await fresh('currency');
    const { rows } = input(last, 2);
    const r = await importRows(app, [rows[0], { ...rows[1], currency: 'USD' }], { tenantId: tenant, apiKeyId: key, skipInvalid: true });
    expect(r.refusal).toMatchObject({ code: 'currency', message: expect.stringContaining('USD') });
    expect((await footprint(owner, tenant)).metrics).toBe(0);
    const other = await fresh('currency, other');
    const ok = await importRows(app, [{ ...rows[0], currency: 'EUR' }], { tenantId: other.tenant, apiKeyId: other.key });
    expect(ok.ok).toBe(true);
    expect((await footprint(owner, tenant)).metrics).toBe(0);
    expect((await footprint(owner, other.tenant)).metrics).toBe(1);
  });

  it('records the run with its key, and an audit row', async () => {
    const { tenant, key, last } = await fresh('history');
    const { rows } = input(last, 4);
    const r = await importRows(app, rows, { tenantId: tenant, apiKeyId: key });
    const { db } = appKysely();
    const runs = await rolledBackAsApp(db, tenant, (trx) => listImportRuns(trx, tenant, { limit: 5 }));
    expect(runs.runs[0]).toMatchObject({ id: r.runId, source: 'api', apiKeyId: key, platform: 'google', format: 'api', level: 'campaign', status: 'succeeded', fileName: null });
    const audit = await ownerRows<{ actor_label: string; entity_id: string }>(owner, tenant, "select actor_label, entity_id from saas.audit_log where tenant_id = $1 and action = 'metrics.import'", [tenant]);
    expect(audit).toEqual([{ actor_label: `API key ${key}`, entity_id: r.runId }]);
  });

  it('too many rows, or none: refused before anything is written', async () => {
    const { tenant, key } = await fresh('limits');
    expect((await importRows(app, [], { tenantId: tenant, apiKeyId: key })).refusal?.code).toBe('empty');
    const many = Array.from({ length: 50_001 }, () => ({}));
    expect((await importRows(app, many, { tenantId: tenant, apiKeyId: key })).refusal?.code).toBe('too_large');
  });
});
