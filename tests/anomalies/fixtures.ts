// Fixtures of the anomaly board tests: anomalies written as the engine writes
// them (committed, by the owner inside the tenant), and reads by the owner that
// the assertions compare with.
import type pg from 'pg';
import { inTenant } from '../helpers/db';

export interface NewAnomaly {
  platform?: string;
  level?: string;
  entity: string;
  name?: string;
  campaign?: string | null;
  day?: string;
  metric?: string;
  type?: string;
  severity?: string;
  status?: string;
  baseline?: number | null;
  actual?: number | null;
  money?: number | null;
  score?: number | null;
  details?: Record<string, unknown>;
  /** created_at as an offset from now, e.g. '-2 hours'. */
  created?: string;
  /** resolved_at as an offset from now (with status resolved). */
  resolved?: string;
}

export const DAY = '2025-03-31';

export async function insertAnomaly(owner: pg.Pool, tenant: string, a: NewAnomaly): Promise<string> {
  return inTenant(owner, tenant, async (c) => {
    const r = await c.query<{ id: string }>(
      `insert into ads.anomalies (tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
                                  baseline_value, actual_value, deviation_percent, anomaly_score, money_at_stake, severity, status, details,
                                  created_at, resolved_at)
       values ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11,
               case when $10::numeric > 0 then round(($11::numeric - $10::numeric) / $10::numeric * 100, 2) end,
               $12, $13, $14::ads.severity_level, $15, $16::jsonb, now() + $17::interval,
               case when $18::text is null then null else now() + $18::interval end)
       returning id`,
      [
        tenant,
        a.platform ?? 'meta',
        a.level ?? 'campaign',
        a.entity,
        a.name ?? `Campaign ${a.entity}`,
        a.campaign === undefined ? (a.level && a.level !== 'campaign' ? null : a.entity) : a.campaign,
        a.day ?? DAY,
        a.metric ?? 'cpa',
        a.type ?? 'spike',
        a.baseline === undefined ? 20 : a.baseline,
        a.actual === undefined ? 40 : a.actual,
        a.score ?? 3.2,
        a.money === undefined ? 100 : a.money,
        a.severity ?? 'medium',
        a.status ?? 'active',
        JSON.stringify(a.details ?? { test: 'nb', p_value: 0.0004, p_threshold: 0.002, expected: 12, observed: 6, direction: 'lower', observed_metric: 'conversions', exposure_metric: 'spend', day: { spend: 240 } }),
        a.created ?? '0 seconds',
        a.resolved ?? (a.status === 'resolved' ? '0 seconds' : null),
      ],
    );
    return r.rows[0]!.id;
  });
}

export async function anomalyState(owner: pg.Pool, tenant: string, id: string) {
  return inTenant(owner, tenant, async (c) => {
    const r = await c.query<{ status: string; resolved_at: Date | null; resolved_by: string | null; resolution_note: string | null }>(
      'select status, resolved_at, resolved_by::text as resolved_by, resolution_note from ads.anomalies where tenant_id = $1 and id = $2',
      [tenant, id],
    );
    return r.rows[0] ?? null;
  });
}

export async function events(owner: pg.Pool, tenant: string, id: string) {
  return inTenant(owner, tenant, async (c) => {
    const r = await c.query<{ action: string; from_status: string; to_status: string; note: string | null; actor_user_id: string; snoozed_until: Date | null }>(
      'select action, from_status, to_status, note, actor_user_id::text as actor_user_id, snoozed_until from ads_engine.anomaly_events where tenant_id = $1 and anomaly_id = $2 order by id',
      [tenant, id],
    );
    return r.rows;
  });
}

export async function audits(owner: pg.Pool, tenant: string, id: string) {
  const r = await owner.query<{ action: string; actor_user_id: string; before: Record<string, unknown>; after: Record<string, unknown> }>(
    `select action, actor_user_id::text as actor_user_id, before, after from saas.audit_log
     where tenant_id = $1 and entity_type = 'anomaly' and entity_id = $2 order by id`,
    [tenant, id],
  );
  return r.rows;
}
