// The history page's reads of measured outcomes, track records and
// withdrawals, on the real database through the app's own withTenant (app
// role, rolled back): a budget cut measured at 7 days by the engine
// (ads_engine.measure_outcomes), its realised change and interval worked out
// here by hand from the metrics and from the stored log-scale figures; the
// 14-day horizon still due; the track record's counts and median from chosen
// directions; another tenant's ids give nothing; a withdrawal by the engine
// (ads_engine.generate_recommendations) compared with the figures it was shown with.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../../lib/db/pool';
import { horizonNote, horizonText, predictedText } from '../../lib/recommendations/outcome-format';
import { boundIds, outcomesFor, trackRecord } from '../../lib/recommendations/outcomes';
import { whatChanged, withdrawalEvidence } from '../../lib/recommendations/withdrawal';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { createTenant, inTenant, ownerPool } from '../helpers/db';
import { addDays, daily } from '../engine/fixtures';

const app = appKysely(2);
const owner = ownerPool();
const GB = { locale: 'en-GB' };
const EUR = { currency: 'EUR', locale: 'en-GB' };
const M = '\u2212';
const Z = 1.959964;

let tenant: string;
let other: string;
beforeAll(async () => {
  tenant = await createTenant(owner, 'Outcome history');
  other = await createTenant(owner, 'Outcome history, other tenant');
});

/** The tenant's local day a recommendation is applied (tenants are on UTC by default). */
const APPLIED = '2025-03-17';
const SEVEN = addDays(APPLIED, 7);

interface Day {
  id: string;
  day: string;
  spend?: number;
  conversions?: number;
  value?: number;
}

/** Meta campaign rows, written on the transaction (row-level security applies). */
async function insertMetrics(trx: Tx, tenantId: string, rows: Day[]): Promise<void> {
  await sql`
    insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
    select ${tenantId}::uuid, 'meta', 'campaign', t.id, t.d::date, 'Campaign ' || t.id, t.s, 10000, 100, t.k, t.v
    from unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.day)}::text[], ${rows.map((r) => r.spend ?? 0)}::numeric[],
                ${rows.map((r) => r.conversions ?? 0)}::numeric[], ${rows.map((r) => r.value ?? 0)}::numeric[]) as t(id, d, s, k, v)`.execute(trx);
}

interface NewRec {
  entity: string | null;
  type: string;
  current?: number;
  recommended?: number;
  evidence?: Record<string, unknown>;
  status?: 'pending' | 'applied';
  appliedAt?: string;
}

async function insertRec(trx: Tx, tenantId: string, r: NewRec): Promise<string> {
  const status = r.status ?? 'applied';
  const res = await sql<{ id: string }>`
    insert into ads.optimization_recommendations
      (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description, current_value, recommended_value, evidence, status, applied_at)
    values (${tenantId}::uuid, 'meta', 'campaign', ${r.entity}, ${r.entity}, ${r.entity}, ${r.type}, ${`${r.type} for ${r.entity ?? 'the account'}`},
            ${r.current ?? null}, ${r.recommended ?? null}, ${JSON.stringify(r.evidence ?? {})}::jsonb, ${status},
            ${status === 'applied' ? (r.appliedAt ?? `${APPLIED}T12:00:00Z`) : null}::timestamptz)
    returning id`.execute(trx);
  return res.rows[0]!.id;
}

/** Spend per day of each campaign before and after APPLIED (7 days each side; the day itself is left out by the engine). */
const SPEND: Record<string, [pre: number, post: number]> = {
  T: [100, 60], // the budget cut by 40 %
  A: [100, 110],
  B: [200, 190],
  C: [50, 52],
};

async function seedCut(trx: Tx, tenantId: string): Promise<string> {
  await insertMetrics(
    trx,
    tenantId,
    Object.entries(SPEND).flatMap(([id, [pre, post]]) =>
      daily(addDays(APPLIED, -7), SEVEN, (day) => ({ id, spend: day <= APPLIED ? pre : post })),
    ),
  );
  // budget_decrease's default prediction: spend per day by 60 / 100 - 1 = -40 %.
  return insertRec(trx, tenantId, { entity: 'T', type: 'budget_decrease', current: 100, recommended: 60 });
}

const measure = async (trx: Tx, tenantId: string, asOf: string) =>
  (await sql<{ n: number }>`select ads_engine.measure_outcomes(${tenantId}::uuid, ${asOf}::date) as n`.execute(trx)).rows[0]!.n;

describe('outcomesFor: the prediction and both horizons of each applied recommendation', () => {
  it('a 40 % budget cut measured at 7 days: realised change and interval as worked out by hand; 14 days still due', async () => {
    // By hand: spend has no count noise, so the variance is the controls' spread s^2 (tau^2 = s^2) plus the error of their mean s^2 / n.
    const d = ['A', 'B', 'C'].map((x) => Math.log(SPEND[x]![1] / SPEND[x]![0])); // ln 1.1, ln 0.95, ln 1.04
    const mean = (d[0]! + d[1]! + d[2]!) / 3;
    const s2 = d.reduce((a, x) => a + (x - mean) ** 2, 0) / 2;
    const did = Math.log(0.6) - mean; // -0.53857
    const half = Z * Math.sqrt(s2 + s2 / 3);

    await rolledBackAsApp(app.db, tenant, async (trx) => {
      const id = await seedCut(trx, tenant);
      expect(await measure(trx, tenant, addDays(SEVEN, -1))).toBe(0);
      expect(await measure(trx, tenant, SEVEN)).toBe(1);

      // What the engine stored, against the hand computation.
      const stored = (
        await sql<{ did: number; lo: number; hi: number }>`
          select did_7 as did, did_lower_7 as lo, did_upper_7 as hi from ads_engine.recommendation_outcomes where tenant_id = ${tenant}::uuid and recommendation_id = ${id}::uuid`.execute(trx)
      ).rows[0]!;
      expect(stored.did).toBeCloseTo(did, 5);
      expect(stored.lo).toBeCloseTo(did - half, 5);
      expect(stored.hi).toBeCloseTo(did + half, 5);

      const [o, ...rest] = await outcomesFor(trx, tenant, [id]);
      expect(rest).toEqual([]);
      expect(o).toMatchObject({ id, recorded: true, metric: 'spend', expectedChange: -0.4, horizonDays: 7, predictionSource: 'default', appliedDay: APPLIED });
      const h7 = o!.h7!;
      expect(h7).toMatchObject({ horizon: 7, dueDay: SEVEN, measured: true, controls: 3, directionHeld: true, entityChange: -0.4 });
      // exp(did) - 1 of the stored figures, and of the hand computation (the engine rounds to 6 places).
      expect(h7.realised!).toBeCloseTo(Math.exp(stored.did) - 1, 12);
      expect(h7.lower!).toBeCloseTo(Math.exp(stored.lo) - 1, 12);
      expect(h7.upper!).toBeCloseTo(Math.exp(stored.hi) - 1, 12);
      expect(h7.realised!).toBeCloseTo(Math.exp(did) - 1, 5); // -0.41642
      expect(h7.lower!).toBeCloseTo(Math.exp(did - half) - 1, 5); // -0.50638
      expect(h7.upper!).toBeCloseTo(Math.exp(did + half) - 1, 5); // -0.31007
      expect(h7.controlChange!).toBeCloseTo(Math.exp(mean) - 1, 5);
      expect(horizonText(h7, GB)).toBe(`${M}42 % (${M}51 % to ${M}31 %)`);
      expect(horizonNote(h7, GB)).toBe(`direction right; own change ${M}40 %, 3 comparable`);
      expect(predictedText(o!, GB)).toBe(`spend per day ${M}40 %`);

      // 14 days: not measured; due on the 14th day after, shown without a figure.
      expect(o!.h14).toMatchObject({ horizon: 14, dueDay: addDays(APPLIED, 14), measured: false, realised: null, lower: null, controls: null });
      expect(horizonText(o!.h14, GB, SEVEN)).toBe('due 31 Mar');
      expect(horizonText(o!.h14, GB, addDays(APPLIED, 14))).toBe('due 31 Mar, not measured yet');
    });
  });

  it('with one comparable campaign: measured, no interval; applied without an entity: nothing to measure', async () => {
    await rolledBackAsApp(app.db, tenant, async (trx) => {
      await insertMetrics(
        trx,
        tenant,
        ['T', 'A'].flatMap((id) => daily(addDays(APPLIED, -7), SEVEN, (day) => ({ id, spend: day <= APPLIED ? SPEND[id]![0] : SPEND[id]![1] }))),
      );
      const cut = await insertRec(trx, tenant, { entity: 'T', type: 'budget_decrease', current: 100, recommended: 60 });
      const account = await insertRec(trx, tenant, { entity: null, type: 'timing' });
      expect(await measure(trx, tenant, SEVEN)).toBe(1);
      const [a, b] = await outcomesFor(trx, tenant, [cut, account]);
      // did = ln 0.6 - ln 1.1 with one control and no interval.
      expect(a!.h7!.realised!).toBeCloseTo(0.6 / 1.1 - 1, 5);
      expect(a!.h7).toMatchObject({ controls: 1, lower: null, upper: null });
      expect(horizonText(a!.h7, GB)).toBe(`${M}45 %, no interval (fewer than 2 comparable entities)`);
      expect(b).toEqual({
        id: account, recorded: false, metric: null, expectedChange: null, horizonDays: null, predictionSource: null, appliedDay: null, h7: null, h14: null,
      });
      expect(predictedText(b!, GB)).toBe('nothing to measure');
    });
  });

  it('not measured yet: both due days; pending ones, unknown ids and non-uuids are left out, at most 100 ids looked up', async () => {
    await rolledBackAsApp(app.db, tenant, async (trx) => {
      const applied = await insertRec(trx, tenant, { entity: 'X', type: 'pause', current: 50, recommended: 0, appliedAt: '2025-12-05T09:00:00Z' });
      const pending = await insertRec(trx, tenant, { entity: 'Y', type: 'pause', current: 50, recommended: 0, status: 'pending' });
      const got = await outcomesFor(trx, tenant, [pending, 'not-a-uuid', "'; drop table ads.metrics_daily; --", crypto.randomUUID(), applied.toUpperCase(), applied]);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ id: applied, recorded: true, metric: 'spend', expectedChange: -1, appliedDay: '2025-12-05' });
      expect(got[0]!.h7).toMatchObject({ dueDay: '2025-12-12', measured: false });
      expect(got[0]!.h14).toMatchObject({ dueDay: '2025-12-19', measured: false });
      expect(horizonText(got[0]!.h7, GB, '2025-12-08')).toBe('due 12 Dec');
      expect(horizonText(got[0]!.h14, GB, '2025-12-08')).toBe('due 19 Dec');
      expect(horizonNote(got[0]!.h7, GB)).toBeNull();

      // The 101st id is not looked up.
      const filler = Array.from({ length: 100 }, () => crypto.randomUUID());
      expect(await outcomesFor(trx, tenant, [...filler, applied])).toEqual([]);
      expect(await outcomesFor(trx, tenant, [])).toEqual([]);
    });
    expect(boundIds([' ABCDEF01-2345-6789-ABCD-EF0123456789 ', 'abcdef01-2345-6789-abcd-ef0123456789', 42, null, 'x'])).toEqual([
      'abcdef01-2345-6789-abcd-ef0123456789',
    ]);
  });
});

describe('another tenant', () => {
  it("its ids give nothing: no outcome, no withdrawal, no track record; as itself they are there", async () => {
    // The other tenant's data, committed (it is a tenant of this file alone).
    const ids = await inTenant(owner, other, async (c) => {
      const res = await c.query<{ kind: string; id: string }>(
        `with a as (
           insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, recommendation_type, description, current_value, recommended_value, status, applied_at)
           values ($1, 'meta', 'campaign', 'OT', 'budget_decrease', 'cut', 100, 60, 'applied', '${APPLIED}T12:00:00Z') returning id),
         w as (
           insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, recommendation_type, description, status, withdrawn_at, withdrawal_reason, evidence)
           values ($1, 'meta', 'campaign', 'OW', 'pause', 'pause', 'withdrawn', now(), 'no longer supported',
                   '{"cpa_7d": 142, "withdrawal": {"cpa_7d": 95.1, "reason": "no longer supported"}}') returning id)
         select 'applied' as kind, id from a union all select 'withdrawn', id from w`,
        [other],
      );
      const byKind = Object.fromEntries(res.rows.map((r) => [r.kind, r.id])) as { applied: string; withdrawn: string };
      await c.query(
        `update ads_engine.recommendation_outcomes set did_7 = ln(0.5), direction_held_7 = true, measured_at_7 = now(), controls_7 = 0
         where tenant_id = $1 and recommendation_id = $2`,
        [other, byKind.applied],
      );
      return byKind;
    });

    await rolledBackAsApp(app.db, tenant, async (trx) => {
      expect(await outcomesFor(trx, tenant, [ids.applied])).toEqual([]);
      // Naming the other tenant does not help: row-level security still reads as this one.
      expect(await outcomesFor(trx, other, [ids.applied])).toEqual([]);
      expect((await withdrawalEvidence(trx, tenant, [ids.withdrawn])).size).toBe(0);
      expect((await withdrawalEvidence(trx, other, [ids.withdrawn])).size).toBe(0);
      expect(await trackRecord(trx, tenant)).toEqual([]);
    });
    // The engine refuses another tenant's track record inside this one's transaction.
    await expect(rolledBackAsApp(app.db, tenant, (trx) => trackRecord(trx, other))).rejects.toThrow(/does not match the current tenant/);

    // The owner of the rows sees them: the test above cannot pass by accident.
    await rolledBackAsApp(app.db, other, async (trx) => {
      const [o] = await outcomesFor(trx, other, [ids.applied]);
      expect(o!.h7!.realised!).toBeCloseTo(-0.5, 12);
      expect((await withdrawalEvidence(trx, other, [ids.withdrawn])).get(ids.withdrawn)?.type).toBe('pause');
      expect((await trackRecord(trx, other)).map((l) => [l.type, l.measured, l.held])).toEqual([['budget_decrease', 1, 1]]);
    });
  });
});

describe('trackRecord: per type, from ads_engine.track_record', () => {
  it('counts of direction held and the median realised over predicted, by hand; under 5: too few to judge', async () => {
    await rolledBackAsApp(app.db, tenant, async (trx) => {
      // Chosen measurements, set as measure_outcomes would write them.
      const set = (id: string, f: { d7?: number; h7?: boolean; d14?: number; h14?: boolean; e14?: number }) =>
        sql`update ads_engine.recommendation_outcomes set
              did_7 = ${f.d7 ?? null}::numeric, direction_held_7 = ${f.h7 ?? null}::boolean,
              measured_at_7 = case when ${f.h7 ?? null}::boolean is null then null else now() end,
              did_14 = ${f.d14 ?? null}::numeric, direction_held_14 = ${f.h14 ?? null}::boolean, entity_change_14 = ${f.e14 ?? null}::numeric,
              measured_at_14 = case when ${f.h14 ?? null}::boolean is null then null else now() end
            where tenant_id = ${tenant}::uuid and recommendation_id = ${id}::uuid`.execute(trx);

      // budget_increase 100 -> 150 predicts value per day +25 % (half the budget's rise). Realised r x 25 %:
      // the log figure is ln(1 + 0.25 r); r = -0.4 went the other way.
      const ratios = [1.2, 0.8, 0.6, 1.0, -0.4, 0.4];
      for (const [i, r] of ratios.entries()) {
        const id = await insertRec(trx, tenant, { entity: `BI${i}`, type: 'budget_increase', current: 100, recommended: 150 });
        const logChange = Math.log(1 + 0.25 * r);
        // The last one has only its 7-day horizon measured: that figure counts.
        await set(id, i === ratios.length - 1 ? { d7: logChange, h7: r > 0 } : { d7: 0.5, h7: true, d14: logChange, h14: r > 0 });
      }
      // Not measured: not counted.
      await insertRec(trx, tenant, { entity: 'BI9', type: 'budget_increase', current: 100, recommended: 150 });
      // Two pauses (spend to zero): one did fall to zero (no log figure, -100 %), one rose.
      const p1 = await insertRec(trx, tenant, { entity: 'P1', type: 'pause', current: 50, recommended: 0 });
      const p2 = await insertRec(trx, tenant, { entity: 'P2', type: 'pause', current: 50, recommended: 0 });
      await set(p1, { h14: true, e14: -1 });
      await set(p2, { d7: Math.log(1.1), h7: false });

      const sorted = [...ratios].sort((a, b) => a - b); // -0.4, 0.4, 0.6, 0.8, 1.0, 1.2
      const median = (sorted[2]! + sorted[3]!) / 2; // 0.7
      const lines = await trackRecord(trx, tenant, GB);
      expect(lines.map((l) => l.type)).toEqual(['budget_increase', 'pause']);
      expect(lines[0]).toMatchObject({ label: 'Budget increase', measured: 6, held: 5, judged: true });
      expect(lines[0]!.realisedOverPredicted!).toBeCloseTo(median, 4);
      // 0.5 + 0.5 (5 + 2) / (6 + 2)
      expect(lines[0]!.confidenceFactor!).toBeCloseTo(0.9375, 4);
      expect(lines[0]!.sentence).toBe('Budget increases: direction right 5 of 6, realised 70 % of predicted');
      expect(lines[1]).toMatchObject({ measured: 2, held: 1, judged: false, confidenceFactor: 1 });
      expect(lines[1]!.sentence).toBe('Pauses: direction right 1 of 2, too few measured to judge (under 5)');
    });
  });
});

describe('what changed: a recommendation the engine withdrew', () => {
  it('the figures it was shown with against the 7 days it was withdrawn on', async () => {
    const asOf = '2025-03-31';
    await rolledBackAsApp(app.db, tenant, async (trx) => {
      // 8 weeks of a steady campaign: 95.10 a day for 1 conversion a day, nothing for the engine to advise.
      await insertMetrics(trx, tenant, daily(addDays(asOf, -55), asOf, () => ({ id: 'W1', spend: 95.1, conversions: 1, value: 300 })));
      // A pause it had proposed on worse days (the figures of its evidence then).
      const id = await insertRec(trx, tenant, {
        entity: 'W1',
        type: 'pause',
        current: 200,
        recommended: 0,
        status: 'pending',
        evidence: { spend_7d: 1420, conversions_7d: 10, cpa_7d: 142, pause_line: 120, test: 'nb_lower' },
      });
      await sql`select ads_engine.generate_recommendations(${tenant}::uuid, ${asOf}::date)`.execute(trx);

      const ev = await withdrawalEvidence(trx, tenant, [id]);
      const w = ev.get(id)!;
      expect(w.type).toBe('pause');
      // By hand, the 7 days to asOf: spend 7 x 95.10 = 665.70, 7 conversions, CPA 95.10.
      expect(w.evidence.withdrawal).toMatchObject({ spend_7d: 665.7, conversions_7d: 7, cpa_7d: 95.1 });
      expect(String((w.evidence.withdrawal as Record<string, unknown>).reason)).toMatch(/^No longer supported by the 7 days to 2025-03-31/);
      expect(whatChanged(w.type, w.evidence, EUR).text).toBe('CPA €142.00 → €95.10 (line €120.00), conversions 10 → 7, spend €1,420 → €666');
    });
  });
});
