// Creating, editing and moving A/B tests, inside the tenant's transaction (the action wrapper has
// checked the session, the membership and the buyer role; the schemas have checked every field).
//
// A save or a move locks the test's row (select ... for update) and works from it as it is now: a
// move the status does not allow is refused naming the status, and a save or move made on a version
// of the test that has changed since (expectedUpdatedAt) is refused, never written over. A new test
// is written whole or not at all: ads.ab_tests, its design (ads_engine.ab_test_designs) and the ids
// that carry its variants (ads_engine.ab_test_variants) in one transaction, and an ActionError rolls
// all of it back. Once started, the design and the ids are fixed (the database's triggers refuse a
// change too): the always-valid test keeps its 5 % false-winner rate only for a design set before
// the data are seen. Every change writes an audit row with the test before and after.
import 'server-only';
import { sql } from 'kysely';
import { recordAudit } from '@/lib/audit/mutations';
import type { Tx } from '@/lib/db';
import { formatUtc } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import { ActionError, type ActionHandler } from '@/lib/request/action-core';
import type { FieldErrors } from '@/lib/request/result';
import { canMove, DEFAULT_DESIGN, METRIC_LABEL, parsePerformance, toPerformanceJson, type AbTestStatus, type DbMetric, type PerformanceJson } from './model';
import { armSource, loadAbTests, readTestNow, type AbTestRecord, type TestReading } from './data';
import { readTest, readVariants, sourceOf, tenantDays, type TestRow, type VariantRow } from './form-data';
import {
  addDays,
  ARMS,
  daysBetween,
  entityKey,
  FROZEN_REASON,
  LEVEL_LABEL,
  MAX_TEST_DAYS,
  MOVE_FROM,
  MOVE_TO,
  START_AHEAD_DAYS,
  START_BACK_DAYS,
  STATUS_LABEL,
  VARIANT_FIELD,
  type AbTestFields,
  type AbTestMove,
  type Arm,
  type createAbTestSchema,
  type CreateAbTestInput,
  type moveAbTestSchema,
  type MoveAbTestInput,
  type updateAbTestSchema,
  type UpdateAbTestInput,
} from './schema';

export const AB_TEST_NOT_FOUND = 'That A/B test was not found in this tenant.';
export const NOTHING_SAVED = 'Nothing was saved: some fields need attention.';
export const NO_CHANGE = 'No change to save: the test already reads as the form says.';

export interface SaveResult {
  id: string;
  status: AbTestStatus;
  /** The new version (for a form that stays open). */
  version: string;
  message: string;
}

export interface MoveResult {
  id: string;
  move: AbTestMove;
  status: AbTestStatus;
  winner: 'A' | 'B' | 'none' | null;
  version: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// The test as it stands

/** Entered totals as the audit log keeps them: as stored, unless they cannot be written out (nested past any reading) or are huge. */
function auditedTotals(v: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    return { unreadable: 'nested too deep to record' };
  }
  return text !== undefined && text.length > AUDITED_TOTALS_MAX ? { unreadable: `${text.length} characters, not recorded` } : v;
}
const AUDITED_TOTALS_MAX = 10_000;

/** The test as the audit log keeps it: the row, its design and the ids of each variant. */
function snapshot(t: TestRow, variants: readonly VariantRow[]) {
  const ids = (arm: Arm) => variants.filter((v) => v.arm === arm).map((v) => entityKey(v.level, v.platform_id));
  return {
    status: t.status,
    test_name: t.test_name,
    platform: t.platform,
    campaign_id: t.campaign_id,
    test_type: t.test_type,
    hypothesis: t.hypothesis,
    primary_metric: t.primary_metric,
    variant_a: t.variant_a,
    variant_b: t.variant_b,
    performance_a: auditedTotals(t.performance_a),
    performance_b: auditedTotals(t.performance_b),
    winner: t.winner,
    start_date: t.start_date,
    end_date: t.end_date,
    planned_share_b: t.planned_share_b,
    mde: t.mde,
    allocation_unit: t.allocation_unit,
    frozen_at: t.frozen_at ? t.frozen_at.toISOString() : null,
    ids_a: ids('A'),
    ids_b: ids('B'),
  };
}

async function lockTest(trx: Tx, tenantId: string, id: string): Promise<TestRow> {
  const t = await readTest(trx, tenantId, id, { lock: true });
  if (!t) throw new ActionError(AB_TEST_NOT_FOUND);
  return t;
}

/** Who made the change that left the test as it is (the audit row written with it), if a person did. */
async function lastChange(trx: Tx, tenantId: string, t: TestRow): Promise<{ who: string; at: Date } | null> {
  const r = await sql<{ who: string | null; at: Date }>`
    select coalesce(nullif(btrim(u.name), ''), a.actor_label, u.email) as who, a.occurred_at as at
    from saas.audit_log a
    left join saas.users u on u.id = a.actor_user_id
    where a.tenant_id = ${tenantId} and a.entity_type = 'ab_test' and a.entity_id = ${t.id}
      and a.occurred_at = (select x.updated_at from ads.ab_tests x where x.tenant_id = ${tenantId} and x.id = ${t.id}::uuid)
    order by a.id desc
    limit 1`.execute(trx);
  const row = r.rows[0];
  return row ? { who: row.who ?? 'a former member', at: row.at } : null;
}

/** " (by Ann at …)" for the status a person moved the test to; nothing for a draft (its creation is not news). */
async function byWhom(trx: Tx, tenantId: string, t: TestRow): Promise<string> {
  if (t.status === 'draft') return '';
  const c = await lastChange(trx, tenantId, t);
  return c ? ` (by ${c.who} at ${formatUtc(c.at)})` : '';
}

/** Microseconds since the epoch of an ISO instant with up to six decimals (within 2^53 until the year 2255). */
function micros(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!m) return Number.NaN;
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/**
 * Whether the version a form was opened on is the test's version now. The forms carry it to the
 * microsecond; a page that has it as a JavaScript Date (to the millisecond) matches within that millisecond.
 */
export function sameVersion(sent: string, current: string): boolean {
  const frac = /\.(\d+)Z$/.exec(sent)?.[1]?.length ?? 0;
  const a = micros(sent);
  const b = micros(current);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return frac >= 6 ? a === b : Math.abs(b - a) < 1000;
}

/** The refusal of a save or move made on a version of the test that has changed since. */
async function staleMessage(trx: Tx, tenantId: string, t: TestRow, nothing: string): Promise<string> {
  const c = await lastChange(trx, tenantId, t);
  const who = c ? `by ${c.who} at ${formatUtc(c.at)}` : 'by the daily loop or in another window';
  return `This test was changed ${who} since you opened it. ${nothing}: reload the page to see the change, then try again.`;
}

/**
 * The latched winner: the arm of the first look that met the decision rule, read as the results page
 * reads it (lib/abtests/data.ts: the loop's stored winner, else the reading of the data up to the
 * tenant's yesterday), so that the buttons and the server agree on whether a declaration needs the
 * confirmation.
 */
export async function latchedWinner(trx: Tx, tenantId: string, t: TestRow): Promise<{ arm: Arm | null; day: string | null }> {
  const { arm, day } = await readingNow(trx, tenantId, t);
  return { arm, day };
}

interface Read {
  arm: Arm | null;
  day: string | null;
  record: AbTestRecord | null;
  now: TestReading | null;
}

/** The test read now as the page reads it, with its latched winner and the day it was latched. */
async function readingNow(trx: Tx, tenantId: string, t: TestRow): Promise<Read> {
  const [record] = await loadAbTests(trx, tenantId, { ids: [t.id] });
  if (!record) return { arm: null, day: null, record: null, now: null };
  const { yesterday } = await tenantDays(trx, tenantId);
  const now = await readTestNow(trx, tenantId, record, yesterday);
  const arm = now.reading.winner;
  return { arm, day: arm ? (now.reading.winnerDay ?? record.state?.winnerDay ?? null) : null, record, now };
}

/**
 * What a move that closes the test (complete, declare, cancel) read, written as the daily loop writes
 * its readings: the significance on the test and its state (the day read to, the decision, the running
 * minimum of the p-value, the day the rule latched the winner, null when the winner was declared
 * without it). The pages then show the test as it stood when it was closed, and the daily loop, which
 * no longer reads it, leaves no stale significance beside the winner.
 */
async function recordClosingReading(trx: Tx, tenantId: string, read: Read, winnerDay: string | null): Promise<void> {
  if (!read.now || !read.record) return;
  const { now, record } = read;
  const id = record.id;
  // The arms carried by ids get their totals as read (as the loop writes them); entered totals stay as entered.
  const src = armSource(record);
  const ids = (arm: 'A' | 'B') => (arm === 'A' ? src.a : src.b) === 'platform_ids';
  await trx
    .updateTable('ads.ab_tests')
    .set({
      statistical_significance: now.reading.significance,
      ...(ids('A') ? { performance_a: toPerformanceJson(now.totalsA) } : {}),
      ...(ids('B') ? { performance_b: toPerformanceJson(now.totalsB) } : {}),
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
  const state = {
    as_of: now.day,
    decision: now.analysis.decision.status,
    message: now.analysis.decision.message.slice(0, STATE_MESSAGE_MAX),
    min_p_seq: now.reading.minPSeq,
    winner_day: winnerDay,
  };
  await trx
    .insertInto('ads_engine.ab_test_state')
    .values({ tenant_id: tenantId, test_id: id, ...state })
    .onConflict((oc) => oc.columns(['tenant_id', 'test_id']).doUpdateSet({ ...state, evaluated_at: sql<Date>`now()` }))
    .execute();
}

/** ads_engine.ab_test_state.message is bounded. */
const STATE_MESSAGE_MAX = 1000;

const quoted = (s: string) => `“${s}”`;
const variantLabel = (t: Pick<TestRow, 'variant_a' | 'variant_b'>, arm: Arm) => `variant ${arm} (${quoted(arm === 'A' ? t.variant_a : t.variant_b)})`;

// ---------------------------------------------------------------------------------------------
// The rules that need the data: dates against the tenant's today, the campaign and the ids

async function campaignExists(trx: Tx, tenantId: string, platform: string, campaignId: string): Promise<boolean> {
  const r = await sql<{ found: boolean }>`
    select exists (select 1 from ads.metrics_daily m
                   where m.tenant_id = ${tenantId} and m.platform = ${platform} and m.level = 'campaign' and m.platform_id = ${campaignId})
        or exists (select 1 from ads.metrics_daily m
                   where m.tenant_id = ${tenantId} and m.platform = ${platform} and m.campaign_id = ${campaignId}) as found`.execute(trx);
  return r.rows[0]?.found ?? false;
}

/** Each id: is it an entity of this tenant on the platform at its level, and (with a campaign) of that campaign? */
async function entityChecks(trx: Tx, tenantId: string, fields: AbTestFields) {
  const refs = ARMS.flatMap((arm) => {
    const v = fields.variants[arm];
    return v.source === 'ids' ? v.entities.map((e) => ({ arm, ...e })) : [];
  });
  if (!refs.length) return [];
  const r = await sql<{ level: string; platform_id: string; found: boolean; in_campaign: boolean }>`
    select x.level, x.platform_id,
           exists (select 1 from ads.metrics_daily m
                   where m.tenant_id = ${tenantId} and m.platform = ${fields.platform} and m.level = x.level and m.platform_id = x.platform_id) as found,
           (${fields.campaignId}::text is null or exists (
              select 1 from ads.metrics_daily m
              where m.tenant_id = ${tenantId} and m.platform = ${fields.platform} and m.level = x.level and m.platform_id = x.platform_id
                and (case when x.level = 'campaign' then m.platform_id else m.campaign_id end) = ${fields.campaignId}::text)) as in_campaign
    from unnest(${refs.map((e) => e.level)}::text[], ${refs.map((e) => e.platformId)}::text[]) as x(level, platform_id)`.execute(trx);
  const byKey = new Map(r.rows.map((x) => [`${x.level}:${x.platform_id}`, x]));
  return refs.map((e) => {
    const x = byKey.get(entityKey(e.level, e.platformId));
    return { ...e, found: x?.found ?? false, inCampaign: x?.in_campaign ?? false };
  });
}

const push = (errors: FieldErrors, field: string, message: string) => {
  (errors[field] ??= []).push(message);
};

/** What the data refuse in a test being created or a draft being changed; empty when nothing. */
async function dataProblems(trx: Tx, tenantId: string, fields: AbTestFields, today: string, launching = false): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  const minStart = addDays(today, -START_BACK_DAYS);
  const maxStart = addDays(today, START_AHEAD_DAYS);
  if (fields.startDate && fields.startDate < minStart) {
    push(errors, 'startDate', `Start date: not before ${minStart} (${START_BACK_DAYS} days ago).`);
  } else if (fields.startDate && fields.startDate > maxStart) {
    push(errors, 'startDate', `Start date: at most ${START_AHEAD_DAYS} days ahead (${maxStart} at the latest).`);
  }
  if (fields.startDate && fields.endDate < today) {
    // The daily loop completes a running test after its end date: one that has passed would be read at once, over days it did not run.
    push(errors, 'endDate', `End date: today (${today}) or later: a test whose end date has passed would be completed as soon as it starts.`);
  }
  if (!fields.startDate) {
    // Without a start date the test starts on the day it is started: today at the earliest.
    if (fields.endDate < today) push(errors, 'endDate', `End date: today (${today}) or later: without a start date, the test starts the day it is started.`);
    else if (daysBetween(today, fields.endDate) > MAX_TEST_DAYS) {
      push(errors, 'endDate', `End date: within ${MAX_TEST_DAYS} days of the start (${addDays(today, MAX_TEST_DAYS)} at the latest if it starts today).`);
    }
  }
  // A campaign being launched has no data yet, nor have the ids that will carry its variants.
  if (launching) return errors;
  const platform = platformLabel(fields.platform);
  if (fields.campaignId && !(await campaignExists(trx, tenantId, fields.platform, fields.campaignId))) {
    push(errors, 'campaign', `Campaign: ${fields.campaignId} is not a campaign of this tenant on ${platform}.`);
  }
  for (const e of await entityChecks(trx, tenantId, fields)) {
    const field = VARIANT_FIELD[e.arm].ids;
    const what = LEVEL_LABEL[e.level].one;
    if (!e.found) push(errors, field, `Variant ${e.arm}: ${e.platformId} is not ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} of this tenant on ${platform}.`);
    else if (!e.inCampaign) push(errors, field, `Variant ${e.arm}: ${e.platformId} is not in the campaign chosen (${fields.campaignId}).`);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// What a save changes

type FieldKey =
  | 'name'
  | 'type'
  | 'hypothesis'
  | 'platform'
  | 'campaign'
  | 'variantA'
  | 'variantB'
  | 'sourceA'
  | 'sourceB'
  | 'idsA'
  | 'idsB'
  | 'totalsA'
  | 'totalsB'
  | 'metric'
  | 'shareB'
  | 'allocationUnit'
  | 'mde'
  | 'startDate'
  | 'endDate';

const storedTotals = (t: TestRow, arm: Arm): PerformanceJson | null => {
  const p = parsePerformance(arm === 'A' ? t.performance_a : t.performance_b);
  return p.ok ? toPerformanceJson(p.totals) : null;
};

/** Totals as stored: counts whole, money and conversions to the cent. */
const normalized = (p: PerformanceJson): PerformanceJson =>
  toPerformanceJson({ impressions: p.impressions, clicks: p.clicks, conversions: p.conversions, spend: p.spend, conversionValue: p.conversion_value });

const sameTotals = (stored: PerformanceJson | null, sent: PerformanceJson) => stored !== null && JSON.stringify(stored) === JSON.stringify(normalized(sent));

/** The fields whose value in the form differs from the test as stored. */
function changedFields(t: TestRow, variants: readonly VariantRow[], f: AbTestFields): FieldKey[] {
  const out: FieldKey[] = [];
  const design = {
    shareB: t.planned_share_b ?? DEFAULT_DESIGN.plannedShareB,
    mde: t.mde ?? DEFAULT_DESIGN.mde,
    unit: t.allocation_unit ?? DEFAULT_DESIGN.allocationUnit,
  };
  if (f.name !== t.test_name) out.push('name');
  if (f.type !== t.test_type) out.push('type');
  if ((f.hypothesis ?? null) !== (t.hypothesis?.trim() ? t.hypothesis : null)) out.push('hypothesis');
  if (f.platform !== t.platform) out.push('platform');
  if (f.campaignId !== t.campaign_id) out.push('campaign');
  if (f.variants.A.name !== t.variant_a) out.push('variantA');
  if (f.variants.B.name !== t.variant_b) out.push('variantB');
  for (const arm of ARMS) {
    const v = f.variants[arm];
    const stored = sourceOf(variants, arm);
    if (v.source !== stored) out.push(arm === 'A' ? 'sourceA' : 'sourceB');
    if (v.source === 'ids') {
      const now = variants.filter((x) => x.arm === arm).map((x) => entityKey(x.level, x.platform_id)).sort();
      const sent = v.entities.map((e) => entityKey(e.level, e.platformId)).sort();
      if (JSON.stringify(now) !== JSON.stringify(sent)) out.push(arm === 'A' ? 'idsA' : 'idsB');
    } else if (!sameTotals(storedTotals(t, arm), v.totals)) out.push(arm === 'A' ? 'totalsA' : 'totalsB');
  }
  if (f.metric !== t.primary_metric) out.push('metric');
  if (Math.round(f.shareB * 1000) !== Math.round(design.shareB * 1000)) out.push('shareB');
  if (f.allocationUnit !== design.unit) out.push('allocationUnit');
  if (Math.round(f.mde * 10_000) !== Math.round(design.mde * 10_000)) out.push('mde');
  if (f.startDate !== t.start_date) out.push('startDate');
  if (f.endDate !== t.end_date) out.push('endDate');
  return out;
}

/** Fixed once the test started, and why (the message under the field that was changed). */
const FROZEN: Partial<Record<FieldKey, string>> = {
  metric: `Primary metric: ${FROZEN_REASON}.`,
  shareB: `Share of B: ${FROZEN_REASON}.`,
  allocationUnit: `What is split: ${FROZEN_REASON}.`,
  mde: `Minimum detectable effect: ${FROZEN_REASON}.`,
  sourceA: `Variant A source: ${FROZEN_REASON}.`,
  sourceB: `Variant B source: ${FROZEN_REASON}.`,
  idsA: `Variant A ids: ${FROZEN_REASON}.`,
  idsB: `Variant B ids: ${FROZEN_REASON}.`,
  platform: 'Platform: fixed when the test started (its data are read there).',
  campaign: 'Campaign: fixed when the test started (its data are read there).',
  type: 'Type: fixed when the test started.',
  startDate: 'Start date: fixed when the test started (its data are counted from that day).',
};

const FIELD_NAME: Readonly<Record<FieldKey, string>> = {
  name: 'name',
  type: 'type',
  hypothesis: 'hypothesis',
  platform: 'platform',
  campaign: 'campaign',
  variantA: 'variant A name',
  variantB: 'variant B name',
  sourceA: 'variant A source',
  sourceB: 'variant B source',
  idsA: 'variant A ids',
  idsB: 'variant B ids',
  totalsA: 'variant A totals',
  totalsB: 'variant B totals',
  metric: 'primary metric',
  shareB: 'share of B',
  allocationUnit: 'what is split',
  mde: 'minimum detectable effect',
  startDate: 'start date',
  endDate: 'end date',
};

// ---------------------------------------------------------------------------------------------
// Writes

const performanceOf = (f: AbTestFields, arm: Arm): PerformanceJson | Record<string, never> => {
  const v = f.variants[arm];
  return v.source === 'entered' ? normalized(v.totals) : {};
};

async function writeVariants(trx: Tx, tenantId: string, testId: string, f: AbTestFields): Promise<void> {
  const rows = ARMS.flatMap((arm) => {
    const v = f.variants[arm];
    return v.source === 'ids' ? v.entities.map((e) => ({ tenant_id: tenantId, test_id: testId, arm, level: e.level, platform_id: e.platformId })) : [];
  });
  if (rows.length) await trx.insertInto('ads_engine.ab_test_variants').values(rows).execute();
}

async function version(trx: Tx, tenantId: string, id: string): Promise<string> {
  return (await readTest(trx, tenantId, id))!.version;
}

/** The test's own columns as a create or a draft's edit writes them. */
function testColumns(input: AbTestFields) {
  return {
    test_name: input.name,
    platform: input.platform,
    campaign_id: input.campaignId,
    test_type: input.type,
    hypothesis: input.hypothesis,
    primary_metric: input.metric,
    variant_a: input.variants.A.name,
    variant_b: input.variants.B.name,
    performance_a: performanceOf(input, 'A'),
    performance_b: performanceOf(input, 'B'),
    start_date: input.startDate,
    end_date: input.endDate,
  };
}

/**
 * A new test: a draft, or started at once (startNow). `launching`: the test of a campaign being launched
 * (the launch flow), whose campaign and ids have no data yet; the date rules still apply.
 */
export async function createAbTest(trx: Tx, tenantId: string, userId: string, input: CreateAbTestInput, launching = false): Promise<SaveResult> {
  const { today } = await tenantDays(trx, tenantId);
  const errors = await dataProblems(trx, tenantId, input, today, launching);
  if (Object.keys(errors).length) throw new ActionError(NOTHING_SAVED, errors);

  const inserted = await trx
    .insertInto('ads.ab_tests')
    .values({ tenant_id: tenantId, ...testColumns(input), status: 'draft' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = inserted.id;
  await trx
    .insertInto('ads_engine.ab_test_designs')
    .values({ tenant_id: tenantId, test_id: id, planned_share_b: input.shareB, mde: input.mde, allocation_unit: input.allocationUnit, created_by: userId })
    .execute();
  await writeVariants(trx, tenantId, id, input);

  const stored = (await readTest(trx, tenantId, id))!;
  await recordAudit(trx, { action: 'ab_test.create', entityType: 'ab_test', entityId: id, before: null, after: snapshot(stored, await readVariants(trx, tenantId, id)) });
  const saved = `Saved as a draft: ${quoted(input.name)}.`;
  if (!input.startNow) return { id, status: 'draft', version: stored.version, message: `${saved} Start it when the variants are live.` };
  const started = await moveAbTest(trx, tenantId, userId, { id, move: 'start', confirmNoSignificance: false, winner: undefined, expectedUpdatedAt: undefined });
  return { id, status: started.status, version: started.version, message: started.message };
}

/** A change to a test: anything while it is a draft; once started, its name, hypothesis, variant names, end date and entered totals. */
export async function updateAbTest(trx: Tx, tenantId: string, userId: string, input: UpdateAbTestInput): Promise<SaveResult> {
  const t = await lockTest(trx, tenantId, input.id);
  if (t.status === 'completed' || t.status === 'cancelled') {
    throw new ActionError(`This test is ${STATUS_LABEL[t.status]}${await byWhom(trx, tenantId, t)}: it can no longer be changed. Nothing was saved.`);
  }
  if (!sameVersion(input.expectedUpdatedAt, t.version)) throw new ActionError(await staleMessage(trx, tenantId, t, 'Nothing was saved'));
  const variants = await readVariants(trx, tenantId, t.id);
  const changed = changedFields(t, variants, input);
  // A draft whose design is frozen was started once (set back to draft from psql): its design stays fixed.
  const started = t.status !== 'draft' || t.frozen_at !== null;

  if (started) {
    const errors: FieldErrors = {};
    for (const k of changed) {
      const why = FROZEN[k];
      if (why) push(errors, k, why);
    }
    const { yesterday } = await tenantDays(trx, tenantId);
    // The daily loop completes a running test the day after its end date.
    if (changed.includes('endDate') && input.endDate < yesterday) {
      push(errors, 'endDate', `End date: not before yesterday (${yesterday}): the daily loop completes a test after its end date.`);
    }
    if (Object.keys(errors).length) throw new ActionError(NOTHING_SAVED, errors);
  } else {
    const { today } = await tenantDays(trx, tenantId);
    const errors = await dataProblems(trx, tenantId, input, today);
    if (Object.keys(errors).length) throw new ActionError(NOTHING_SAVED, errors);
  }

  if (!changed.length) {
    if (!started && input.startNow) {
      const m = await moveAbTest(trx, tenantId, userId, { id: t.id, move: 'start', confirmNoSignificance: false, winner: undefined, expectedUpdatedAt: t.version });
      return { id: t.id, status: m.status, version: m.version, message: m.message };
    }
    return { id: t.id, status: t.status, version: t.version, message: NO_CHANGE };
  }

  if (started) {
    // Entered totals of a variant measured elsewhere keep being typed in; a variant carried by ids is read by the loop.
    await trx
      .updateTable('ads.ab_tests')
      .set({
        test_name: input.name,
        hypothesis: input.hypothesis,
        variant_a: input.variants.A.name,
        variant_b: input.variants.B.name,
        end_date: input.endDate,
        ...(sourceOf(variants, 'A') === 'entered' && input.variants.A.source === 'entered' ? { performance_a: normalized(input.variants.A.totals) } : {}),
        ...(sourceOf(variants, 'B') === 'entered' && input.variants.B.source === 'entered' ? { performance_b: normalized(input.variants.B.totals) } : {}),
        updated_at: sql<Date>`now()`,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', t.id)
      .execute();
  } else {
    await trx
      .updateTable('ads.ab_tests')
      .set({ ...testColumns(input), updated_at: sql<Date>`now()` })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', t.id)
      .execute();
    await trx
      .insertInto('ads_engine.ab_test_designs')
      .values({ tenant_id: tenantId, test_id: t.id, planned_share_b: input.shareB, mde: input.mde, allocation_unit: input.allocationUnit, created_by: userId })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'test_id']).doUpdateSet({ planned_share_b: input.shareB, mde: input.mde, allocation_unit: input.allocationUnit }),
      )
      .execute();
    if (changed.some((k) => k === 'sourceA' || k === 'sourceB' || k === 'idsA' || k === 'idsB')) {
      await trx.deleteFrom('ads_engine.ab_test_variants').where('tenant_id', '=', tenantId).where('test_id', '=', t.id).execute();
      await writeVariants(trx, tenantId, t.id, input);
    }
  }

  const after = (await readTest(trx, tenantId, t.id))!;
  await recordAudit(trx, {
    action: 'ab_test.update',
    entityType: 'ab_test',
    entityId: t.id,
    before: snapshot(t, variants),
    after: { ...snapshot(after, await readVariants(trx, tenantId, t.id)), changed: changed.map((k) => FIELD_NAME[k]) },
  });
  const message = `Saved: ${quoted(input.name)} (${changed.map((k) => FIELD_NAME[k]).join(', ')}).`;
  if (!started && input.startNow) {
    const m = await moveAbTest(trx, tenantId, userId, { id: t.id, move: 'start', confirmNoSignificance: false, winner: undefined, expectedUpdatedAt: after.version });
    return { id: t.id, status: m.status, version: m.version, message: `${message} ${m.message}` };
  }
  return { id: t.id, status: after.status, version: after.version, message };
}

// ---------------------------------------------------------------------------------------------
// Moves

const NEEDS: Readonly<Record<AbTestMove, string>> = {
  start: 'only a draft can be started',
  pause: 'only a running test can be paused',
  resume: 'only a paused test can be resumed',
  complete: 'only a running or paused test can be completed',
  cancel: 'only a draft, running or paused test can be cancelled',
  declare_winner: 'a winner can be declared only while the test is running or paused',
};

/** Moves a test: start, pause, resume, complete, cancel, or declare a winner (which completes it). */
export async function moveAbTest(trx: Tx, tenantId: string, userId: string, input: MoveAbTestInput): Promise<MoveResult> {
  const t = await lockTest(trx, tenantId, input.id);
  const to = MOVE_TO[input.move];
  if (!(MOVE_FROM[input.move] as readonly string[]).includes(t.status) || !canMove(t.status, to)) {
    throw new ActionError(`This test is ${STATUS_LABEL[t.status]}${await byWhom(trx, tenantId, t)}: ${NEEDS[input.move]}. Nothing was changed.`);
  }
  if (input.expectedUpdatedAt && !sameVersion(input.expectedUpdatedAt, t.version)) throw new ActionError(await staleMessage(trx, tenantId, t, 'Nothing was changed'));

  const before = { status: t.status, winner: t.winner, start_date: t.start_date, end_date: t.end_date, frozen_at: t.frozen_at?.toISOString() ?? null };
  const name = quoted(t.test_name);
  let after: Record<string, unknown>;
  let message: string;
  let winner = t.winner;
  const update = (set: { status: AbTestStatus; winner?: 'A' | 'B' | 'none'; start_date?: string }) =>
    trx
      .updateTable('ads.ab_tests')
      .set({ ...set, updated_at: sql<Date>`now()` })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', t.id)
      .execute();

  switch (input.move) {
    case 'start': {
      const { today } = await tenantDays(trx, tenantId);
      const start = t.start_date ?? today;
      if (t.end_date && t.end_date < start) {
        throw new ActionError(`Not started: the end date (${t.end_date}) is before the start (${start}). Edit the end date, then start the test.`, {
          endDate: [`End date: on or after the start date (${start}).`],
        });
      }
      if (t.end_date && t.end_date < today) {
        throw new ActionError(
          `Not started: its end date (${t.end_date}) has passed, so the daily loop would complete it at once over days it did not run. Edit the end date, then start the test.`,
          { endDate: [`End date: today (${today}) or later.`] },
        );
      }
      if (t.end_date && daysBetween(start, t.end_date) > MAX_TEST_DAYS) {
        throw new ActionError(`Not started: the end date (${t.end_date}) is more than ${MAX_TEST_DAYS} days after the start (${start}). Edit it, then start the test.`, {
          endDate: [`End date: within ${MAX_TEST_DAYS} days of the start date (${addDays(start, MAX_TEST_DAYS)} at the latest).`],
        });
      }
      await update({ status: 'running', start_date: start });
      // The design is fixed from now on (a test inserted from psql gets its design row, with the defaults, now).
      await sql`
        insert into ads_engine.ab_test_designs (tenant_id, test_id, frozen_at, created_by)
        values (${tenantId}::uuid, ${t.id}::uuid, now(), ${userId}::uuid)
        on conflict (tenant_id, test_id) do update set frozen_at = now() where ab_test_designs.frozen_at is null`.execute(trx);
      const d = (await readTest(trx, tenantId, t.id))!;
      after = {
        status: 'running',
        winner,
        start_date: start,
        end_date: t.end_date,
        frozen_at: d.frozen_at?.toISOString() ?? null,
        primary_metric: d.primary_metric,
        planned_share_b: d.planned_share_b,
        mde: d.mde,
        allocation_unit: d.allocation_unit,
      };
      message =
        `Started: ${name} is running from ${start}${t.end_date ? ` to ${t.end_date}` : ''}. ` +
        `Its ${METRIC_LABEL[d.primary_metric as DbMetric] ?? d.primary_metric}, split and minimum detectable effect are fixed from now on.`;
      break;
    }
    case 'pause':
      await update({ status: 'paused' });
      after = { ...before, status: 'paused' };
      message = `Paused: ${name}. Resume it to go on.`;
      break;
    case 'resume':
      await update({ status: 'running' });
      after = { ...before, status: 'running' };
      message = `Resumed: ${name} is running again.`;
      break;
    case 'cancel': {
      // A started test is shown as it stood when cancelled; a draft has nothing to read.
      const read = t.status === 'draft' ? null : await readingNow(trx, tenantId, t);
      await update({ status: 'cancelled' });
      if (read) await recordClosingReading(trx, tenantId, read, read.day);
      after = { ...before, status: 'cancelled' };
      message = `Cancelled: ${name}.`;
      break;
    }
    case 'complete': {
      const latched = await readingNow(trx, tenantId, t);
      winner = latched.arm ?? 'none';
      await update({ status: 'completed', winner });
      await recordClosingReading(trx, tenantId, latched, latched.day);
      after = { ...before, status: 'completed', winner, latched_winner: latched.arm, winner_day: latched.day };
      message = latched.arm
        ? `Completed: ${name}, won by ${variantLabel(t, latched.arm)}: the decision rule was met on ${latched.day}.`
        : `Completed: ${name} with no winner: the decision rule was not met.`;
      break;
    }
    case 'declare_winner': {
      const arm = input.winner!;
      const latched = await readingNow(trx, tenantId, t);
      const met = latched.arm === arm;
      if (!met && !input.confirmNoSignificance) {
        const why = latched.arm ? `the decision rule found ${variantLabel(t, latched.arm)} the winner` : 'the decision rule has not found a winner';
        throw new ActionError(`Not declared: ${why}. To declare ${variantLabel(t, arm)} the winner all the same, tick “Declare without a significant result”.`, {
          confirmNoSignificance: [`Declare without a significant result: tick it to declare variant ${arm} the winner although ${why}.`],
        });
      }
      winner = arm;
      await update({ status: 'completed', winner: arm });
      // Declared against the rule: no day on which the rule found this winner.
      await recordClosingReading(trx, tenantId, latched, met ? latched.day : null);
      after = {
        ...before,
        status: 'completed',
        winner: arm,
        declared: arm,
        decision_met: met,
        declared_without_significance: !met,
        latched_winner: latched.arm,
        winner_day: latched.day,
      };
      message = met
        ? `Completed: ${name}, ${variantLabel(t, arm)} declared the winner, as the decision rule found on ${latched.day}.`
        : `Completed: ${name}, ${variantLabel(t, arm)} declared the winner without a significant result (the audit log records it).`;
      break;
    }
  }
  await recordAudit(trx, {
    action: `ab_test.${input.move}`,
    entityType: 'ab_test',
    entityId: t.id,
    before,
    after: { ...after, test_name: t.test_name },
  });
  return { id: t.id, move: input.move, status: to, winner, version: await version(trx, tenantId, t.id), message };
}

// ---------------------------------------------------------------------------------------------
// The handlers behind the server actions (lib/abtests/actions.ts); kept here so tests drive them through runTenantAction.

export const createAbTestHandler: ActionHandler<typeof createAbTestSchema, SaveResult> = async (trx, input, ctx) => {
  const r = await createAbTest(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: r.message, data: r };
};

export const updateAbTestHandler: ActionHandler<typeof updateAbTestSchema, SaveResult> = async (trx, input, ctx) => {
  const r = await updateAbTest(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: r.message, data: r };
};

export const moveAbTestHandler: ActionHandler<typeof moveAbTestSchema, MoveResult> = async (trx, input, ctx) => {
  const r = await moveAbTest(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: r.message, data: r };
};
