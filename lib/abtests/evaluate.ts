// The daily loop's reading of every A/B test of a tenant, in the loop's own tenant transaction (after
// ads_engine.run_daily_loop, so a test it has just completed is read on its last day). Each test is
// read by readTest, the function the page uses, and what it computes is written: the arms' totals,
// the significance, the latched winner, the loop's state and, for entered totals, the day's look.
// Not server-only: the scripts reach it through lib/engine/loop.ts.
import { sql } from 'kysely';
import type { Tx } from '../db/pool';
import type { Json } from '../db/schema.generated';
import { isDayString } from '../format/time';
import { loadAbTests, loadArmDailyMany, readTest, armSource, type AbTestRecord, type TestReading } from './data';
import { toPerformanceJson } from './model';

export interface AbTestsEvaluation {
  /** Tests read: the running ones and the completed ones without a winner yet. */
  evaluated: number;
  /** Tests whose winner (A or B) was latched by this run. */
  winners: number;
  /** Completed tests given winner 'none' by this run: no winner was ever reached. */
  completedWithoutWinner: number;
  /** Tests whose entered totals cannot be read: their state says why, nothing else about them changed. */
  invalid: number;
}

/** ads_engine.ab_test_state.message is bounded. */
const MESSAGE_MAX = 1000;

/** numeric columns take finite numbers; an unbounded interval end is stored as unknown. */
const finite = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

interface Write {
  test: AbTestRecord;
  r: TestReading;
  winner: 'A' | 'B' | 'none' | null;
}

/**
 * Reads every running test, and every completed one whose winner is still NULL, as of `asOf` (the
 * loop's day), and writes the result. Draft, paused and cancelled tests and completed tests with a
 * winner are not touched. A few statements whatever the number of tests.
 */
export async function evaluateAbTests(trx: Tx, tenantId: string, asOf: string): Promise<AbTestsEvaluation> {
  if (!isDayString(asOf)) throw new Error('evaluateAbTests: asOf must be a day as YYYY-MM-DD');
  const counts: AbTestsEvaluation = { evaluated: 0, winners: 0, completedWithoutWinner: 0, invalid: 0 };

  // The rows this run writes, locked first: a person completing a test or declaring its winner at the
  // same moment waits for the loop (or the loop for them), and the loop then reads what they wrote.
  const locked = await trx
    .selectFrom('ads.ab_tests')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where((eb) => eb.or([eb('status', '=', 'running'), eb.and([eb('status', '=', 'completed'), eb('winner', 'is', null)])]))
    .forUpdate()
    .execute();
  if (locked.length === 0) return counts;
  const tests = await loadAbTests(trx, tenantId, { ids: locked.map((l) => l.id), unsettled: true });
  if (tests.length === 0) return counts;

  const withIds = tests.filter((t) => t.variants.length > 0);
  const arms = await loadArmDailyMany(trx, tenantId, withIds, asOf);

  const writes: Write[] = [];
  const invalid: { test: AbTestRecord; r: TestReading }[] = [];
  for (const test of tests) {
    const r = readTest(test, arms.get(test.id) ?? { a: [], b: [] }, [], asOf);
    counts.evaluated++;
    if (r.invalid !== null) {
      counts.invalid++;
      invalid.push({ test, r });
      continue;
    }
    // A winner once written stays (readTest keeps it); a completed test that never reached one gets
    // 'none' (and a 'none' written by hand is kept until a winner is reached).
    const winner = r.reading.winner ?? (test.status === 'completed' || test.winner === 'none' ? 'none' : null);
    if ((winner === 'A' || winner === 'B') && test.winner !== winner) counts.winners++;
    if (winner === 'none' && test.winner === null) counts.completedWithoutWinner++;
    writes.push({ test, r, winner });
  }

  // The design is fixed from the first reading: a running test without one gets the defaults, and a
  // design left unfrozen (a draft started from psql) is frozen as it stands. The reading above used
  // exactly these figures (freezing changes only frozen_at). A test whose totals cannot be read has
  // no reading yet, so its design is left as it is.
  const toFreeze = writes.map((w) => w.test).filter((t) => t.status === 'running' && t.design.frozenAt === null);
  if (toFreeze.length > 0) {
    await trx
      .insertInto('ads_engine.ab_test_designs')
      .values(toFreeze.map((t) => ({ tenant_id: tenantId, test_id: t.id, frozen_at: sql<Date>`now()` })))
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'test_id'])
          .doUpdateSet({ frozen_at: sql<Date>`now()` })
          .where('ads_engine.ab_test_designs.frozen_at', 'is', null),
      )
      .execute();
  }

  if (writes.length > 0) {
    // Arms on platform ids: their totals through the reading day. Entered arms stay as entered (null).
    const payload = writes.map(({ test, r, winner }) => {
      const src = armSource(test);
      return {
        id: test.id,
        pa: src.a === 'platform_ids' ? toPerformanceJson(r.totalsA) : null,
        pb: src.b === 'platform_ids' ? toPerformanceJson(r.totalsB) : null,
        sig: r.reading.significance,
        winner,
      };
    });
    const changes = sql<{ id: string; pa: Json; pb: Json; sig: number | null; winner: string | null }>`(
      select x.id, x.pa, x.pb, x.sig, x.winner
      from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(id uuid, pa jsonb, pb jsonb, sig numeric, winner text))`.as('c');
    await trx
      .updateTable('ads.ab_tests as t')
      .from(changes)
      .set((eb) => ({
        performance_a: eb.fn.coalesce(eb.ref('c.pa'), eb.ref('t.performance_a')),
        performance_b: eb.fn.coalesce(eb.ref('c.pb'), eb.ref('t.performance_b')),
        statistical_significance: eb.ref('c.sig'),
        winner: eb.ref('c.winner'),
        updated_at: sql<Date>`now()`,
      }))
      .where('t.tenant_id', '=', tenantId)
      .whereRef('t.id', '=', 'c.id')
      // a reading that changes nothing leaves the row (and its updated_at) alone
      .where((eb) =>
        eb.or([
          eb('t.performance_a', 'is distinct from', eb.fn.coalesce(eb.ref('c.pa'), eb.ref('t.performance_a'))),
          eb('t.performance_b', 'is distinct from', eb.fn.coalesce(eb.ref('c.pb'), eb.ref('t.performance_b'))),
          eb('t.statistical_significance', 'is distinct from', eb.ref('c.sig')),
          eb('t.winner', 'is distinct from', eb.ref('c.winner')),
        ]),
      )
      .execute();

    // Entered totals leave no days behind: the reading of the day is kept as a look (the chart's history).
    // A test not started by the day (its start date ahead) has no look for it.
    const looks = writes.flatMap(({ test, r }) => {
      const look = r.looks[r.looks.length - 1];
      return r.source !== 'platform_ids' && look !== undefined && look.day === r.day ? [{ test, r, look }] : [];
    });
    if (looks.length > 0) {
      await trx
        .insertInto('ads_engine.ab_test_looks')
        .values(
          looks.map(({ test, r, look }) => {
            return {
              tenant_id: tenantId,
              test_id: test.id,
              look_day: r.day,
              performance_a: JSON.stringify(toPerformanceJson(r.totalsA)),
              performance_b: JSON.stringify(toPerformanceJson(r.totalsB)),
              lift: finite(look.lift),
              lower: finite(look.lower),
              upper: finite(look.upper),
              seq_lower: finite(look.seqLower),
              seq_upper: finite(look.seqUpper),
              p_value: finite(look.pValue),
              p_seq: finite(look.pSeq),
              decision: look.decision,
            };
          }),
        )
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'test_id', 'look_day']).doUpdateSet((eb) => ({
            performance_a: eb.ref('excluded.performance_a'),
            performance_b: eb.ref('excluded.performance_b'),
            lift: eb.ref('excluded.lift'),
            lower: eb.ref('excluded.lower'),
            upper: eb.ref('excluded.upper'),
            seq_lower: eb.ref('excluded.seq_lower'),
            seq_upper: eb.ref('excluded.seq_upper'),
            p_value: eb.ref('excluded.p_value'),
            p_seq: eb.ref('excluded.p_seq'),
            decision: eb.ref('excluded.decision'),
          })),
        )
        .execute();
    }
  }

  // Every test read gets its state: the current analysis' decision and message (for unreadable totals,
  // why), and the running minimum and winner day (unchanged from the prior state when unreadable).
  await trx
    .insertInto('ads_engine.ab_test_state')
    .values(
      [...writes, ...invalid].map(({ test, r }) => ({
        tenant_id: tenantId,
        test_id: test.id,
        as_of: r.day,
        decision: r.analysis.decision.status,
        message: r.analysis.decision.message.slice(0, MESSAGE_MAX),
        min_p_seq: r.reading.minPSeq,
        winner_day: r.reading.winnerDay,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'test_id']).doUpdateSet((eb) => ({
        as_of: eb.ref('excluded.as_of'),
        decision: eb.ref('excluded.decision'),
        message: eb.ref('excluded.message'),
        min_p_seq: eb.ref('excluded.min_p_seq'),
        winner_day: eb.ref('excluded.winner_day'),
        evaluated_at: sql<Date>`now()`,
      })),
    )
    .execute();

  return counts;
}
