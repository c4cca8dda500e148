// Many people and processes at once, on real concurrent connections of the
// app role (createDb and withTenant, through the action wrapper and the
// cores the app calls): 50 decisions on one recommendation, sets of decisions
// overlapping single ones, 50 moves of one anomaly card, 8 imports of
// overlapping files for one tenant, the daily loop started 2 and 5 times at
// once, 10 saves of one budget and of one platform's settings from the same
// version, and API keys revoked and created at once. Each outcome is checked
// against the database as the owner sees it, with figures worked out here.
import type pg from 'pg';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { moveAnomaliesHandler, type MoveResult } from '../../lib/anomalies/mutations';
import { moveSchema } from '../../lib/anomalies/schema';
import { updateBudgetHandler } from '../../lib/budgets/mutations';
import { budgetsPage } from '../../lib/budgets/queries';
import { budgetFilterSchema, updateBudgetSchema } from '../../lib/budgets/schema';
import { withTenant } from '../../lib/db/pool';
import { runDailyLoop, type LoopSummary } from '../../lib/engine/loop';
import { API_KEY_ACTIONS, MAX_ACTIVE_KEYS, type CreatedApiKey } from '../../lib/ingest/api-keys';
import { decideManyHandler, decideRecommendationHandler, type BulkResult, type DecisionResult } from '../../lib/recommendations/mutations';
import { decideManySchema, decideSchema } from '../../lib/recommendations/schema';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import type { ActionResult } from '../../lib/request/result';
import { platformSettings, savePlatformConfigHandler, STALE } from '../../lib/settings/platform-config';
import { inputValue, platformConfigFormSchema } from '../../lib/settings/platform-config-schema';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { factories, type CreatedUser, type Team } from '../helpers/factories';
import { AS_OF, addDays, daily, insertMetrics } from '../engine/fixtures';
import { insertAnomaly } from '../anomalies/fixtures';
import { bytesOf, expectedByDay, makeRows, metaExport, storedByDay, tenantYesterday, type TruthRow } from '../ingest/fixtures';
import { importBytes, ownerRows } from '../ingest/helpers';

/** Connections of the app role's pool: every racer below holds one at the same time. */
const POOL = 60;
const app = appKysely(POOL);
const owner = ownerPool();
const { createTeam, createUser, addMembership } = factories({ password: 'race password 1', emailPrefix: 'race', domain: 'race.test', namePrefix: 'Racer' });

const asOwner = <T>(tenant: string, fn: (c: pg.PoolClient) => Promise<T>) => inTenant(owner, tenant, fn);
const rows = async <T = Record<string, unknown>>(tenant: string, text: string, values: unknown[] = []) =>
  asOwner(tenant, async (c) => (await c.query(text, values)).rows as T[]);
const one = async <T = Record<string, unknown>>(tenant: string, text: string, values: unknown[] = []) => (await rows<T>(tenant, text, values))[0]!;
const n = async (tenant: string, text: string, values: unknown[] = []) => (await one<{ n: number }>(tenant, `select count(*)::int as n from (${text}) q`, values)).n;

/** Resolves once `count` callers are waiting in it: every transaction is open (tenant set) before any of them goes on. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((resolve) => (open = resolve));
  return async () => {
    if (++arrived === count) open();
    await all;
  };
}

/** A handler that first waits at the barrier, inside its transaction. */
function gated<S extends z.ZodType, T>(handler: ActionHandler<S, T>, wait: () => Promise<void>): ActionHandler<S, T> {
  return async (trx, input, ctx) => {
    await wait();
    return handler(trx, input, ctx);
  };
}

/** A team plus `extra` more buyers of the same tenant. */
async function crowd(label: string, extra: number): Promise<Team & { buyers: CreatedUser[] }> {
  const t = await createTeam(owner, label);
  const more = await Promise.all(Array.from({ length: extra }, () => createUser(owner)));
  for (const u of more) await addMembership(owner, t.tenantId, u.id, 'buyer');
  return { ...t, buyers: [t.buyer, t.admin, ...more] };
}

const TIME = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.source;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the pool', () => {
  it(`the server takes ${POOL} app-role connections at once, each in its own tenant transaction`, async () => {
    const max = (await owner.query<{ v: string }>("select current_setting('max_connections') as v")).rows[0]!.v;
    expect(Number(max)).toBeGreaterThanOrEqual(POOL + 20);
    const t = await createTeam(owner, 'Race pool');
    const wait = barrier(POOL);
    const pids = await Promise.all(
      Array.from({ length: POOL }, () =>
        withTenant(t.tenantId, async (trx) => {
          await wait();
          return (await sql<{ pid: number; t: string }>`select pg_backend_pid() as pid, current_setting('saas.tenant_id') as t`.execute(trx)).rows[0]!;
        }, {}, app.db),
      ),
    );
    expect(new Set(pids.map((p) => p.pid)).size).toBe(POOL);
    expect(new Set(pids.map((p) => p.t))).toEqual(new Set([t.tenantId]));
  });
});

// ---------------------------------------------------------------------------
// Recommendations
// ---------------------------------------------------------------------------

type Decide = ActionHandler<typeof decideSchema, DecisionResult>;
type DecideMany = ActionHandler<typeof decideManySchema, BulkResult>;
const decide = (userId: string, input: unknown, handler: Decide) =>
  runTenantAction({ schema: decideSchema, minRole: 'buyer', handler, userId, preferredTenantId: null, input, db: app.db });
const decideSet = (userId: string, input: unknown, handler: DecideMany) =>
  runTenantAction({ schema: decideManySchema, minRole: 'buyer', handler, userId, preferredTenantId: null, input, db: app.db });

/** A pending recommendation as the engine writes it (committed, as the owner in the tenant). */
async function pendingRec(tenant: string, type: string, entity: string): Promise<string> {
  const r = await one<{ id: string }>(
    tenant,
    `insert into ads.optimization_recommendations
       (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description, priority, confidence_score, status, expires_at)
     values ($1, 'meta', 'campaign', $2, $3, $2, $4, $5, 'high', 0.9, 'pending', now() + interval '7 days') returning id`,
    [tenant, entity, `Campaign ${entity}`, type, `${type} for ${entity}`],
  );
  return r.id;
}

const recAudits = (tenant: string, id: string) =>
  rows<{ action: string; actor_user_id: string }>(
    tenant,
    "select action, actor_user_id::text as actor_user_id from saas.audit_log where tenant_id = $1 and entity_type = 'recommendation' and entity_id = $2",
    [tenant, id],
  );

describe('50 buyers deciding one recommendation at once', () => {
  it('4 rounds of 50 (approvals and dismissals mixed): one decision applied, 49 refused naming it, one audit row, the budget as the winner left it', async () => {
    const t = await crowd('Race decisions', 48);
    expect(t.buyers).toHaveLength(50);
    const tally = { applied: 0, dismissed: 0, refused: 0 };
    for (let round = 0; round < 4; round++) {
      const campaign = `pause-${round}`;
      await one(t.tenantId, `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, 'meta', $2, $3, 80) returning id`, [
        t.tenantId,
        campaign,
        `Campaign ${campaign}`,
      ]);
      const id = await pendingRec(t.tenantId, 'pause', campaign);
      const wait = barrier(50);
      // Round r: every (r + 2)-th buyer dismisses, the others approve.
      const inputs = t.buyers.map((_, i) => (i % (round + 2) === 0 ? { id, decision: 'dismiss', reason: 'seasonal' } : { id, decision: 'approve' }));
      const results = await Promise.all(t.buyers.map((u, i) => decide(u.id, inputs[i], gated(decideRecommendationHandler, wait))));

      const won = results.map((r, i) => ({ r, i })).filter((x) => x.r.ok);
      expect(won, `round ${round}`).toHaveLength(1);
      const winner = t.buyers[won[0]!.i]!;
      const approved = inputs[won[0]!.i]!.decision === 'approve';
      const state = await one<{ status: string; applied_by: string | null; dismissed_by: string | null }>(
        t.tenantId,
        'select status, applied_by::text as applied_by, dismissed_by::text as dismissed_by from ads.optimization_recommendations where id = $1',
        [id],
      );
      const budget = await one<{ status: string }>(t.tenantId, 'select status from ads.budget_allocation where tenant_id = $1 and campaign_id = $2', [t.tenantId, campaign]);
      if (approved) {
        tally.applied++;
        expect(state).toEqual({ status: 'applied', applied_by: winner.id, dismissed_by: null });
        expect(budget.status).toBe('paused');
      } else {
        tally.dismissed++;
        expect(state).toEqual({ status: 'dismissed', applied_by: null, dismissed_by: winner.id });
        expect(budget.status).toBe('active');
      }
      const verdict = approved ? `Already approved by ${escape(winner.name)} at ${TIME}\\.` : `Already dismissed by ${escape(winner.name)} at ${TIME} \\(Seasonal\\)\\.`;
      for (const r of results.filter((x) => !x.ok)) {
        tally.refused++;
        expect(r.message, `round ${round}`).toMatch(new RegExp(`^${verdict}$`));
      }
      expect(await recAudits(t.tenantId, id)).toEqual([{ action: approved ? 'recommendation.approve' : 'recommendation.dismiss', actor_user_id: winner.id }]);
    }
    expect(tally.applied + tally.dismissed).toBe(4);
    expect(tally.refused).toBe(4 * 49);
  }, 120_000);
});

describe('sets of decisions overlapping single ones', () => {
  it('6 sets of 4 and 30 single decisions on 10 recommendations at once: each decided once, a set all or nothing, no deadlock', async () => {
    const t = await crowd('Race sets', 34);
    const ids: string[] = [];
    for (let k = 0; k < 10; k++) ids.push(await pendingRec(t.tenantId, k % 2 ? 'creative' : 'bid_adjustment', `c${k}`));
    // Overlapping windows, in orders that differ from the id order (the core locks in id order).
    const sets = Array.from({ length: 6 }, (_, s) => [ids[(s + 3) % 10]!, ids[s]!, ids[(s + 7) % 10]!, ids[(s + 1) % 10]!]);
    const singles = Array.from({ length: 30 }, (_, k) => ids[(k * 7) % 10]!);
    const wait = barrier(sets.length + singles.length);
    const setUsers = t.buyers.slice(0, 6);
    const singleUsers = t.buyers.slice(6, 36);
    const decision = (k: number) => (k % 3 === 0 ? { decision: 'dismiss', reason: 'not_relevant' } : { decision: 'approve' });
    const settled = await Promise.allSettled([
      ...sets.map((s, k) => decideSet(setUsers[k]!.id, { ids: s, ...decision(k) }, gated(decideManyHandler, wait))),
      ...singles.map((id, k) => decide(singleUsers[k]!.id, { id, ...decision(k + 1) }, gated(decideRecommendationHandler, wait))),
    ]);
    // Nothing threw: no deadlock, no serialization failure reached anyone.
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    const results = settled.map((s) => (s as PromiseFulfilledResult<ActionResult<unknown>>).value);
    const setResults = results.slice(0, sets.length);
    const singleResults = results.slice(sets.length);

    const state = new Map(
      (
        await rows<{ id: string; status: string; by: string }>(
          t.tenantId,
          'select id::text as id, status, coalesce(applied_by, dismissed_by)::text as by from ads.optimization_recommendations where tenant_id = $1',
          [t.tenantId],
        )
      ).map((r) => [r.id, r]),
    );
    // Each recommendation decided, by exactly one person, with one audit row.
    for (const id of ids) {
      expect(['applied', 'dismissed']).toContain(state.get(id)!.status);
      const audits = await recAudits(t.tenantId, id);
      expect(audits, id).toHaveLength(1);
      expect(audits[0]!.actor_user_id).toBe(state.get(id)!.by);
    }
    // A set that went through decided all of its members as it asked; one refused decided none and says so.
    sets.forEach((s, k) => {
      const r = setResults[k]!;
      const want = decision(k).decision === 'approve' ? 'applied' : 'dismissed';
      const mine = s.filter((id) => state.get(id)!.by === setUsers[k]!.id);
      if (r.ok) {
        expect(mine).toEqual(s);
        for (const id of s) expect(state.get(id)!.status).toBe(want);
      } else {
        expect(mine).toEqual([]);
        expect(r.message).toMatch(new RegExp(`^Nothing was ${want === 'applied' ? 'approved' : 'dismissed'}: \\d of 4 cannot be\\. `));
      }
    });
    singles.forEach((id, k) => {
      const r = singleResults[k]!;
      if (r.ok) expect(state.get(id)!.by).toBe(singleUsers[k]!.id);
      else expect(r.message).toMatch(new RegExp(`^Already (approved|dismissed) by .+ at ${TIME}`));
    });
    // Whoever decided each one: a set that went through, or a single decision that did.
    const deciders = new Set([...setResults.flatMap((r, k) => (r.ok ? [setUsers[k]!.id] : [])), ...singleResults.flatMap((r, k) => (r.ok ? [singleUsers[k]!.id] : []))]);
    for (const id of ids) expect(deciders.has(state.get(id)!.by)).toBe(true);
    expect(await n(t.tenantId, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'recommendation'", [t.tenantId])).toBe(10);
  }, 120_000);
});

// ---------------------------------------------------------------------------
// Anomalies
// ---------------------------------------------------------------------------

type Move = ActionHandler<typeof moveSchema, MoveResult>;
const move = (userId: string, input: unknown, handler: Move) =>
  runTenantAction({ schema: moveSchema, minRole: 'buyer', handler, userId, preferredTenantId: null, input, db: app.db });

describe('50 people moving one anomaly card at once', () => {
  it('acknowledge, resolve and dismiss mixed: one move wins, 49 are told the state it left, one history row, one audit row', async () => {
    const t = await crowd('Race anomalies', 48);
    for (let round = 0; round < 3; round++) {
      const id = await insertAnomaly(owner, t.tenantId, { entity: `c${round}`, name: `Campaign c${round}` });
      const moves = ['acknowledge', 'resolve', 'dismiss'] as const;
      const inputs = t.buyers.map((_, i) => {
        const m = moves[(i + round) % 3]!;
        return { ids: id, move: m, expected: 'active', ...(m === 'resolve' ? { note: 'Tracking fixed' } : {}) };
      });
      const wait = barrier(50);
      const results = await Promise.all(t.buyers.map((u, i) => move(u.id, inputs[i], gated(moveAnomaliesHandler, wait))));
      const won = results.map((r, i) => ({ r, i })).filter((x) => x.r.ok);
      expect(won, `round ${round}`).toHaveLength(1);
      const winner = t.buyers[won[0]!.i]!;
      const m = inputs[won[0]!.i]!.move;
      const status = { acknowledge: 'investigating', resolve: 'resolved', dismiss: 'dismissed' }[m];
      expect((await one<{ status: string }>(t.tenantId, 'select status from ads.anomalies where id = $1', [id])).status).toBe(status);
      const told = {
        acknowledge: `^Already acknowledged by ${escape(winner.name)} at ${TIME}: it is under investigation\\. Nothing was changed\\.$`,
        resolve: `^Already resolved by ${escape(winner.name)} at ${TIME} \\(Tracking fixed\\)\\. Nothing was changed\\.$`,
        dismiss: `^Already dismissed as not an anomaly by ${escape(winner.name)} at ${TIME}\\. Nothing was changed\\.$`,
      }[m];
      for (const r of results.filter((x) => !x.ok)) expect(r.message).toMatch(new RegExp(told));
      expect(await rows(t.tenantId, 'select actor_user_id::text as who, to_status from ads_engine.anomaly_events where tenant_id = $1 and anomaly_id = $2', [t.tenantId, id])).toEqual([
        { who: winner.id, to_status: status },
      ]);
      expect(await n(t.tenantId, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'anomaly' and entity_id = $2", [t.tenantId, id])).toBe(1);
    }
  }, 120_000);
});

// ---------------------------------------------------------------------------
// Imports
// ---------------------------------------------------------------------------

const keyOf = (r: TruthRow) => `${r.campaignId}|${r.day}`;
const figures = (r: TruthRow) => `${r.spendCents} ${r.impressions} ${r.clicks} ${r.conversions100} ${r.valueCents}`;

describe('8 imports of overlapping files for one tenant at once', () => {
  it('every import succeeds; the rows, counts and rollups are those of the same files imported one after the other in commit order', async () => {
    const tenant = (await createTeam(owner, 'Race imports')).tenantId;
    const serialTenant = (await createTeam(owner, 'Race imports, one at a time')).tenantId;
    const last = await tenantYesterday(owner, tenant);
    expect(await tenantYesterday(owner, serialTenant)).toBe(last);
    // 12 campaigns x 60 days; file k holds 5 campaigns from the (2k)th (each campaign in 2 or 3 files) with figures of
    // its own (seed 100 + k), the odd files in reverse order (two writers meeting rows in opposite orders would
    // deadlock); files 6 and 7 repeat files 0 and 3 exactly. A 13th campaign is in files 0 and 6 only, so whichever
    // of the two commits second finds its rows unchanged, whatever the order (the others' may all be overwritten).
    const all = (seed: number) => makeRows({ campaigns: 13, days: 60, lastDay: last, seed });
    const campaigns = [...new Set(all(1).map((r) => r.campaignId))];
    expect(campaigns).toHaveLength(13);
    const files: TruthRow[][] = [];
    for (let k = 0; k < 6; k++) {
      const mine = new Set(Array.from({ length: 5 }, (_, j) => campaigns[(2 * k + j) % 12]!));
      if (k === 0) mine.add(campaigns[12]!);
      const rowsOfFile = all(100 + k).filter((r) => mine.has(r.campaignId));
      files.push(k % 2 ? rowsOfFile.reverse() : rowsOfFile);
    }
    files.push(files[0]!, files[3]!);
    const bytes = files.map((f) => bytesOf(metaExport(f)));

    const started = performance.now();
    const settled = await Promise.allSettled(bytes.map((b) => importBytes(app.pool, b, { tenantId: tenant })));
    const ms = Math.round(performance.now() - started);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    const results = settled.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof importBytes>>>).value);
    expect(results.map((r) => r.ok)).toEqual(bytes.map(() => true));

    // The order the writes took: each import writes its audit row under the tenant's write lock, just before it commits.
    const order = (
      await ownerRows<{ run: string }>(owner, tenant, "select entity_id as run from saas.audit_log where tenant_id = $1 and action = 'metrics.import' order by id", [tenant])
    ).map((r) => results.findIndex((x) => x.runId === r.run));
    expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    // The same files one after the other, worked out here: what each run must have counted, and what must be stored.
    const stored = new Map<string, TruthRow>();
    for (const k of order) {
      const want = { inserted: 0, updated: 0, unchanged: 0 };
      for (const r of files[k]!) {
        const before = stored.get(keyOf(r));
        if (!before) want.inserted++;
        else if (figures(before) === figures(r)) want.unchanged++;
        else want.updated++;
        stored.set(keyOf(r), r);
      }
      expect(results[k]!.counts, `file ${k}`).toMatchObject({ ...want, rejected: 0 });
    }
    expect(results.reduce((s, r) => s + r.counts.unchanged, 0)).toBeGreaterThanOrEqual(60);
    const expected = [...stored.values()];
    const got = await ownerRows<{ k: string; f: string }>(
      owner,
      tenant,
      `select platform_id || '|' || day::text as k,
              concat_ws(' ', (spend * 100)::bigint, impressions, clicks, (conversions * 100)::bigint, (conversion_value * 100)::bigint) as f
         from ads.metrics_daily where tenant_id = $1`,
      [tenant],
    );
    expect(got.length).toBe(expected.length);
    expect(new Map(got.map((g) => [g.k, g.f]))).toEqual(new Map(expected.map((r) => [keyOf(r), figures(r)])));
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(expected));
    // The rollups kept by triggers agree with an independent sum of the rows.
    const drift = await ownerRows<{ n: number }>(
      owner,
      tenant,
      `select count(*)::int as n from (
         select day, sum(spend) as s, sum(impressions) as i from ads.metrics_daily where tenant_id = $1 and level = 'campaign' group by day
       ) m full join (
         select day, spend as s, impressions as i from ads_engine.metrics_platform_daily where tenant_id = $1 and level = 'campaign' and platform = 'meta'
       ) r using (day)
       where m.s is distinct from r.s or m.i is distinct from r.i`,
      [tenant],
    );
    expect(drift[0]!.n).toBe(0);

    // The real serial run on a twin tenant, in that order, stores the same rows.
    for (const k of order) expect((await importBytes(app.pool, bytes[k]!, { tenantId: serialTenant })).ok).toBe(true);
    const fingerprint = (t: string) =>
      ownerRows<{ f: string }>(
        owner,
        t,
        `select string_agg(concat_ws(' ', platform, level, platform_id, day, entity_name, campaign_id, spend, impressions, clicks, conversions, conversion_value), ',' order by platform_id, day) as f
           from ads.metrics_daily where tenant_id = $1`,
        [t],
      );
    expect(await fingerprint(tenant)).toEqual(await fingerprint(serialTenant));
    expect(await n(tenant, "select 1 from ads_engine.import_runs where tenant_id = $1 and status = 'succeeded'", [tenant])).toBe(8);
    expect(await n(tenant, 'select 1 from ads_engine.import_staging where tenant_id = $1', [tenant])).toBe(0);
    console.log(`[race] 8 imports at once (${expected.length} distinct rows, ${files.reduce((s, f) => s + f.length, 0)} sent): ${ms} ms`);
  }, 180_000);
});

// ---------------------------------------------------------------------------
// The daily loop
// ---------------------------------------------------------------------------

/** The loop tests' account (tests/engine/loop.test.ts): a steady campaign, a capped winner with a budget, a tracking loss on AS_OF. */
async function loopTenant(label: string): Promise<string> {
  const t = (await createTeam(owner, label)).tenantId;
  await asOwner(t, async (c) => {
    await insertMetrics(c, t, [
      ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'steady', spend: 100, impressions: 20000, clicks: 200, conversions: 10, value: 300 })),
      ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'winner', spend: 99, impressions: 19800, clicks: 198, conversions: 10, value: 600 })),
      ...daily(addDays(AS_OF, -56), AS_OF, (day) => ({ id: 'lost', spend: 300, impressions: 60000, clicks: 600, conversions: day === AS_OF ? 0 : 20, value: day === AS_OF ? 0 : 600 })),
    ]);
    await c.query(`insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'winner', 100)`, [t]);
    await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas) values ($1, 'meta', 3)`, [t]);
  });
  return t;
}

/** What the loop leaves for a tenant, row counts per table. */
const loopFootprint = async (t: string) =>
  one<Record<string, number>>(
    t,
    `select (select count(*) from ads.optimization_recommendations where tenant_id = $1)::int as recommendations,
            (select count(*) from ads.anomalies where tenant_id = $1)::int as anomalies,
            (select count(*) from ads.baselines where tenant_id = $1)::int as baselines,
            (select count(*) from ads.campaign_performance where tenant_id = $1)::int as campaign_performance,
            (select count(*) from ads_engine.optimizer_runs where tenant_id = $1 and status = 'success')::int as runs,
            (select count(*) from ads_engine.optimizer_runs where tenant_id = $1 and status <> 'success')::int as failed_runs`,
    [t],
  );

describe('the daily loop of one tenant started several times at once', () => {
  it('2 and 5 at once: the runs take turns, one finds what a single run finds, the others nothing new; no error', async () => {
    const single = await loopTenant('Race loop, once');
    const first = await runDailyLoop(app.db, single, { asOf: AS_OF, trigger: 'cli' });
    const once = await loopFootprint(single);
    expect(once).toMatchObject({ baselines: first.baselines, runs: 1, failed_runs: 0 });
    expect(once.recommendations).toBe(first.recommendations);
    expect(once.anomalies).toBe(first.anomalies);
    expect(first.recommendations).toBeGreaterThan(0);
    expect(first.anomalies).toBeGreaterThan(0);

    for (const times of [2, 5]) {
      const t = await loopTenant(`Race loop, ${times} at once`);
      const started = performance.now();
      const settled = await Promise.allSettled(Array.from({ length: times }, () => runDailyLoop(app.db, t, { asOf: AS_OF, trigger: 'schedule' })));
      const ms = Math.round(performance.now() - started);
      expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
      const summaries = settled.map((s) => (s as PromiseFulfilledResult<LoopSummary>).value);
      // The tables hold what one run leaves; every run is in the run log, one after the other.
      expect(await loopFootprint(t), `${times} at once`).toEqual({ ...once, runs: times });
      const finders = summaries.filter((s) => s.recommendations > 0 || s.anomalies > 0);
      expect(finders).toHaveLength(1);
      expect(finders[0]).toMatchObject({ recommendations: first.recommendations, anomalies: first.anomalies, baselines: first.baselines });
      for (const s of summaries.filter((x) => x !== finders[0])) expect(s).toMatchObject({ recommendations: 0, anomalies: 0 });
      const log = await rows<{ started_at: Date; finished_at: Date; found: number }>(
        t,
        "select started_at, finished_at, (summary ->> 'recommendations')::int + (summary ->> 'anomalies')::int as found from ads_engine.optimizer_runs where tenant_id = $1 order by finished_at",
        [t],
      );
      // The first to finish found everything: the others ran after it, on its results.
      expect(log.map((r) => r.found > 0)).toEqual([true, ...Array.from({ length: times - 1 }, () => false)]);
      console.log(`[race] the loop ${times} times at once: ${ms} ms`);
    }
  }, 180_000);
});

// ---------------------------------------------------------------------------
// Budgets, platform settings, API keys
// ---------------------------------------------------------------------------

describe('one budget saved by 10 buyers from the same version', () => {
  it('one save wins; the 9 others get the conflict naming who changed it and what it is now; one audit row', async () => {
    const t = await crowd('Race budget', 8);
    const id = (await one<{ id: string }>(t.tenantId, `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, 'meta', 'shared', 'Shared', 100) returning id`, [t.tenantId])).id;
    const page = await rolledBackAsApp(app.db, t.tenantId, (trx) => budgetsPage(trx, t.tenantId, budgetFilterSchema.parse({})));
    const version = page.rows.find((r) => r.id === id)!.version;
    const wait = barrier(10);
    const inputs = t.buyers.slice(0, 10).map((_, i) => ({ id, version, dailyBudget: String(110 + i), minBudget: '', maxBudget: '', strategy: 'manual', targetRoas: '', targetCpa: '', status: 'active' }));
    const results = await Promise.all(
      t.buyers.slice(0, 10).map((u, i) =>
        runTenantAction({ schema: updateBudgetSchema, minRole: 'buyer', handler: gated(updateBudgetHandler, wait), userId: u.id, preferredTenantId: null, input: inputs[i], db: app.db }),
      ),
    );
    const won = results.map((r, i) => ({ r, i })).filter((x) => x.r.ok);
    expect(won).toHaveLength(1);
    const w = won[0]!.i;
    const stored = await one<{ daily_budget: number }>(t.tenantId, 'select daily_budget::float8 as daily_budget from ads.budget_allocation where id = $1', [id]);
    expect(stored.daily_budget).toBe(110 + w);
    for (const r of results.filter((x) => !x.ok)) {
      expect(r).toMatchObject({ fieldErrors: { version: ['Changed since you opened it: load the current values.'] } });
      expect(r.message).toMatch(new RegExp(`^Not saved: the budget of Shared on Meta was changed by ${escape(t.buyers[w]!.email)} \\(.+\\) after you opened it\\. It is now: daily budget €${110 + w},`));
    }
    expect(await n(t.tenantId, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'budget_allocation' and entity_id = $2", [t.tenantId, id])).toBe(1);
  });
});

describe('one platform’s settings saved by 10 admins from the same version', () => {
  it('one save wins; the 9 others are told it changed, nothing of theirs is written; one audit row', async () => {
    const t = await createTeam(owner, 'Race settings');
    const admins = [t.admin, ...(await Promise.all(Array.from({ length: 9 }, () => createUser(owner))))];
    for (const a of admins.slice(1)) await addMembership(owner, t.tenantId, a.id, 'admin');
    await asOwner(t.tenantId, (c) => c.query(`insert into ads.platform_configs (tenant_id, platform, max_cpa, target_roas) values ($1, 'meta', 40, 3)`, [t.tenantId]));
    const settings = await rolledBackAsApp(app.db, t.tenantId, (trx) => platformSettings(trx, t.tenantId));
    const view = settings.platforms.find((p) => p.platform === 'meta')!;
    const form: Record<string, unknown> = { platform: 'meta', expected: view.token };
    for (const k of ['max_cpa', 'target_roas', 'auto_pause_threshold', 'min_spend_for_decision', 'anomaly_sensitivity', 'optimization_frequency'] as const) {
      form[k] = inputValue(k, view.values, settings.unit);
    }
    // an unticked checkbox sends nothing
    for (const k of ['recommendations_enabled', 'anomaly_detection_enabled', 'auto_apply_recommendations'] as const) if (view.values[k]) form[k] = 'on';
    const wait = barrier(10);
    const results = await Promise.all(
      admins.map((a, i) =>
        runTenantAction({
          schema: platformConfigFormSchema,
          minRole: 'buyer',
          handler: gated(savePlatformConfigHandler, wait),
          userId: a.id,
          preferredTenantId: null,
          input: { ...form, max_cpa: String(50 + i) },
          db: app.db,
        }),
      ),
    );
    const won = results.map((r, i) => ({ r, i })).filter((x) => x.r.ok);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 9 }, () => ({ ok: false, message: STALE('meta') })));
    const stored = await one<{ max_cpa: number }>(t.tenantId, "select max_cpa::float8 as max_cpa from ads.platform_configs where tenant_id = $1 and platform = 'meta'", [t.tenantId]);
    expect(stored.max_cpa).toBe(50 + won[0]!.i);
    expect(await n(t.tenantId, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'platform_config'", [t.tenantId])).toBe(1);
  });
});

describe('API keys at once', () => {
  it('10 admins revoking one key: revoked once, one audit row, the others told it already was; 30 creations on a tenant with none: exactly the limit made', async () => {
    const t = await createTeam(owner, 'Race keys');
    const admins = [t.admin, ...(await Promise.all(Array.from({ length: 9 }, () => createUser(owner))))];
    for (const a of admins.slice(1)) await addMembership(owner, t.tenantId, a.id, 'admin');
    const made = await runTenantAction({ ...API_KEY_ACTIONS.create, userId: t.admin.id, preferredTenantId: null, input: { name: 'Nightly' }, db: app.db });
    const key = made.ok ? (made.data as CreatedApiKey) : null;
    expect(key).not.toBeNull();
    const wait = barrier(10);
    const revoked = await Promise.all(
      admins.map((a) =>
        runTenantAction({ ...API_KEY_ACTIONS.revoke, handler: gated(API_KEY_ACTIONS.revoke.handler, wait), userId: a.id, preferredTenantId: null, input: { id: key!.id, confirm: 'revoke' }, db: app.db }),
      ),
    );
    expect(revoked.every((r) => r.ok)).toBe(true);
    const messages = revoked.map((r) => r.message);
    expect(messages.filter((m) => m === '“Nightly” revoked: requests with it are refused from now on.')).toHaveLength(1);
    expect(messages.filter((m) => m === '“Nightly” was revoked already.')).toHaveLength(9);
    expect(await n(t.tenantId, "select 1 from saas.audit_log where tenant_id = $1 and action = 'api_key.revoke'", [t.tenantId])).toBe(1);

    const other = await createTeam(owner, 'Race keys, creations');
    const creations = await Promise.all(
      Array.from({ length: 30 }, (_, i) => runTenantAction({ ...API_KEY_ACTIONS.create, userId: other.admin.id, preferredTenantId: null, input: { name: `Key ${i}` }, db: app.db })),
    );
    expect(creations.filter((r) => r.ok)).toHaveLength(MAX_ACTIVE_KEYS);
    expect(creations.filter((r) => !r.ok).map((r) => r.message)).toEqual(
      Array.from({ length: 30 - MAX_ACTIVE_KEYS }, () => `A tenant has at most ${MAX_ACTIVE_KEYS} active API keys: revoke one first.`),
    );
    expect(await n(other.tenantId, 'select 1 from saas.api_keys where tenant_id = $1 and revoked_at is null', [other.tenantId])).toBe(MAX_ACTIVE_KEYS);
  });
});
