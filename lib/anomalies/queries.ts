// Reads of the anomaly board, in the tenant's transaction: the columns (with
// the incident grouping of docs/anomalies.md), their counts, the feedback
// figures, one anomaly's detail and history, and the shell's banner count.
// The workflow tables (db/migrations/011) are not in the generated schema
// yet: their queries are typed by hand.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { campaignHref } from '@/lib/performance/queries';
import {
  CARDS_DEFAULT,
  CARDS_MORE,
  type AnomalyStatus,
  type BoardFilter,
  type Severity,
  STATUSES,
  incidentKeyOf,
  parseIncidentKey,
  type IncidentKey,
} from './schema';

/** Resolved anomalies stay on the board this long after they were resolved; the daily maintenance then deletes them. */
export const RESOLVED_DAYS = 30;
/** Feedback figures count anomalies of the last this many days. */
export const FEEDBACK_DAYS = 90;
/** The most cards readColumn returns when it is given no limit of its own. */
const COLUMN_CARDS_MAX = 1000;

export interface AnomalyRow {
  id: string;
  platform: string;
  level: string;
  entityId: string;
  entityName: string;
  campaignId: string | null;
  day: string;
  metric: string;
  type: string;
  baseline: number | null;
  actual: number | null;
  deviationPct: number | null;
  score: number | null;
  money: number | null;
  severity: Severity;
  status: AnomalyStatus;
  createdAt: string;
  resolvedAt: string | null;
  resolutionNote: string | null;
  /** When the snooze of an active anomaly ends (in the future), or null. */
  snoozedUntil: string | null;
  /** Seconds since it was raised (now, by the database's clock). */
  ageSeconds: number;
  /** The engine's own platform-wide incident row (entity platform:<name>). */
  platformRow: boolean;
  /** Campaign ids the engine's platform row names (details.members). */
  engineMembers: string[];
  /** Fewer conversions, clicks, value or spend than expected on the day (see docs/anomalies.md). */
  falls: boolean;
  /** platform|level|day of the board incident it belongs to, or null. */
  incidentKey: string | null;
  /** Where its entity's performance detail opens (the campaign; an ad set's campaign), or null for a platform row. */
  href: string | null;
  details: Record<string, unknown>;
}

export type BoardCard =
  | { kind: 'single'; key: string; anomaly: AnomalyRow }
  | {
      kind: 'incident';
      key: string;
      platform: string;
      level: string;
      day: string;
      members: AnomalyRow[];
      severity: Severity;
      money: number;
      /** Distinct entities among the members. */
      entities: number;
      /** Entities of the platform and level with delivery on the day or the day before. */
      activeEntities: number;
    };

export interface BoardColumn {
  status: AnomalyStatus;
  /** Anomalies matching the filters (snoozed ones apart for Active). */
  count: number;
  /** Active only: matching anomalies that are snoozed (hidden unless shown). */
  snoozed: number;
  cards: BoardCard[];
  /** Cards beyond the limit shown. */
  hiddenCards: number;
  limit: number;
}

export interface Feedback {
  platform: string;
  metric: string;
  type: string;
  dismissed: number;
  total: number;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 3, high: 2, medium: 1, low: 0 };

type RawRow = {
  id: string;
  platform: string;
  level: string;
  entity_id: string;
  entity_name: string | null;
  campaign_id: string | null;
  day: string;
  metric_name: string;
  anomaly_type: string;
  baseline_value: number | null;
  actual_value: number | null;
  deviation_percent: number | null;
  anomaly_score: number | null;
  money_at_stake: number | null;
  severity: Severity;
  status: AnomalyStatus;
  created_at: string;
  resolved_at: string | null;
  resolution_note: string | null;
  snoozed_until: string | null;
  age_seconds: number;
  platform_row: boolean;
  falls: boolean;
  incident_key: string | null;
  details: Record<string, unknown> | null;
};

function toRow(r: RawRow): AnomalyRow {
  const details = r.details ?? {};
  const members = Array.isArray(details.members) ? details.members.filter((m): m is string => typeof m === 'string') : [];
  const campaign = r.level === 'campaign' ? r.entity_id : r.campaign_id;
  return {
    id: r.id,
    platform: r.platform,
    level: r.level,
    entityId: r.entity_id,
    entityName: r.entity_name ?? r.entity_id,
    campaignId: r.campaign_id,
    day: r.day,
    metric: r.metric_name,
    type: r.anomaly_type,
    baseline: r.baseline_value,
    actual: r.actual_value,
    deviationPct: r.deviation_percent,
    score: r.anomaly_score,
    money: r.money_at_stake,
    severity: r.severity,
    status: r.status,
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
    resolutionNote: r.resolution_note,
    snoozedUntil: r.snoozed_until,
    ageSeconds: r.age_seconds,
    platformRow: r.platform_row,
    engineMembers: members,
    falls: r.falls,
    incidentKey: r.incident_key,
    href: r.platform_row || !campaign ? null : campaignHref(r.platform, campaign),
    details,
  };
}

/** A fall (alias a): fewer conversions, clicks, value or spend than expected (CPA and CPC rise when their counts fall). */
const FALLS = sql`(a.anomaly_type = 'tracking_loss'
   or (a.anomaly_type = 'drop' and a.metric_name not in ('cpa', 'cpc'))
   or (a.anomaly_type = 'spike' and a.metric_name in ('cpa', 'cpc')))`;

/** The select list of one anomaly row (alias a, snooze s), shared by the board and the detail. */
const ROW_COLUMNS = sql`
  a.id::text as id, a.platform::text as platform, a.level::text as level, a.entity_id, a.entity_name, a.campaign_id,
  to_char(a.day, 'YYYY-MM-DD') as day, a.metric_name, a.anomaly_type,
  a.baseline_value::float8 as baseline_value, a.actual_value::float8 as actual_value,
  a.deviation_percent::float8 as deviation_percent, a.anomaly_score::float8 as anomaly_score,
  a.money_at_stake::float8 as money_at_stake, a.severity::text as severity, a.status,
  to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as created_at,
  to_char(a.resolved_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as resolved_at,
  a.resolution_note,
  to_char(s.snoozed_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as snoozed_until,
  greatest(0, extract(epoch from now() - a.created_at))::float8 as age_seconds,
  (a.entity_id like 'platform:%' and a.details ->> 'scope' = 'platform') as platform_row,
  ${FALLS} as falls,
  a.details`;

/** The snooze of an active anomaly that has not ended yet. */
const SNOOZE_JOIN = sql`
  left join ads_engine.anomaly_snoozes s
    on s.tenant_id = a.tenant_id and s.anomaly_id = a.id and a.status = 'active' and s.snoozed_until > now()`;

/**
 * Resolved anomalies resolved in the last RESOLVED_DAYS days only; the others of every status. The same rule as the
 * daily maintenance's (ads_engine.run_maintenance deletes resolved anomalies whose resolved_at is older).
 */
const onBoard = sql`(a.status <> 'resolved' or a.resolved_at > now() - make_interval(days => ${RESOLVED_DAYS}::int))`;

/** The filters of the URL on a row of `keyed` (alias k): true when it matches all of them. */
function matchesSql(f: Partial<BoardFilter>) {
  return sql`(true
    ${f.severity ? sql`and k.severity = ${f.severity}::ads.severity_level` : sql``}
    ${f.platform ? sql`and k.platform = ${f.platform}` : sql``}
    ${f.metric ? sql`and k.metric_name = ${f.metric}` : sql``}
    ${f.type ? sql`and k.anomaly_type = ${f.type}` : sql``}
    ${f.level ? sql`and k.level = ${f.level}` : sql``})`;
}

/**
 * The CTEs base, grp, act, inc and keyed: one column's anomalies (unfiltered: the incidents are worked out on
 * the whole column), each with the board incident it belongs to (keyed.incident_key). The rule
 * (docs/anomalies.md): on one platform, level and day, the column's falls (not the engine's platform row) of 3
 * or more distinct entities, or of 2 or more that are at least half of the platform's entities of that level
 * with delivery on the day or the day before; never where the engine wrote its own platform incident for that
 * platform and day (it is the incident, and it already explains the conversion alarms of the day). `scope`
 * narrows it to one platform, level and day (the same incidents there: the rule looks at nothing else).
 */
function keyedColumn(tenantId: string, status: AnomalyStatus, showSnoozed: boolean, scope: IncidentKey | null) {
  return sql`
    base as (
      select a.id, a.platform::text as platform, a.level::text as level, a.entity_id, a.day as d, a.severity,
             a.metric_name, a.anomaly_type, coalesce(a.money_at_stake, 0) as money,
             (a.entity_id like 'platform:%' and a.details ->> 'scope' = 'platform') as platform_row,
             ${FALLS} as falls
      from ads.anomalies a ${SNOOZE_JOIN}
      where a.tenant_id = ${tenantId} and a.status = ${status} and ${onBoard}
        and (${showSnoozed}::boolean or s.anomaly_id is null)
        ${scope ? sql`and a.platform = ${scope.platform}::ads.platform and a.level = ${scope.level}::ads.entity_level and a.day = ${scope.day}::date` : sql``}
    ),
    grp as (
      select c.platform, c.level, c.d, count(distinct c.entity_id)::int as n
      from base c where c.falls and not c.platform_row
      group by c.platform, c.level, c.d
    ),
    act as (
      select g.platform, g.level, g.d, count(distinct m.platform_id)::int as n
      from grp g
      join ads.metrics_daily m
        on m.tenant_id = ${tenantId} and m.platform = g.platform::ads.platform and m.level = g.level::ads.entity_level
       and m.day between g.d - 1 and g.d and (m.spend > 0 or m.impressions > 0)
      group by g.platform, g.level, g.d
    ),
    inc as (
      select g.platform, g.level, g.d
      from grp g left join act x on x.platform = g.platform and x.level = g.level and x.d = g.d
      where (g.n >= 3 or (g.n >= 2 and coalesce(x.n, 0) > 0 and 2 * g.n >= x.n))
        and not exists (select 1 from ads.anomalies e
                        where e.tenant_id = ${tenantId} and e.platform = g.platform::ads.platform and e.day = g.d
                          and e.entity_id like 'platform:%' and e.details ->> 'scope' = 'platform')
    ),
    keyed as (
      select b.*,
             case when b.falls and not b.platform_row and i.platform is not null
                  then b.platform || '|' || b.level || '|' || to_char(b.d, 'YYYY-MM-DD') end as incident_key
      from base b left join inc i on i.platform = b.platform and i.level = b.level and i.d = b.d
    )`;
}

/**
 * A column's cards as rows: the anomalies matching the filters, and every member of an incident (worked out on
 * the whole column) with at least one member matching them; the first `limit` cards in the board's order (most
 * severe, then most money at stake, then the latest day), counted in SQL, so a filter finds what it matches
 * however large the column. Returns the rows of those cards and how many cards there are in all.
 */
export async function readColumnCards(
  trx: Tx,
  tenantId: string,
  status: AnomalyStatus,
  showSnoozed: boolean,
  f: Partial<BoardFilter>,
  limit: number,
): Promise<{ rows: AnomalyRow[]; totalCards: number }> {
  const r = await sql<RawRow & { total_cards: number }>`
    with ${keyedColumn(tenantId, status, showSnoozed, null)},
    hit as (select k.*, ${matchesSql(f)} as hit from keyed k),
    shown as (
      select h.id, h.incident_key, h.severity, h.money, h.d, coalesce('incident:' || h.incident_key, h.id::text) as card_key
      from hit h
      where h.hit
         or (h.incident_key is not null
             and h.incident_key in (select x.incident_key from hit x where x.hit and x.incident_key is not null))
    ),
    cards as (
      select sh.card_key, max(sh.severity) as severity, sum(sh.money) as money, max(sh.d) as d
      from shown sh group by sh.card_key
    ),
    ranked as (
      select c.card_key,
             row_number() over (order by c.severity desc, c.money desc, c.d desc, c.card_key collate "C") as rn,
             count(*) over () as total
      from cards c
    )
    select ${ROW_COLUMNS}, sh.incident_key, r.total::int as total_cards
    from ranked r
    join shown sh on sh.card_key = r.card_key
    join ads.anomalies a on a.tenant_id = ${tenantId} and a.id = sh.id
    ${SNOOZE_JOIN}
    where r.rn <= ${limit}::int
    order by r.rn, a.id`.execute(trx);
  return { rows: r.rows.map(toRow), totalCards: r.rows[0]?.total_cards ?? 0 };
}

/** One column's anomalies (the filters' cards, up to `limit` cards), each with the board incident it belongs to. */
export async function readColumn(
  trx: Tx,
  tenantId: string,
  status: AnomalyStatus,
  showSnoozed: boolean,
  f: Partial<BoardFilter> = {},
  limit = COLUMN_CARDS_MAX,
): Promise<AnomalyRow[]> {
  return (await readColumnCards(trx, tenantId, status, showSnoozed, f, limit)).rows;
}

/**
 * The members of the board incident `key` (platform|level|day) in the column of `status` (snoozed anomalies
 * grouped when showSnoozed, as the board shows them with ?snoozed=1), most severe first; none when those
 * anomalies do not form an incident.
 */
export async function incidentRows(trx: Tx, tenantId: string, status: AnomalyStatus, showSnoozed: boolean, key: IncidentKey): Promise<AnomalyRow[]> {
  const r = await sql<RawRow>`
    with ${keyedColumn(tenantId, status, showSnoozed, key)}
    select ${ROW_COLUMNS}, k.incident_key
    from keyed k
    join ads.anomalies a on a.tenant_id = ${tenantId} and a.id = k.id
    ${SNOOZE_JOIN}
    where k.incident_key = ${incidentKeyOf(key)}
    order by a.severity desc, a.id`.execute(trx);
  return r.rows.map(toRow);
}

/** Entities of a platform and level with delivery on the day or the day before (the 50 % rule's denominator). */
async function activeEntities(trx: Tx, tenantId: string, keys: { platform: string; level: string; day: string }[]): Promise<Map<string, number>> {
  if (!keys.length) return new Map();
  const r = await sql<{ platform: string; level: string; day: string; n: number }>`
    select k.platform, k.level, k.day, count(distinct m.platform_id)::int as n
    from unnest(${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.level)}::text[], ${keys.map((k) => k.day)}::text[]) as k(platform, level, day)
    join ads.metrics_daily m
      on m.tenant_id = ${tenantId} and m.platform = k.platform::ads.platform and m.level = k.level::ads.entity_level
     and m.day between k.day::date - 1 and k.day::date and (m.spend > 0 or m.impressions > 0)
    group by k.platform, k.level, k.day`.execute(trx);
  return new Map(r.rows.map((x) => [`${x.platform}|${x.level}|${x.day}`, x.n]));
}

const worst = (rows: AnomalyRow[]): Severity =>
  rows.reduce<Severity>((w, r) => (SEVERITY_RANK[r.severity] > SEVERITY_RANK[w] ? r.severity : w), 'low');

/** Cards of a column: incidents gathered, most severe first, then most money at stake, then the latest day. */
export function groupCards(rows: AnomalyRow[], active: Map<string, number> = new Map()): BoardCard[] {
  const cards: BoardCard[] = [];
  const incidents = new Map<string, AnomalyRow[]>();
  for (const r of rows) {
    if (r.incidentKey) incidents.set(r.incidentKey, [...(incidents.get(r.incidentKey) ?? []), r]);
    else cards.push({ kind: 'single', key: r.id, anomaly: r });
  }
  for (const [key, members] of incidents) {
    const [platform, level, day] = key.split('|') as [string, string, string];
    members.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (b.money ?? 0) - (a.money ?? 0) || a.id.localeCompare(b.id));
    cards.push({
      kind: 'incident',
      key: `incident:${key}`,
      platform,
      level,
      day,
      members,
      severity: worst(members),
      money: members.reduce((s, m) => s + (m.money ?? 0), 0),
      entities: new Set(members.map((m) => m.entityId)).size,
      activeEntities: active.get(key) ?? 0,
    });
  }
  const sev = (c: BoardCard) => (c.kind === 'single' ? c.anomaly.severity : c.severity);
  const money = (c: BoardCard) => (c.kind === 'single' ? (c.anomaly.money ?? 0) : c.money);
  const day = (c: BoardCard) => (c.kind === 'single' ? c.anomaly.day : c.day);
  // the last tie-break compares code units, as readColumnCards's `collate "C"` does
  const byKey = (a: BoardCard, b: BoardCard) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return cards.sort((a, b) => SEVERITY_RANK[sev(b)] - SEVERITY_RANK[sev(a)] || money(b) - money(a) || day(b).localeCompare(day(a)) || byKey(a, b));
}

/** Anomalies matching the filters per status, snoozed ones apart (an indexed count per tenant). */
export async function columnCounts(trx: Tx, tenantId: string, f: BoardFilter): Promise<Record<AnomalyStatus, { count: number; snoozed: number }>> {
  const r = await sql<{ status: AnomalyStatus; shown: number; snoozed: number }>`
    select a.status, count(*) filter (where s.anomaly_id is null)::int as shown, count(s.anomaly_id)::int as snoozed
    from ads.anomalies a ${SNOOZE_JOIN}
    where a.tenant_id = ${tenantId} and ${onBoard}
      ${f.severity ? sql`and a.severity = ${f.severity}::ads.severity_level` : sql``}
      ${f.platform ? sql`and a.platform = ${f.platform}::ads.platform` : sql``}
      ${f.metric ? sql`and a.metric_name = ${f.metric}` : sql``}
      ${f.type ? sql`and a.anomaly_type = ${f.type}` : sql``}
      ${f.level ? sql`and a.level = ${f.level}::ads.entity_level` : sql``}
    group by a.status`.execute(trx);
  const out = Object.fromEntries(STATUSES.map((s) => [s, { count: 0, snoozed: 0 }])) as Record<AnomalyStatus, { count: number; snoozed: number }>;
  for (const x of r.rows) if (x.status in out) out[x.status] = { count: x.shown, snoozed: x.snoozed };
  return out;
}

export interface Board {
  columns: BoardColumn[];
  /** Dismissed anomalies matching the filters (the column is shown on request). */
  dismissedCount: number;
}

/** The board: Active, Investigating, Resolved (and Dismissed when asked), each bounded, with counts. */
export async function readBoard(trx: Tx, tenantId: string, f: BoardFilter): Promise<Board> {
  const counts = await columnCounts(trx, tenantId, f);
  const statuses: AnomalyStatus[] = f.dismissed ? [...STATUSES] : ['active', 'investigating', 'resolved'];
  const columns: BoardColumn[] = [];
  for (const status of statuses) {
    const limit = f.more === status ? CARDS_MORE : CARDS_DEFAULT;
    const { rows, totalCards } = await readColumnCards(trx, tenantId, status, f.snoozed, f, limit);
    const keys = [...new Set(rows.filter((r) => r.incidentKey).map((r) => r.incidentKey!))].map((k) => parseIncidentKey(k)!);
    const cards = groupCards(rows, await activeEntities(trx, tenantId, keys));
    const c = counts[status];
    columns.push({
      status,
      count: c.count + (status === 'active' && f.snoozed ? c.snoozed : 0),
      snoozed: status === 'active' ? c.snoozed : 0,
      cards,
      hiddenCards: Math.max(0, totalCards - cards.length),
      limit,
    });
  }
  return { columns, dismissedCount: counts.dismissed.count };
}

// ---------------------------------------------------------------------------
// Feedback: what people concluded about anomalies of a kind
// ---------------------------------------------------------------------------
export const feedbackKey = (platform: string, metric: string, type: string) => `${platform}|${metric}|${type}`;

/**
 * Per platform, metric and type: of the tenant's anomalies whose day is in the FEEDBACK_DAYS days ending its
 * yesterday (those on record, and those whose verdict outlived them), how many were dismissed as not anomalies.
 */
export async function feedbackFigures(trx: Tx, tenantId: string): Promise<Map<string, Feedback>> {
  const r = await sql<{ platform: string; metric_name: string; anomaly_type: string; total: number; dismissed: number }>`
    with since as (select ads_engine.tenant_yesterday(${tenantId}::uuid) - ${FEEDBACK_DAYS - 1}::int as d),
    pool as (
      select a.id, a.platform::text as platform, a.metric_name, a.anomaly_type
      from ads.anomalies a, since where a.tenant_id = ${tenantId} and a.day >= since.d
      union
      select v.anomaly_id, v.platform::text, v.metric_name, v.anomaly_type
      from ads_engine.anomaly_verdicts v, since where v.tenant_id = ${tenantId} and v.day >= since.d
    )
    select p.platform, p.metric_name, p.anomaly_type, count(*)::int as total,
           count(v.anomaly_id) filter (where v.verdict = 'not_anomaly')::int as dismissed
    from pool p
    left join ads_engine.anomaly_verdicts v on v.tenant_id = ${tenantId} and v.anomaly_id = p.id
    group by p.platform, p.metric_name, p.anomaly_type`.execute(trx);
  return new Map(
    r.rows.map((x) => [
      feedbackKey(x.platform, x.metric_name, x.anomaly_type),
      { platform: x.platform, metric: x.metric_name, type: x.anomaly_type, total: x.total, dismissed: x.dismissed },
    ]),
  );
}

// ---------------------------------------------------------------------------
// One anomaly: its row, history and related anomalies
// ---------------------------------------------------------------------------
export interface HistoryEntry {
  id: number;
  move: string;
  from: AnomalyStatus;
  to: AnomalyStatus;
  note: string | null;
  snoozedUntil: string | null;
  incident: string | null;
  who: string;
  at: string;
}

/** An anomaly of the tenant (any status), or null: another tenant's is invisible. */
export async function readAnomaly(trx: Tx, tenantId: string, id: string): Promise<AnomalyRow | null> {
  const r = await sql<RawRow>`
    select ${ROW_COLUMNS}, null::text as incident_key
    from ads.anomalies a ${SNOOZE_JOIN}
    where a.tenant_id = ${tenantId} and a.id = ${id}::uuid`.execute(trx);
  return r.rows[0] ? toRow(r.rows[0]) : null;
}

/** The board incident an anomaly belongs to (its column's grouping, snoozed ones included), with every member; null when none. */
export async function incidentOf(trx: Tx, tenantId: string, a: AnomalyRow): Promise<Extract<BoardCard, { kind: 'incident' }> | null> {
  if (!a.falls || a.platformRow) return null;
  const key = parseIncidentKey(`${a.platform}|${a.level}|${a.day}`);
  if (!key) return null;
  const rows = await incidentRows(trx, tenantId, a.status, true, key);
  if (!rows.some((r) => r.id === a.id)) return null;
  const card = groupCards(rows, await activeEntities(trx, tenantId, [key]))[0];
  return card?.kind === 'incident' ? card : null;
}

export async function readHistory(trx: Tx, tenantId: string, anomalyId: string): Promise<HistoryEntry[]> {
  const r = await sql<{
    id: number;
    action: string;
    from_status: AnomalyStatus;
    to_status: AnomalyStatus;
    note: string | null;
    snoozed_until: string | null;
    incident: string | null;
    who: string | null;
    at: string;
  }>`
    select e.id, e.action, e.from_status, e.to_status, e.note, e.incident,
           to_char(e.snoozed_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as snoozed_until,
           coalesce(nullif(btrim(u.name), ''), u.email, e.actor_label) as who,
           to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at
    from ads_engine.anomaly_events e
    left join saas.users u on u.id = e.actor_user_id
    where e.tenant_id = ${tenantId} and e.anomaly_id = ${anomalyId}::uuid
    order by e.created_at desc, e.id desc
    limit 100`.execute(trx);
  return r.rows.map((x) => ({
    id: x.id,
    move: x.action,
    from: x.from_status,
    to: x.to_status,
    note: x.note,
    snoozedUntil: x.snoozed_until,
    incident: x.incident,
    who: x.who ?? 'a former member',
    at: x.at,
  }));
}

export interface Related {
  /** The same entity's other anomalies within 3 days of the day. */
  sameEntity: AnomalyRow[];
  /** Other entities' anomalies on the same platform and day. */
  samePlatformDay: AnomalyRow[];
}

export const RELATED_DAYS = 3;
const RELATED_MAX = 20;

export async function readRelated(trx: Tx, tenantId: string, a: AnomalyRow): Promise<Related> {
  const [same, platform] = await Promise.all([
    sql<RawRow>`
      select ${ROW_COLUMNS}, null::text as incident_key
      from ads.anomalies a ${SNOOZE_JOIN}
      where a.tenant_id = ${tenantId} and a.platform = ${a.platform}::ads.platform and a.level = ${a.level}::ads.entity_level
        and a.entity_id = ${a.entityId} and a.id <> ${a.id}::uuid
        and a.day between ${a.day}::date - ${RELATED_DAYS}::int and ${a.day}::date + ${RELATED_DAYS}::int
      order by a.day, a.metric_name
      limit ${RELATED_MAX}::int`.execute(trx),
    sql<RawRow>`
      select ${ROW_COLUMNS}, null::text as incident_key
      from ads.anomalies a ${SNOOZE_JOIN}
      where a.tenant_id = ${tenantId} and a.platform = ${a.platform}::ads.platform and a.day = ${a.day}::date
        and a.entity_id <> ${a.entityId}
      order by a.severity desc, a.money_at_stake desc nulls last, a.id
      limit ${RELATED_MAX}::int`.execute(trx),
  ]);
  return { sameEntity: same.rows.map(toRow), samePlatformDay: platform.rows.map(toRow) };
}

// ---------------------------------------------------------------------------
// The shell's banner
// ---------------------------------------------------------------------------
/**
 * Active critical anomalies that are neither acknowledged nor snoozed: one count on the guide's partial
 * index idx_anomalies_active (tenant, severity, ...) where status is active or investigating.
 */
export function criticalActiveCountSql(tenantId: string) {
  return sql<number>`(select count(*) from ads.anomalies a
     where a.tenant_id = ${tenantId} and a.status = 'active'
       and a.severity = 'critical'
       and not exists (select 1 from ads_engine.anomaly_snoozes s
                       where s.tenant_id = a.tenant_id and s.anomaly_id = a.id and s.snoozed_until > now()))::int`;
}

export async function criticalActiveCount(trx: Tx, tenantId: string): Promise<number> {
  const r = await sql<{ n: number }>`select ${criticalActiveCountSql(tenantId)} as n`.execute(trx);
  return r.rows[0]?.n ?? 0;
}

