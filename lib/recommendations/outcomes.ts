// Reads of measured outcomes (inside the tenant's transaction): what each
// applied recommendation on a page predicted and what was measured 7 and 14
// days after it was applied (ads_engine.recommendation_outcomes, filled by
// ads_engine.measure_outcomes), and each type's track record
// (ads_engine.track_record). The words are in outcome-format.ts.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import type { NumberStyle } from '@/lib/format/number';
import { TYPE_LABEL } from './labels';
import {
  isOutcomeMetric,
  relativeFromLog,
  TRACK_RECORD_MIN,
  trackRecordSentence,
  typeOrder,
  type HorizonOutcome,
  type RecommendationOutcome,
} from './outcome-format';

/** The most ids one call looks up: a page of the history, with room. */
export const OUTCOME_IDS_MAX = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The ids worth asking for: uuids only (anything else would make the cast fail), each once, at most `max`. */
export function boundIds(ids: readonly unknown[], max = OUTCOME_IDS_MAX): string[] {
  const out = new Set<string>();
  for (const v of ids) {
    if (out.size >= max) break;
    if (typeof v !== 'string') continue;
    const id = v.trim().toLowerCase();
    if (UUID.test(id)) out.add(id);
  }
  return [...out];
}

const num = (v: unknown): number | null => {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

interface HorizonColumns {
  due: string | null;
  measuredAt: Date | null;
  did: unknown;
  lower: unknown;
  upper: unknown;
  entityChange: unknown;
  controlChange: unknown;
  controls: unknown;
  held: boolean | null;
}

function horizonOf(horizon: 7 | 14, c: HorizonColumns): HorizonOutcome | null {
  if (!c.due) return null;
  const measured = c.measuredAt !== null;
  const entityChange = num(c.entityChange);
  const did = num(c.did);
  const lower = relativeFromLog(num(c.lower));
  const upper = relativeFromLog(num(c.upper));
  // The engine has no log estimate for a post value of 0; that entity fell by 100 % (as track_record counts it).
  const realised = !measured ? null : did !== null ? relativeFromLog(did) : entityChange === -1 ? -1 : null;
  return {
    horizon,
    dueDay: c.due,
    measured,
    measuredAt: c.measuredAt ? c.measuredAt.toISOString() : null,
    realised,
    lower: measured && lower !== null && upper !== null ? lower : null,
    upper: measured && lower !== null && upper !== null ? upper : null,
    entityChange: measured ? entityChange : null,
    controlChange: measured ? num(c.controlChange) : null,
    controls: measured ? num(c.controls) : null,
    directionHeld: measured ? c.held : null,
  };
}

/**
 * The outcome of each applied recommendation among `ids` (the tenant's own only; other ids, statuses and
 * non-uuids are left out): its prediction and both horizons, measured or due. An applied one without an
 * outcome row comes back with `recorded: false` (nothing to measure).
 */
export async function outcomesFor(trx: Tx, tenantId: string, ids: readonly string[]): Promise<RecommendationOutcome[]> {
  const wanted = boundIds(ids);
  if (wanted.length === 0) return [];
  const rows = await trx
    .selectFrom('ads.optimization_recommendations as o')
    .leftJoin('ads_engine.recommendation_outcomes as ro', (j) =>
      j.onRef('ro.tenant_id', '=', 'o.tenant_id').onRef('ro.recommendation_id', '=', 'o.id').on('ro.tenant_id', '=', tenantId),
    )
    .where('o.tenant_id', '=', tenantId)
    .where('o.status', '=', 'applied')
    .where('o.id', 'in', wanted)
    .select([
      'o.id',
      'ro.recommendation_id',
      'ro.metric',
      'ro.expected_change',
      'ro.horizon_days',
      'ro.prediction_source',
      'ro.applied_day',
      sql<string | null>`to_char(ro.applied_day + 7, 'YYYY-MM-DD')`.as('due_7'),
      sql<string | null>`to_char(ro.applied_day + 14, 'YYYY-MM-DD')`.as('due_14'),
      'ro.measured_at_7',
      'ro.did_7',
      'ro.did_lower_7',
      'ro.did_upper_7',
      'ro.entity_change_7',
      'ro.control_change_7',
      'ro.controls_7',
      'ro.direction_held_7',
      'ro.measured_at_14',
      'ro.did_14',
      'ro.did_lower_14',
      'ro.did_upper_14',
      'ro.entity_change_14',
      'ro.control_change_14',
      'ro.controls_14',
      'ro.direction_held_14',
    ])
    .execute();

  const byId = new Map(
    rows.map((r) => {
      const recorded = r.recommendation_id !== null;
      const out: RecommendationOutcome = {
        id: r.id,
        recorded,
        metric: isOutcomeMetric(r.metric) ? r.metric : null,
        expectedChange: num(r.expected_change),
        horizonDays: num(r.horizon_days),
        predictionSource: r.prediction_source === 'evidence' || r.prediction_source === 'default' ? r.prediction_source : null,
        appliedDay: r.applied_day ?? null,
        h7: horizonOf(7, {
          due: r.due_7,
          measuredAt: r.measured_at_7,
          did: r.did_7,
          lower: r.did_lower_7,
          upper: r.did_upper_7,
          entityChange: r.entity_change_7,
          controlChange: r.control_change_7,
          controls: r.controls_7,
          held: r.direction_held_7,
        }),
        h14: horizonOf(14, {
          due: r.due_14,
          measuredAt: r.measured_at_14,
          did: r.did_14,
          lower: r.did_lower_14,
          upper: r.did_upper_14,
          entityChange: r.entity_change_14,
          controlChange: r.control_change_14,
          controls: r.controls_14,
          held: r.direction_held_14,
        }),
      };
      return [r.id, out] as const;
    }),
  );
  // In the order asked for (the page's order).
  return wanted.flatMap((id) => byId.get(id) ?? []);
}

export interface TrackRecordLine {
  type: string;
  label: string;
  /** n: measured outcomes with a direction. */
  measured: number;
  /** k: direction held, round(rate x n). */
  held: number;
  /** k / n as the engine rounds it (4 decimals). */
  heldRate: number | null;
  /** Median of realised over predicted change. */
  realisedOverPredicted: number | null;
  /** What the engine multiplies the type's confidence by (1 under 5 measured). */
  confidenceFactor: number | null;
  /** Whether there are enough (5) for the engine to use it. */
  judged: boolean;
  sentence: string;
}

/** Each type's track record, from ads_engine.track_record: types with no measured outcome have no line. */
export async function trackRecord(trx: Tx, tenantId: string, style: Pick<NumberStyle, 'locale'> = { locale: 'en-GB' }): Promise<TrackRecordLine[]> {
  const r = await sql<{
    recommendation_type: string;
    measured: number;
    direction_held_rate: unknown;
    realised_over_predicted: unknown;
    confidence_factor: unknown;
  }>`select t.recommendation_type, t.measured, t.direction_held_rate, t.realised_over_predicted, t.confidence_factor
     from ads_engine.track_record(${tenantId}::uuid) t`.execute(trx);
  return r.rows
    .map((row) => {
      const measured = Number(row.measured);
      const rate = num(row.direction_held_rate);
      // The engine returns k / n rounded to 4 places: k comes back exact for any n below 5,000.
      const held = rate === null ? 0 : Math.round(rate * measured);
      const realisedOverPredicted = num(row.realised_over_predicted);
      return {
        type: row.recommendation_type,
        label: TYPE_LABEL[row.recommendation_type] ?? row.recommendation_type,
        measured,
        held,
        heldRate: rate,
        realisedOverPredicted,
        confidenceFactor: num(row.confidence_factor),
        judged: measured >= TRACK_RECORD_MIN,
        sentence: trackRecordSentence({ type: row.recommendation_type, measured, held, realisedOverPredicted }, style),
      };
    })
    .sort((a, b) => typeOrder(a.type, b.type));
}
