// Reads of the recommendation queue (inside the tenant's transaction): the
// pending ones to decide, most urgent first, each with the pending ones it
// contradicts; and the decided ones, newest first.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import type { PriorityLevel } from '@/lib/db/schema.generated';
import { decidedFilterSchema, pendingFilterSchema, type DecidedFilter, type DecidedStatus, type PendingFilter } from './schema';

export interface PendingRecommendation {
  id: string;
  type: string;
  platform: string | null;
  level: string;
  entityId: string | null;
  entityName: string | null;
  /** The campaign it is about (its own id for a campaign). */
  campaignId: string | null;
  description: string;
  currentValue: number | null;
  recommendedValue: number | null;
  estimatedImpact: number | null;
  impactUnit: string | null;
  /** 0..1. */
  confidence: number;
  priority: PriorityLevel;
  createdAt: string;
  expiresAt: string;
  /**
   * Other pending recommendations of the same campaign (same platform) with the
   * opposite intent: a budget increase against a decrease or a pause.
   */
  conflictsWith: string[];
  /** The figures and the test it was decided on (the engine's jsonb: docs/engine.md). */
  evidence: Record<string, unknown>;
}

export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
  pages: number;
}

const iso = (d: Date) => d.toISOString();

/** The columns both lists select, as both lists show them. */
function commonFields(r: {
  id: string;
  recommendation_type: string;
  platform: string | null;
  level: string;
  entity_id: string | null;
  entity_name: string | null;
  campaign_key: string | null;
  description: string;
  current_value: number | null;
  recommended_value: number | null;
}) {
  return {
    id: r.id,
    type: r.recommendation_type,
    platform: r.platform,
    level: r.level,
    entityId: r.entity_id,
    entityName: r.entity_name,
    campaignId: r.campaign_key,
    description: r.description,
    currentValue: r.current_value,
    recommendedValue: r.recommended_value,
  };
}
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

function pageOf(total: number, page: number, pageSize: number) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return { pages, page: Math.min(page, pages) };
}

/** The campaign a row is about: its own id at campaign level, its parent's below (per alias, written out). */
const CAMPAIGN_OF = {
  o: sql<string | null>`(case when o.level = 'campaign' then coalesce(o.entity_id, o.campaign_id) else o.campaign_id end)`,
  x: sql<string | null>`(case when x.level = 'campaign' then coalesce(x.entity_id, x.campaign_id) else x.campaign_id end)`,
} as const;
const campaignOf = (alias: keyof typeof CAMPAIGN_OF) => CAMPAIGN_OF[alias];

/** Pending, unexpired recommendations for the queue: critical first, then the surest, then the oldest. */
export async function listPending(trx: Tx, tenantId: string, filter: PendingFilter = {}): Promise<Page<PendingRecommendation>> {
  // Parsed here too: the bounds hold whoever calls.
  const f = pendingFilterSchema.parse(filter);
  let q = trx
    .selectFrom('ads.optimization_recommendations as o')
    .where('o.tenant_id', '=', tenantId)
    .where('o.status', '=', 'pending')
    .where('o.expires_at', '>', sql<Date>`now()`);
  if (f.type) q = q.where('o.recommendation_type', '=', f.type);
  if (f.platform) q = q.where('o.platform', '=', f.platform);
  if (f.priority) q = q.where('o.priority', '=', f.priority);
  if (f.level) q = q.where('o.level', '=', f.level);
  if (f.q) {
    const p = likePattern(f.q);
    q = q.where((eb) => eb.or([eb('o.entity_name', 'ilike', p), eb('o.description', 'ilike', p), eb('o.entity_id', 'ilike', p)]));
  }

  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const { page, pages } = pageOf(Number(total), f.page, f.pageSize);
  const rows = await q
    .select([
      'o.id',
      'o.recommendation_type',
      'o.platform',
      'o.level',
      'o.entity_id',
      'o.entity_name',
      campaignOf('o').as('campaign_key'),
      'o.description',
      'o.current_value',
      'o.recommended_value',
      'o.estimated_impact',
      'o.impact_unit',
      'o.confidence_score',
      'o.priority',
      'o.created_at',
      'o.expires_at',
      'o.evidence',
      sql<string[]>`coalesce((
        select array_agg(x.id::text order by x.id)
        from ads.optimization_recommendations x
        where x.tenant_id = o.tenant_id and x.status = 'pending' and x.expires_at > now() and x.id <> o.id
          and x.platform = o.platform and ${campaignOf('x')} = ${campaignOf('o')}
          and ((o.recommendation_type = 'budget_increase' and x.recommendation_type in ('budget_decrease', 'pause'))
            or (o.recommendation_type in ('budget_decrease', 'pause') and x.recommendation_type = 'budget_increase'))
      ), '{}'::text[])`.as('conflicts_with'),
    ])
    // priority is the enum ads.priority_level: desc is critical, high, medium, low.
    .orderBy('o.priority', 'desc')
    .orderBy('o.confidence_score', 'desc')
    .orderBy('o.created_at', 'asc')
    .orderBy('o.id', 'asc')
    .limit(f.pageSize)
    .offset((page - 1) * f.pageSize)
    .execute();

  return {
    rows: rows.map((r) => ({
      ...commonFields(r),
      estimatedImpact: r.estimated_impact,
      impactUnit: r.impact_unit,
      confidence: Number(r.confidence_score),
      priority: r.priority,
      createdAt: iso(r.created_at),
      expiresAt: iso(r.expires_at),
      conflictsWith: r.conflicts_with,
      evidence: (r.evidence ?? {}) as Record<string, unknown>,
    })),
    total: Number(total),
    page,
    pageSize: f.pageSize,
    pages,
  };
}

export interface DecidedRecommendation {
  id: string;
  type: string;
  platform: string | null;
  level: string;
  entityId: string | null;
  entityName: string | null;
  campaignId: string | null;
  description: string;
  currentValue: number | null;
  recommendedValue: number | null;
  status: DecidedStatus;
  /** When it was applied, dismissed, withdrawn, or ran out (expired). */
  decidedAt: string | null;
  /** Who: a member (id and name), the optimiser (auto-apply), or null (expired, withdrawn by the engine). */
  decidedBy: { id: string | null; label: string } | null;
  /** The dismiss reason or the withdrawal reason. */
  reason: string | null;
  createdAt: string;
  expiresAt: string;
}

// The columns each status is decided by (a closed list, written out: never from input).
const NO_USER = sql<string | null>`null::uuid`;
const NO_REASON = sql<string | null>`null::text`;
const DECIDED = {
  applied: { at: sql<Date | null>`o.applied_at`, by: sql<string | null>`o.applied_by`, reason: NO_REASON },
  dismissed: { at: sql<Date | null>`o.dismissed_at`, by: sql<string | null>`o.dismissed_by`, reason: sql<string | null>`o.dismiss_reason` },
  expired: { at: sql<Date | null>`o.expires_at`, by: null, reason: NO_REASON },
  withdrawn: { at: sql<Date | null>`o.withdrawn_at`, by: null, reason: sql<string | null>`o.withdrawal_reason` },
} as const;

/** Decided (or run out) recommendations of one status, newest decision first; decidedBy keeps a member's own. */
export async function listDecided(trx: Tx, tenantId: string, filter: DecidedFilter = {}): Promise<Page<DecidedRecommendation>> {
  const f = decidedFilterSchema.parse(filter);
  const cols = DECIDED[f.status];
  const { at, reason } = cols;
  const by = cols.by ?? NO_USER;

  let q = trx.selectFrom('ads.optimization_recommendations as o').where('o.tenant_id', '=', tenantId);
  q =
    f.status === 'expired'
      ? // A pending one past its expiry has run out too, before maintenance marks it.
        q.where((eb) => eb.or([eb('o.status', '=', 'expired'), eb.and([eb('o.status', '=', 'pending'), eb('o.expires_at', '<=', sql<Date>`now()`)])]))
      : q.where('o.status', '=', f.status);
  if (f.decidedBy) q = cols.by ? q.where(cols.by, '=', f.decidedBy) : q.where(sql<boolean>`false`);

  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const { page, pages } = pageOf(Number(total), f.page, f.pageSize);
  const rows = await q
    .leftJoin('saas.users as u', (j) => j.on('u.id', '=', by))
    .select([
      'o.id',
      'o.recommendation_type',
      'o.platform',
      'o.level',
      'o.entity_id',
      'o.entity_name',
      campaignOf('o').as('campaign_key'),
      'o.description',
      'o.current_value',
      'o.recommended_value',
      'o.created_at',
      'o.expires_at',
      at.as('decided_at'),
      by.as('decided_by'),
      reason.as('reason'),
      'u.name as user_name',
      'u.email as user_email',
    ])
    .orderBy(at, sql`desc nulls last`)
    .orderBy('o.id')
    .limit(f.pageSize)
    .offset((page - 1) * f.pageSize)
    .execute();

  return {
    rows: rows.map((r) => ({
      ...commonFields(r),
      status: f.status,
      decidedAt: r.decided_at ? iso(r.decided_at) : null,
      decidedBy:
        f.status === 'applied' && !r.decided_by
          ? { id: null, label: 'the optimiser' }
          : r.decided_by
            ? { id: r.decided_by, label: r.user_name?.trim() || r.user_email || 'a former member' }
            : null,
      reason: r.reason,
      createdAt: iso(r.created_at),
      expiresAt: iso(r.expires_at),
    })),
    total: Number(total),
    page,
    pageSize: f.pageSize,
    pages,
  };
}

/** The database's clock in epoch milliseconds: expiries were written by it, so time left is counted by it. */
export async function databaseNow(trx: Tx): Promise<number> {
  const r = await sql<{ ms: number }>`select (extract(epoch from now()) * 1000)::float8 as ms`.execute(trx);
  return r.rows[0]!.ms;
}
