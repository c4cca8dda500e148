// Creating, editing and moving A/B tests through the action wrapper, as real users with roles, on the
// real database: every field rule refuses with its field's message and writes nothing (the rows of
// the three tables and the audit log counted before and after); a test created on platform ids and
// one measured elsewhere, as stored; a draft edited whole, a running test only in what may change
// (the frozen design refused, by the server and by the database's triggers); each move and each
// refused move; declaring a winner without a significant result needs the confirmation; the audit
// rows with before and after; a viewer refused; another tenant's test not found and untouched; a
// stale version refused.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { AB_TEST_NOT_FOUND, NO_CHANGE, NOTHING_SAVED, createAbTestHandler, moveAbTestHandler, sameVersion, updateAbTestHandler } from '../../lib/abtests/mutations';
import { addDays, createAbTestSchema, FROZEN_REASON, moveAbTestSchema, updateAbTestSchema } from '../../lib/abtests/schema';
import { runTenantAction } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { loadMetricLines, type MetricLine } from '../helpers/metrics';
import { createTeam } from '../auth/fixtures';

const app = appKysely(4);
const owner = ownerPool();

const create = (userId: string, input: unknown) =>
  runTenantAction({ schema: createAbTestSchema, minRole: 'buyer', handler: createAbTestHandler, userId, preferredTenantId: null, input, db: app.db });
const update = (userId: string, input: unknown) =>
  runTenantAction({ schema: updateAbTestSchema, minRole: 'buyer', handler: updateAbTestHandler, userId, preferredTenantId: null, input, db: app.db });
const move = (userId: string, input: unknown) =>
  runTenantAction({ schema: moveAbTestSchema, minRole: 'buyer', handler: moveAbTestHandler, userId, preferredTenantId: null, input, db: app.db });

type Team = Awaited<ReturnType<typeof createTeam>>;

/** Three ad sets of campaign c1 with the same delivery (no winner can come out of them), c1's own rows, and campaign c2 with one ad set. */
const LINES: MetricLine[] = [
  { platform: 'meta', id: 'c1', name: 'Spring sale', fromAgo: 40, toAgo: 0, spend: 300, impressions: 30000, clicks: 900, conversions: 45, value: 2700 },
  ...['as1', 'as2', 'as3'].map((id) => ({
    platform: 'meta',
    level: 'adset' as const,
    id,
    name: `Ad set ${id}`,
    campaignId: 'c1',
    campaignName: 'Spring sale',
    fromAgo: 40,
    toAgo: 0,
    spend: 100,
    impressions: 10000,
    clicks: 300,
    conversions: 15,
    value: 900,
  })),
  { platform: 'meta', id: 'c2', name: 'Brand', fromAgo: 10, toAgo: 0, spend: 50, impressions: 5000, clicks: 100, conversions: 5, value: 300 },
  { platform: 'meta', level: 'adset', id: 'as9', name: 'Brand ad set', campaignId: 'c2', fromAgo: 10, toAgo: 0, spend: 50, impressions: 5000, clicks: 100, conversions: 5, value: 300 },
];

async function one<T>(tenant: string, text: string, values: unknown[] = []): Promise<T> {
  return inTenant(owner, tenant, async (c) => (await c.query(text, values)).rows[0] as T);
}

async function todayOf(tenant: string): Promise<string> {
  return (await one<{ d: string }>(tenant, "select to_char(ads_engine.tenant_yesterday($1) + 1, 'YYYY-MM-DD') as d", [tenant])).d;
}

async function counts(tenant: string) {
  return inTenant(owner, tenant, async (c) => {
    const n = async (text: string) => Number((await c.query(text, [tenant])).rows[0].n);
    return {
      tests: await n('select count(*) as n from ads.ab_tests where tenant_id = $1'),
      designs: await n('select count(*) as n from ads_engine.ab_test_designs where tenant_id = $1'),
      variants: await n('select count(*) as n from ads_engine.ab_test_variants where tenant_id = $1'),
      audits: await n("select count(*) as n from saas.audit_log where tenant_id = $1 and entity_type = 'ab_test'"),
    };
  });
}

interface Stored {
  test_name: string;
  platform: string | null;
  campaign_id: string | null;
  test_type: string;
  hypothesis: string | null;
  primary_metric: string;
  variant_a: string;
  variant_b: string;
  performance_a: unknown;
  performance_b: unknown;
  winner: string | null;
  status: string;
  start_date: string | null;
  end_date: string | null;
  design: { share: number; mde: number; allocation_unit: string; frozen: boolean; created_by: string | null } | null;
  variants: { arm: string; level: string; platform_id: string }[];
}

async function stored(tenant: string, id: string): Promise<Stored> {
  return inTenant(owner, tenant, async (c) => {
    const t = (
      await c.query(
        `select test_name, platform, campaign_id, test_type, hypothesis, primary_metric, variant_a, variant_b, performance_a, performance_b,
                winner, status, to_char(start_date, 'YYYY-MM-DD') as start_date, to_char(end_date, 'YYYY-MM-DD') as end_date
         from ads.ab_tests where tenant_id = $1 and id = $2`,
        [tenant, id],
      )
    ).rows[0];
    const d = (
      await c.query(
        `select planned_share_b::float8 as share, mde::float8 as mde, allocation_unit, frozen_at is not null as frozen, created_by::text as created_by
         from ads_engine.ab_test_designs where tenant_id = $1 and test_id = $2`,
        [tenant, id],
      )
    ).rows[0];
    const v = (
      await c.query('select arm, level, platform_id from ads_engine.ab_test_variants where tenant_id = $1 and test_id = $2 order by arm, platform_id', [tenant, id])
    ).rows;
    return { ...t, design: d ?? null, variants: v } as Stored;
  });
}

interface AuditRow {
  action: string;
  actor_user_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

async function audits(tenant: string, id: string): Promise<AuditRow[]> {
  return inTenant(owner, tenant, async (c) =>
    (
      await c.query(
        "select action, actor_user_id::text as actor_user_id, before, after from saas.audit_log where tenant_id = $1 and entity_type = 'ab_test' and entity_id = $2 order by id",
        [tenant, id],
      )
    ).rows as AuditRow[],
  );
}

/** A valid form: ad set as1 against as2 of campaign c1, conversion rate, half and half, ending in 28 days. */
const form = (today: string, over: Record<string, unknown> = {}) => ({
  name: 'Blue button',
  type: 'creative',
  hypothesis: 'A blue button converts better',
  platform: 'meta',
  campaign: 'c1',
  variantA: 'Grey',
  variantB: 'Blue',
  sourceA: 'ids',
  sourceB: 'ids',
  idsA: ['adset:as1'],
  idsB: ['adset:as2'],
  metric: 'conversion_rate',
  shareB: '50',
  allocationUnit: 'spend',
  startDate: '',
  endDate: addDays(today, 28),
  mde: '10',
  ...over,
});

const entered = (arm: 'a' | 'b', t: Partial<Record<'impressions' | 'clicks' | 'conversions' | 'spend' | 'conversion_value', string>>) =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [`${arm}_${k}`, v]));

async function createOk(team: Team, input: Record<string, unknown>) {
  const r = await create(team.buyer.id, input);
  if (!r.ok) throw new Error(`create failed: ${JSON.stringify(r)}`);
  return r.data as { id: string; version: string; status: string };
}

async function versionOf(tenant: string, id: string): Promise<string> {
  return (
    await one<{ v: string }>(tenant, `select to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as v from ads.ab_tests where tenant_id = $1 and id = $2`, [
      tenant,
      id,
    ])
  ).v;
}

/** The edit form of a stored test, as the edit page fills it (every field sent back). */
function editForm(today: string, id: string, version: string, over: Record<string, unknown> = {}) {
  return { ...form(today), id, expectedUpdatedAt: version, ...over };
}

let team: Team;
let other: Team;
let today: string;

beforeAll(async () => {
  team = await createTeam(owner, 'A/B tests: forms');
  other = await createTeam(owner, 'A/B tests: other tenant');
  await loadMetricLines(owner, team.tenantId, LINES);
  await loadMetricLines(owner, other.tenantId, [
    { platform: 'meta', level: 'adset', id: 'theirs1', name: 'Their ad set', campaignId: 'tc1', fromAgo: 20, toAgo: 0, spend: 10, impressions: 100, clicks: 10, conversions: 1, value: 5 },
  ]);
  today = await todayOf(team.tenantId);
});

describe('every field is checked, and nothing is saved when one is wrong', () => {
  const cases: { what: string; over: (today: string) => Record<string, unknown>; field: string; message: string | RegExp | ((today: string) => string) }[] = [
    { what: 'empty name', over: () => ({ name: '   ' }), field: 'name', message: 'Name: required (1 to 200 characters).' },
    { what: 'long name', over: () => ({ name: 'x'.repeat(201) }), field: 'name', message: 'Name: 1 to 200 characters.' },
    { what: 'control character', over: () => ({ name: 'Blue\u0007button' }), field: 'name', message: /^Name: remove the control character/ },
    { what: 'broken character', over: () => ({ name: 'Blue \ud83d' }), field: 'name', message: /^Name: it contains a broken character/ },
    { what: 'type', over: () => ({ type: 'viral' }), field: 'type', message: 'Type: choose creative, audience, bidding, landing page, placement or other.' },
    { what: 'long hypothesis', over: () => ({ hypothesis: 'h'.repeat(2001) }), field: 'hypothesis', message: 'Hypothesis: at most 2000 characters.' },
    { what: 'hypothesis control', over: () => ({ hypothesis: 'one\u0000two' }), field: 'hypothesis', message: /^Hypothesis: remove the invisible control character/ },
    { what: 'platform', over: () => ({ platform: 'myspace' }), field: 'platform', message: 'Platform: choose one of the platforms.' },
    { what: 'campaign id', over: () => ({ campaign: 'two words' }), field: 'campaign', message: 'Campaign: not a campaign id.' },
    { what: 'unknown campaign', over: () => ({ campaign: 'c404', idsA: ['adset:as1'] }), field: 'campaign', message: 'Campaign: c404 is not a campaign of this tenant on Meta.' },
    { what: 'another tenant’s campaign', over: () => ({ campaign: 'tc1' }), field: 'campaign', message: 'Campaign: tc1 is not a campaign of this tenant on Meta.' },
    { what: 'variant A name', over: () => ({ variantA: '' }), field: 'variantA', message: 'Variant A name: required (1 to 200 characters).' },
    { what: 'same variant names', over: () => ({ variantB: 'grey' }), field: 'variantB', message: 'Variant B name: give it a name different from variant A’s.' },
    { what: 'source', over: () => ({ sourceA: 'magic' }), field: 'sourceA', message: 'Variant A source: choose the ids that carry it, or “measured elsewhere”.' },
    { what: 'no ids', over: () => ({ idsA: [] }), field: 'idsA', message: /^Variant A: choose at least one ad set, ad or campaign/ },
    { what: 'an id in both', over: () => ({ idsB: ['adset:as2', 'adset:as1'] }), field: 'idsB', message: 'Variant B: as1 is also in variant A: an id carries one variant only.' },
    { what: 'an id twice', over: () => ({ idsA: ['adset:as1', 'adset:as1'] }), field: 'idsA', message: 'Variant A: each id only once.' },
    { what: 'not an id', over: () => ({ idsA: ['as1'] }), field: 'idsA', message: 'Variant A: “as1” is not a platform id (level:id).' },
    { what: 'too many ids', over: () => ({ idsA: Array.from({ length: 51 }, (_, i) => `adset:x${i}`) }), field: 'idsA', message: 'Variant A: at most 50 ids.' },
    { what: 'two levels', over: () => ({ campaign: '', idsA: ['campaign:c2'], idsB: ['adset:as2'] }), field: 'idsB', message: /^Variant B: all ids of a test are at one level/ },
    { what: 'unknown id', over: () => ({ idsA: ['adset:ghost'] }), field: 'idsA', message: 'Variant A: ghost is not an ad set of this tenant on Meta.' },
    { what: 'another tenant’s id', over: () => ({ campaign: '', idsB: ['adset:theirs1'] }), field: 'idsB', message: 'Variant B: theirs1 is not an ad set of this tenant on Meta.' },
    { what: 'an id of another campaign', over: () => ({ idsB: ['adset:as9'] }), field: 'idsB', message: 'Variant B: as9 is not in the campaign chosen (c1).' },
    { what: 'an id on another platform', over: () => ({ platform: 'google' }), field: 'idsA', message: 'Variant A: as1 is not an ad set of this tenant on Google.' },
    { what: 'fractional clicks', over: () => ({ sourceA: 'entered', ...entered('a', { impressions: '1000', clicks: '12.5' }) }), field: 'a_clicks', message: 'Variant A clicks: a whole number, 0 or more.' },
    { what: 'clicks over impressions', over: () => ({ sourceA: 'entered', ...entered('a', { impressions: '100', clicks: '200' }) }), field: 'a_clicks', message: 'Variant A clicks: cannot exceed its impressions (100).' },
    { what: 'conversions over clicks', over: () => ({ sourceB: 'entered', ...entered('b', { clicks: '10', conversions: '50' }) }), field: 'b_conversions', message: 'Variant B conversions: cannot exceed its clicks (10).' },
    { what: 'negative spend', over: () => ({ sourceA: 'entered', ...entered('a', { spend: '-5' }) }), field: 'a_spend', message: 'Variant A spend: a number, 0 or more, with at most 2 decimals (without thousands separators).' },
    { what: 'thousands separator', over: () => ({ sourceA: 'entered', ...entered('a', { spend: '1,200' }) }), field: 'a_spend', message: /^Variant A spend: a number/ },
    { what: 'three decimals', over: () => ({ sourceA: 'entered', ...entered('a', { conversion_value: '1.005' }) }), field: 'a_conversion_value', message: 'Variant A conversion value: a number, 0 or more, with at most 2 decimals.' },
    { what: 'huge total', over: () => ({ sourceA: 'entered', ...entered('a', { impressions: '10000000000000' }) }), field: 'a_impressions', message: /^Variant A impressions: too large/ },
    { what: 'metric', over: () => ({ metric: 'likes' }), field: 'metric', message: 'Primary metric: choose conversion rate, CTR, CPA, ROAS or CPC.' },
    { what: 'share below 5', over: () => ({ shareB: '4' }), field: 'shareB', message: 'Share of B: a percentage from 5 to 95 (at most 1 decimal).' },
    { what: 'share above 95', over: () => ({ shareB: '95.5' }), field: 'shareB', message: 'Share of B: a percentage from 5 to 95 (at most 1 decimal).' },
    { what: 'share with two decimals', over: () => ({ shareB: '50.25' }), field: 'shareB', message: 'Share of B: a percentage from 5 to 95 (at most 1 decimal).' },
    { what: 'allocation unit', over: () => ({ allocationUnit: 'clicks' }), field: 'allocationUnit', message: 'What is split: the budget (spend) or the audience (impressions).' },
    { what: 'not a day', over: () => ({ startDate: '2026-02-30' }), field: 'startDate', message: 'Start date: a date (YYYY-MM-DD).' },
    { what: 'no end date', over: () => ({ endDate: '' }), field: 'endDate', message: 'End date: choose the last day of the test.' },
    { what: 'end before start', over: (d) => ({ startDate: d, endDate: addDays(d, -1) }), field: 'endDate', message: (d) => `End date: on or after the start date (${d}).` },
    { what: 'over 180 days', over: (d) => ({ startDate: d, endDate: addDays(d, 181) }), field: 'endDate', message: (d) => `End date: within 180 days of the start date (${addDays(d, 180)} at the latest).` },
    { what: 'start too early', over: (d) => ({ startDate: addDays(d, -91), endDate: d }), field: 'startDate', message: (d) => `Start date: not before ${addDays(d, -90)} (90 days ago).` },
    { what: 'past end without a start', over: (d) => ({ endDate: addDays(d, -1) }), field: 'endDate', message: /^End date: today \(.*\) or later/ },
    { what: 'far end without a start', over: (d) => ({ endDate: addDays(d, 181) }), field: 'endDate', message: /^End date: within 180 days of the start/ },
    { what: 'MDE below 1', over: () => ({ mde: '0.5' }), field: 'mde', message: 'Minimum detectable effect: a percentage from 1 to 100 (at most 2 decimals).' },
    { what: 'MDE above 100', over: () => ({ mde: '101' }), field: 'mde', message: 'Minimum detectable effect: a percentage from 1 to 100 (at most 2 decimals).' },
    { what: 'MDE as text', over: () => ({ mde: 'ten' }), field: 'mde', message: 'Minimum detectable effect: a percentage from 1 to 100 (at most 2 decimals).' },
  ];

  it.each(cases)('$what: refused on $field', async ({ over, field, message }) => {
    const before = await counts(team.tenantId);
    const r = await create(team.buyer.id, form(today, over(today)));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = r.fieldErrors?.[field];
    expect(got, JSON.stringify(r)).toBeDefined();
    if (typeof message === 'function') expect(got).toContain(message(today));
    else if (typeof message === 'string') expect(got).toContain(message);
    else expect(got!.some((m) => message.test(m)), JSON.stringify(got)).toBe(true);
    expect(await counts(team.tenantId)).toEqual(before);
  });

  it('names the problem on the form too, and a field typed the way people type is read', async () => {
    const r = await create(team.buyer.id, form(today, { idsA: ['adset:ghost'] }));
    expect(r).toMatchObject({ ok: false, message: NOTHING_SAVED });
    // decimal comma, a percent sign, spaces: read as typed
    const ok = await create(team.buyer.id, form(today, { shareB: ' 40,5 % ', mde: '12,5', sourceA: 'entered', ...entered('a', { spend: '1 234,56' }) }));
    expect(ok.ok).toBe(true);
    const s = await stored(team.tenantId, (ok as { data: { id: string } }).data.id);
    expect(s.design).toMatchObject({ share: 0.405, mde: 0.125 });
    expect(s.performance_a).toEqual({ impressions: 0, clicks: 0, conversions: 0, spend: 1234.56, conversion_value: 0 });
  });
});

describe('creating a test', () => {
  it('on platform ids: the test, its design and its variants as stored, and the audit row', async () => {
    const t = await createTeam(owner, 'A/B create ids');
    await loadMetricLines(owner, t.tenantId, LINES);
    const day = await todayOf(t.tenantId);
    const before = await counts(t.tenantId);
    const r = await create(t.buyer.id, form(day, { idsA: ['adset:as1', 'adset:as3'], name: '  Blue button  ', hypothesis: 'Line one\nline two' }));
    expect(r).toMatchObject({ ok: true, message: 'Saved as a draft: “Blue button”. Start it when the variants are live.' });
    const id = (r as { data: { id: string } }).data.id;
    expect(await counts(t.tenantId)).toEqual({ tests: before.tests + 1, designs: before.designs + 1, variants: before.variants + 3, audits: before.audits + 1 });
    const s = await stored(t.tenantId, id);
    expect(s).toEqual({
      test_name: 'Blue button',
      platform: 'meta',
      campaign_id: 'c1',
      test_type: 'creative',
      hypothesis: 'Line one\nline two',
      primary_metric: 'conversion_rate',
      variant_a: 'Grey',
      variant_b: 'Blue',
      performance_a: {},
      performance_b: {},
      winner: null,
      status: 'draft',
      start_date: null,
      end_date: addDays(day, 28),
      design: { share: 0.5, mde: 0.1, allocation_unit: 'spend', frozen: false, created_by: t.buyer.id },
      variants: [
        { arm: 'A', level: 'adset', platform_id: 'as1' },
        { arm: 'A', level: 'adset', platform_id: 'as3' },
        { arm: 'B', level: 'adset', platform_id: 'as2' },
      ],
    });
    const [a] = await audits(t.tenantId, id);
    expect(a).toMatchObject({ action: 'ab_test.create', actor_user_id: t.buyer.id, before: null });
    expect(a!.after).toMatchObject({ status: 'draft', test_name: 'Blue button', ids_a: ['adset:as1', 'adset:as3'], ids_b: ['adset:as2'], planned_share_b: 0.5, mde: 0.1 });
  });

  it('measured elsewhere, by a tenant without any metrics: the entered totals as the guide’s JSON', async () => {
    const t = await createTeam(owner, 'A/B create entered');
    const day = await todayOf(t.tenantId);
    const r = await create(
      t.admin.id,
      form(day, {
        platform: 'google',
        campaign: '',
        type: 'landing_page',
        sourceA: 'entered',
        sourceB: 'entered',
        idsA: ['adset:ignored'],
        ...entered('a', { impressions: '12000', clicks: '480', conversions: '24', spend: '960.5', conversion_value: '2400' }),
        ...entered('b', { impressions: '11800', clicks: '', conversions: '0' }),
        metric: 'cpa',
        shareB: '30',
        allocationUnit: 'impressions',
        mde: '20',
        startDate: addDays(day, -10),
        endDate: addDays(day, 20),
      }),
    );
    expect(r.ok).toBe(true);
    const s = await stored(t.tenantId, (r as { data: { id: string } }).data.id);
    expect(s).toMatchObject({
      platform: 'google',
      campaign_id: null,
      test_type: 'landing_page',
      primary_metric: 'cpa',
      performance_a: { impressions: 12000, clicks: 480, conversions: 24, spend: 960.5, conversion_value: 2400 },
      performance_b: { impressions: 11800, clicks: 0, conversions: 0, spend: 0, conversion_value: 0 },
      start_date: addDays(day, -10),
      end_date: addDays(day, 20),
      design: { share: 0.3, mde: 0.2, allocation_unit: 'impressions', frozen: false, created_by: t.admin.id },
      variants: [],
    });
  });

  it('with “start now”: saved and started in one go (today as its start), two audit rows', async () => {
    const t = await createTeam(owner, 'A/B create and start');
    await loadMetricLines(owner, t.tenantId, LINES);
    const day = await todayOf(t.tenantId);
    const r = await create(t.buyer.id, form(day, { startNow: 'on' }));
    expect(r).toMatchObject({ ok: true, data: { status: 'running' } });
    expect(r.message).toMatch(/^Started: “Blue button” is running from /);
    const id = (r as { data: { id: string } }).data.id;
    const s = await stored(t.tenantId, id);
    expect(s).toMatchObject({ status: 'running', start_date: day, design: { frozen: true } });
    expect((await audits(t.tenantId, id)).map((a) => a.action)).toEqual(['ab_test.create', 'ab_test.start']);
  });

  it('a viewer is refused by the server and nothing is written', async () => {
    const before = await counts(team.tenantId);
    expect(await create(team.viewer.id, form(today))).toEqual({ ok: false, message: 'This needs the Buyer role; you are Viewer.' });
    expect(await counts(team.tenantId)).toEqual(before);
  });
});

describe('editing a test', () => {
  it('a draft changes everything: fields, design and ids, audited with before and after', async () => {
    const c = await createOk(team, form(today));
    const r = await update(
      team.buyer.id,
      editForm(today, c.id, c.version, {
        name: 'Blue button, v2',
        type: 'audience',
        hypothesis: '',
        variantB: 'Navy',
        idsA: ['adset:as3'],
        sourceB: 'entered',
        ...entered('b', { impressions: '5000', clicks: '150', conversions: '6', spend: '80', conversion_value: '300' }),
        metric: 'ctr',
        shareB: '25',
        allocationUnit: 'impressions',
        mde: '15',
        startDate: addDays(today, 2),
        endDate: addDays(today, 30),
      }),
    );
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const s = await stored(team.tenantId, c.id);
    expect(s).toMatchObject({
      test_name: 'Blue button, v2',
      test_type: 'audience',
      hypothesis: null,
      variant_b: 'Navy',
      primary_metric: 'ctr',
      performance_a: {},
      performance_b: { impressions: 5000, clicks: 150, conversions: 6, spend: 80, conversion_value: 300 },
      start_date: addDays(today, 2),
      end_date: addDays(today, 30),
      design: { share: 0.25, mde: 0.15, allocation_unit: 'impressions', frozen: false },
      variants: [{ arm: 'A', level: 'adset', platform_id: 'as3' }],
    });
    const rows = await audits(team.tenantId, c.id);
    expect(rows.map((a) => a.action)).toEqual(['ab_test.create', 'ab_test.update']);
    const u = rows[1]!;
    expect(u.before).toMatchObject({ test_name: 'Blue button', primary_metric: 'conversion_rate', planned_share_b: 0.5, ids_a: ['adset:as1'], ids_b: ['adset:as2'] });
    expect(u.after).toMatchObject({ test_name: 'Blue button, v2', primary_metric: 'ctr', planned_share_b: 0.25, ids_a: ['adset:as3'], ids_b: [] });
    expect(u.after!.changed).toEqual(expect.arrayContaining(['name', 'type', 'primary metric', 'share of B', 'variant A ids', 'variant B source']));
  });

  it('a save that changes nothing writes nothing; a stale version is refused, not written over', async () => {
    const c = await createOk(team, form(today));
    const before = await counts(team.tenantId);
    expect(await update(team.buyer.id, editForm(today, c.id, c.version))).toMatchObject({ ok: true, message: NO_CHANGE });
    expect(await counts(team.tenantId)).toEqual(before);

    // someone else saves first
    expect((await update(team.admin.id, editForm(today, c.id, c.version, { name: 'Renamed by the admin' }))).ok).toBe(true);
    const stale = await update(team.buyer.id, editForm(today, c.id, c.version, { name: 'Renamed by the buyer', mde: '20' }));
    expect(stale.ok).toBe(false);
    expect(stale.message).toMatch(new RegExp(`^This test was changed by ${team.admin.name} at .* UTC since you opened it\\. Nothing was saved: reload the page`));
    const s = await stored(team.tenantId, c.id);
    expect(s.test_name).toBe('Renamed by the admin');
    expect(s.design!.mde).toBe(0.1);
    // the form without its version is refused by the schema
    const r = await update(team.buyer.id, { ...editForm(today, c.id, c.version), expectedUpdatedAt: '' });
    expect(r).toMatchObject({ ok: false, fieldErrors: { expectedUpdatedAt: ['Version: the form lost the version it was opened on: reload the page.'] } });
  });

  it('two saves of one version at the same moment: one is written, the other refused (the row lock orders them)', async () => {
    const c = await createOk(team, form(today));
    const [x, y] = await Promise.all([
      update(team.buyer.id, editForm(today, c.id, c.version, { name: 'First' })),
      update(team.admin.id, editForm(today, c.id, c.version, { name: 'Second' })),
    ]);
    expect([x.ok, y.ok].sort()).toEqual([false, true]);
    const lost = x.ok ? y : x;
    expect(lost.message).toMatch(/^This test was changed by .* since you opened it\. Nothing was saved/);
    expect((await stored(team.tenantId, c.id)).test_name).toBe(x.ok ? 'First' : 'Second');
    expect((await audits(team.tenantId, c.id)).map((a) => a.action)).toEqual(['ab_test.create', 'ab_test.update']);
  });

  it('a running test: name, hypothesis, variant names, end date and entered totals change; the design and the ids are refused', async () => {
    const start = addDays(today, -5);
    const c = await createOk(team, form(today, { startDate: start, sourceB: 'entered', ...entered('b', { impressions: '100', clicks: '10' }), startNow: 'on' }));
    const version = await versionOf(team.tenantId, c.id);
    const started = { startDate: start, sourceB: 'entered', ...entered('b', { impressions: '100', clicks: '10' }) };
    const frozen: [Record<string, unknown>, string, string][] = [
      [{ metric: 'cpa' }, 'metric', `Primary metric: ${FROZEN_REASON}.`],
      [{ shareB: '60' }, 'shareB', `Share of B: ${FROZEN_REASON}.`],
      [{ mde: '5' }, 'mde', `Minimum detectable effect: ${FROZEN_REASON}.`],
      [{ allocationUnit: 'impressions' }, 'allocationUnit', `What is split: ${FROZEN_REASON}.`],
      [{ idsA: ['adset:as3'] }, 'idsA', `Variant A ids: ${FROZEN_REASON}.`],
      [{ sourceB: 'ids', idsB: ['adset:as2'] }, 'sourceB', `Variant B source: ${FROZEN_REASON}.`],
      [{ type: 'bidding' }, 'type', 'Type: fixed when the test started.'],
      [{ campaign: 'c2', idsA: ['adset:as9'] }, 'campaign', 'Campaign: fixed when the test started (its data are read there).'],
      [{ startDate: addDays(today, -3) }, 'startDate', 'Start date: fixed when the test started (its data are counted from that day).'],
      [{ endDate: addDays(today, -2) }, 'endDate', `End date: not before yesterday (${addDays(today, -1)}): the daily loop completes a test after its end date.`],
    ];
    const before = await counts(team.tenantId);
    const row = await stored(team.tenantId, c.id);
    for (const [over, field, message] of frozen) {
      const r = await update(team.buyer.id, editForm(today, c.id, version, { ...started, ...over }));
      expect(r.ok, JSON.stringify(over)).toBe(false);
      if (!r.ok) expect(r.fieldErrors?.[field], JSON.stringify(r)).toContain(message);
    }
    expect(await counts(team.tenantId)).toEqual(before);
    expect(await stored(team.tenantId, c.id)).toEqual(row);

    const ok = await update(
      team.buyer.id,
      editForm(today, c.id, version, {
        ...started,
        name: 'Blue button (live)',
        hypothesis: 'Blue wins on mobile',
        variantA: 'Grey (control)',
        variantB: 'Blue (new)',
        endDate: addDays(today, 40),
        ...entered('b', { impressions: '2500', clicks: '75', conversions: '4', spend: '30', conversion_value: '90' }),
      }),
    );
    expect(ok.ok, JSON.stringify(ok)).toBe(true);
    expect(await stored(team.tenantId, c.id)).toEqual({
      ...row,
      test_name: 'Blue button (live)',
      hypothesis: 'Blue wins on mobile',
      variant_a: 'Grey (control)',
      variant_b: 'Blue (new)',
      end_date: addDays(today, 40),
      performance_b: { impressions: 2500, clicks: 75, conversions: 4, spend: 30, conversion_value: 90 },
    });
  });

  it('the database refuses a change of the frozen design or ids too, whoever writes', async () => {
    const c = await createOk(team, form(today, { startNow: 'on' }));
    const err = await rolledBackAsApp(app.db, team.tenantId, async (trx) => {
      try {
        await sql`update ads_engine.ab_test_designs set mde = 0.2 where tenant_id = ${team.tenantId} and test_id = ${c.id}::uuid`.execute(trx);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(err).toMatch(/is frozen since it started/);
    const err2 = await rolledBackAsApp(app.db, team.tenantId, async (trx) => {
      try {
        await sql`delete from ads_engine.ab_test_variants where tenant_id = ${team.tenantId} and test_id = ${c.id}::uuid`.execute(trx);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(err2).toMatch(/has started \(status running\): the platform ids of its variants cannot change/);
  });

  it('a completed or cancelled test cannot be edited', async () => {
    const c = await createOk(team, form(today));
    expect((await move(team.buyer.id, { id: c.id, move: 'cancel' })).ok).toBe(true);
    const r = await update(team.buyer.id, editForm(today, c.id, await versionOf(team.tenantId, c.id), { name: 'Too late' }));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(new RegExp(`^This test is cancelled \\(by ${team.buyer.name} at .* UTC\\): it can no longer be changed\\. Nothing was saved\\.$`));
    expect((await stored(team.tenantId, c.id)).test_name).toBe('Blue button');
  });
});

describe('moving a test', () => {
  it('start, pause, resume, complete: statuses, start date, frozen design, and an audit row each', async () => {
    const c = await createOk(team, form(today));
    const start = await move(team.buyer.id, { id: c.id, move: 'start', expectedUpdatedAt: c.version });
    expect(start).toMatchObject({ ok: true, data: { status: 'running' } });
    expect(await stored(team.tenantId, c.id)).toMatchObject({ status: 'running', start_date: today, design: { frozen: true } });
    expect((await move(team.buyer.id, { id: c.id, move: 'pause' })).ok).toBe(true);
    expect((await stored(team.tenantId, c.id)).status).toBe('paused');
    expect((await move(team.admin.id, { id: c.id, move: 'resume' })).ok).toBe(true);
    expect((await stored(team.tenantId, c.id)).status).toBe('running');
    const done = await move(team.buyer.id, { id: c.id, move: 'complete' });
    expect(done).toMatchObject({ ok: true, message: 'Completed: “Blue button” with no winner: the decision rule was not met.' });
    expect(await stored(team.tenantId, c.id)).toMatchObject({ status: 'completed', winner: 'none' });

    const rows = await audits(team.tenantId, c.id);
    expect(rows.map((a) => [a.action, a.actor_user_id, a.before?.status ?? null, a.after?.status])).toEqual([
      ['ab_test.create', team.buyer.id, null, 'draft'],
      ['ab_test.start', team.buyer.id, 'draft', 'running'],
      ['ab_test.pause', team.buyer.id, 'running', 'paused'],
      ['ab_test.resume', team.admin.id, 'paused', 'running'],
      ['ab_test.complete', team.buyer.id, 'running', 'completed'],
    ]);
    expect(rows[1]!.before).toMatchObject({ start_date: null, frozen_at: null });
    expect(rows[1]!.after).toMatchObject({ start_date: today, planned_share_b: 0.5, mde: 0.1, allocation_unit: 'spend' });
    expect(rows[1]!.after!.frozen_at).toEqual(expect.any(String));
    expect(rows[4]!.after).toMatchObject({ winner: 'none', latched_winner: null });
  });

  it('a start keeps the start date of the draft, and refuses an end date past 180 days from it', async () => {
    const c = await createOk(team, form(today, { startDate: addDays(today, -5), endDate: addDays(today, 10) }));
    expect((await move(team.buyer.id, { id: c.id, move: 'start' })).ok).toBe(true);
    expect((await stored(team.tenantId, c.id)).start_date).toBe(addDays(today, -5));

    // a draft whose end date has passed since it was saved (written as psql would) cannot start today
    const d = await createOk(team, form(today));
    await inTenant(owner, team.tenantId, (cl) => cl.query('update ads.ab_tests set end_date = $3 where tenant_id = $1 and id = $2', [team.tenantId, d.id, addDays(today, -3)]));
    const r = await move(team.buyer.id, { id: d.id, move: 'start' });
    expect(r).toMatchObject({ ok: false, fieldErrors: { endDate: [`End date: on or after the start date (${today}).`] } });
    expect((await stored(team.tenantId, d.id)).status).toBe('draft');
  });

  it('refuses a move the status does not allow, naming the status, and changes nothing', async () => {
    const c = await createOk(team, form(today));
    const cases: [string, string][] = [
      ['pause', 'This test is a draft: only a running test can be paused. Nothing was changed.'],
      ['resume', 'This test is a draft: only a paused test can be resumed. Nothing was changed.'],
      ['complete', 'This test is a draft: only a running or paused test can be completed. Nothing was changed.'],
    ];
    const before = await counts(team.tenantId);
    for (const [m, message] of cases) expect(await move(team.buyer.id, { id: c.id, move: m })).toEqual({ ok: false, message });
    expect(await move(team.buyer.id, { id: c.id, move: 'declare_winner', winner: 'B', confirmNoSignificance: 'on' })).toEqual({
      ok: false,
      message: 'This test is a draft: a winner can be declared only while the test is running or paused. Nothing was changed.',
    });
    expect(await counts(team.tenantId)).toEqual(before);

    expect((await move(team.buyer.id, { id: c.id, move: 'start' })).ok).toBe(true);
    const again = await move(team.admin.id, { id: c.id, move: 'start' });
    expect(again.message).toMatch(new RegExp(`^This test is running \\(by ${team.buyer.name} at .* UTC\\): only a draft can be started\\. Nothing was changed\\.$`));
    expect((await move(team.buyer.id, { id: c.id, move: 'resume' })).message).toMatch(/^This test is running .*: only a paused test can be resumed\./);
    expect((await move(team.buyer.id, { id: c.id, move: 'cancel' })).ok).toBe(true);
    for (const m of ['start', 'pause', 'resume', 'complete', 'cancel']) {
      const r = await move(team.buyer.id, { id: c.id, move: m });
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/^This test is cancelled \(by .*\): .* Nothing was changed\.$/);
    }
    expect(await stored(team.tenantId, c.id)).toMatchObject({ status: 'cancelled', winner: null });
    expect((await audits(team.tenantId, c.id)).map((a) => a.action)).toEqual(['ab_test.create', 'ab_test.start', 'ab_test.cancel']);
  });

  it('a move made on a stale version is refused; the version of the results page (milliseconds) is accepted', async () => {
    const c = await createOk(team, form(today, { startNow: 'on' }));
    const v = await versionOf(team.tenantId, c.id);
    expect((await update(team.buyer.id, editForm(today, c.id, v, { startDate: today, name: 'Renamed' }))).ok).toBe(true);
    const r = await move(team.buyer.id, { id: c.id, move: 'pause', expectedUpdatedAt: v });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^This test was changed by .* since you opened it\. Nothing was changed: reload the page/);
    const now = await versionOf(team.tenantId, c.id);
    const ms = `${now.slice(0, 23)}Z`;
    expect((await move(team.buyer.id, { id: c.id, move: 'pause', expectedUpdatedAt: ms })).ok).toBe(true);
    expect(sameVersion('2026-01-01T10:00:00.123Z', '2026-01-01T10:00:00.123999Z')).toBe(true);
    expect(sameVersion('2026-01-01T10:00:00.123Z', '2026-01-01T10:00:00.125000Z')).toBe(false);
    expect(sameVersion('2026-01-01T10:00:00.123456Z', '2026-01-01T10:00:00.123457Z')).toBe(false);
  });

  it('declaring a winner the decision rule has not reached needs the explicit confirmation, recorded in the audit row', async () => {
    const c = await createOk(team, form(today, { startNow: 'on' }));
    const before = await counts(team.tenantId);
    const r = await move(team.buyer.id, { id: c.id, move: 'declare_winner', winner: 'B' });
    expect(r).toMatchObject({
      ok: false,
      message: 'Not declared: the decision rule has not found a winner. To declare variant B (“Blue”) the winner all the same, tick “Declare without a significant result”.',
      fieldErrors: { confirmNoSignificance: ['Declare without a significant result: tick it to declare variant B the winner although the decision rule has not found a winner.'] },
    });
    expect(await counts(team.tenantId)).toEqual(before);
    expect(await move(team.buyer.id, { id: c.id, move: 'declare_winner' })).toMatchObject({ ok: false, fieldErrors: { winner: ['Winner: choose variant A or B.'] } });

    const ok = await move(team.buyer.id, { id: c.id, move: 'declare_winner', winner: 'B', confirmNoSignificance: 'on' });
    expect(ok).toMatchObject({ ok: true, message: 'Completed: “Blue button”, variant B (“Blue”) declared the winner without a significant result (the audit log records it).' });
    expect(await stored(team.tenantId, c.id)).toMatchObject({ status: 'completed', winner: 'B' });
    const last = (await audits(team.tenantId, c.id)).at(-1)!;
    expect(last).toMatchObject({ action: 'ab_test.declare_winner', before: { status: 'running', winner: null } });
    expect(last.after).toMatchObject({ status: 'completed', winner: 'B', declared: 'B', decision_met: false, declared_without_significance: true, latched_winner: null });
  });

  it('with a winner latched by the loop: declaring it needs no confirmation, the other arm does, and complete keeps it', async () => {
    const latch = async (id: string, arm: 'A' | 'B') =>
      inTenant(owner, team.tenantId, async (cl) => {
        await cl.query('update ads.ab_tests set winner = $3, statistical_significance = 0.991 where tenant_id = $1 and id = $2', [team.tenantId, id, arm]);
        await cl.query(
          `insert into ads_engine.ab_test_state (tenant_id, test_id, as_of, decision, message, min_p_seq, winner_day)
           values ($1, $2, $3, $4, 'latched', 0.009, $3)`,
          [team.tenantId, id, addDays(today, -1), arm === 'A' ? 'winner_a' : 'winner_b'],
        );
      });
    const c = await createOk(team, form(today, { startNow: 'on' }));
    await latch(c.id, 'A');
    const wrong = await move(team.buyer.id, { id: c.id, move: 'declare_winner', winner: 'B' });
    expect(wrong).toMatchObject({ ok: false, fieldErrors: { confirmNoSignificance: [expect.stringContaining('although the decision rule found variant A (“Grey”) the winner')] } });
    const ok = await move(team.buyer.id, { id: c.id, move: 'declare_winner', winner: 'A' });
    expect(ok).toMatchObject({ ok: true, message: `Completed: “Blue button”, variant A (“Grey”) declared the winner, as the decision rule found on ${addDays(today, -1)}.` });
    expect((await audits(team.tenantId, c.id)).at(-1)!.after).toMatchObject({ winner: 'A', decision_met: true, declared_without_significance: false, latched_winner: 'A' });

    const d = await createOk(team, form(today, { startNow: 'on' }));
    await latch(d.id, 'B');
    expect((await move(team.buyer.id, { id: d.id, move: 'pause' })).ok).toBe(true);
    const done = await move(team.buyer.id, { id: d.id, move: 'complete' });
    expect(done).toMatchObject({ ok: true, message: `Completed: “Blue button”, won by variant B (“Blue”): the decision rule was met on ${addDays(today, -1)}.` });
    expect(await stored(team.tenantId, d.id)).toMatchObject({ status: 'completed', winner: 'B' });
  });

  it("another tenant's test is not found by any move or save, and stays as it was; a viewer cannot move one", async () => {
    const otherToday = await todayOf(other.tenantId);
    const theirs = await createOk(other, form(otherToday, { campaign: '', sourceA: 'entered', sourceB: 'entered' }));
    const before = await stored(other.tenantId, theirs.id);
    const beforeCounts = await counts(other.tenantId);
    for (const m of ['start', 'pause', 'resume', 'complete', 'cancel']) {
      expect(await move(team.buyer.id, { id: theirs.id, move: m })).toEqual({ ok: false, message: AB_TEST_NOT_FOUND });
    }
    expect(await move(team.buyer.id, { id: theirs.id, move: 'declare_winner', winner: 'A', confirmNoSignificance: 'on' })).toEqual({ ok: false, message: AB_TEST_NOT_FOUND });
    const r = await update(team.buyer.id, editForm(today, theirs.id, theirs.version, { campaign: '', sourceA: 'entered', sourceB: 'entered', name: 'Hijacked' }));
    expect(r).toEqual({ ok: false, message: AB_TEST_NOT_FOUND });
    expect(await stored(other.tenantId, theirs.id)).toEqual(before);
    expect(await counts(other.tenantId)).toEqual(beforeCounts);

    const mine = await createOk(team, form(today));
    expect(await move(team.viewer.id, { id: mine.id, move: 'start' })).toEqual({ ok: false, message: 'This needs the Buyer role; you are Viewer.' });
    expect(await update(team.viewer.id, editForm(today, mine.id, mine.version, { name: 'By a viewer' }))).toEqual({
      ok: false,
      message: 'This needs the Buyer role; you are Viewer.',
    });
    expect(await stored(team.tenantId, mine.id)).toMatchObject({ status: 'draft', test_name: 'Blue button' });
    expect(await move(team.buyer.id, { id: 'not-a-test', move: 'start' })).toMatchObject({ ok: false, fieldErrors: { id: ['Test: not an A/B test id.'] } });
  });
});
