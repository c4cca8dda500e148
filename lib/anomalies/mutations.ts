// Moving anomalies on the board, inside the tenant's transaction (the action
// wrapper has checked the session, the membership and the buyer role).
//
// A move locks its anomalies (select ... for update, in id order) and checks
// each one's status against the one the card showed (`expected`): of two
// people moving one card at once, the second waits on the lock, then finds it
// moved and is told by whom and when; nothing of theirs is written. An
// incident's members move together, all or nothing. Every move writes the
// anomaly, its history row (ads_engine.anomaly_events) and an audit row in
// the same transaction; a refusal (ActionError) rolls all of it back.
//
// An incident moves by its key (platform|level|day) and the members its card
// showed: the members are worked out again under the grouping rule, in the
// same transaction, and the move is refused unless they are the ids sent.
// The history and the verdicts are written by ads_engine.record_anomaly_moves
// (SECURITY DEFINER, db/media_buying/102_anomaly_workflow.sql): the app role
// may read those tables, not write them; the actor is the transaction's user.
import 'server-only';
import { sql } from 'kysely';
import { recordAudit } from '@/lib/audit/mutations';
import type { Tx } from '@/lib/db';
import { formatUtc } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import { ActionError, type ActionHandler } from '@/lib/request/action-core';
import { metricLabel, typeLabel } from './labels';
import { incidentRows } from './queries';
import { parseIncidentKey, SNOOZE_INTERVAL, TRANSITIONS, type AnomalyStatus, type Move, type MoveInput, type moveSchema } from './schema';

export const ANOMALY_NOT_FOUND = 'That anomaly was not found in this tenant.';

interface Locked {
  id: string;
  status: AnomalyStatus;
  platform: string;
  level: string;
  entity_id: string;
  entity_name: string | null;
  metric_name: string;
  anomaly_type: string;
  day: string;
  severity: string;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_note: string | null;
  snoozed_until: Date | null;
}

export interface MoveResult {
  ids: string[];
  move: Move;
  status: AnomalyStatus;
  snoozedUntil: string | null;
  message: string;
}

/** Who a user is on the board: their name, else their email; a former member by the label the history kept. */
async function nameOf(trx: Tx, userId: string | null, fallback: string | null): Promise<string> {
  if (userId) {
    const u = await trx.selectFrom('saas.users').where('id', '=', userId).select(['name', 'email']).executeTakeFirst();
    if (u) return u.name?.trim() || u.email;
  }
  return fallback ?? (userId ? 'a former member' : 'the engine');
}

/** The last move that left the anomaly in its current status, if any. */
async function lastMoveInto(trx: Tx, tenantId: string, r: Locked) {
  const e = await sql<{ actor_user_id: string | null; actor_label: string | null; created_at: Date; note: string | null }>`
    select e.actor_user_id, e.actor_label, e.created_at, e.note
    from ads_engine.anomaly_events e
    where e.tenant_id = ${tenantId} and e.anomaly_id = ${r.id}::uuid and e.to_status = ${r.status} and e.action <> 'snooze'
    order by e.created_at desc, e.id desc
    limit 1`.execute(trx);
  return e.rows[0] ?? null;
}

const short = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The anomaly's current state in one sentence, naming who put it there and when. */
export async function stateSentence(trx: Tx, tenantId: string, r: Locked): Promise<string> {
  const last = await lastMoveInto(trx, tenantId, r);
  switch (r.status) {
    case 'resolved': {
      // The engine resolves anomalies whose data were restated (resolved_by NULL, a note saying so).
      const who = r.resolved_by ? await nameOf(trx, r.resolved_by, last?.actor_label ?? null) : last ? await nameOf(trx, last.actor_user_id, last.actor_label) : 'the engine';
      const at = r.resolved_at ?? last?.created_at ?? null;
      const note = r.resolution_note ? ` (${short(r.resolution_note)})` : '';
      return `Already resolved by ${who}${at ? ` at ${formatUtc(at)}` : ''}${note}.`;
    }
    case 'dismissed': {
      const who = last ? await nameOf(trx, last.actor_user_id, last.actor_label) : 'someone';
      return `Already dismissed as not an anomaly by ${who}${last ? ` at ${formatUtc(last.created_at)}` : ''}.`;
    }
    case 'investigating': {
      const who = last ? await nameOf(trx, last.actor_user_id, last.actor_label) : 'someone';
      return `Already acknowledged by ${who}${last ? ` at ${formatUtc(last.created_at)}` : ''}: it is under investigation.`;
    }
    case 'active': {
      const snoozed = r.snoozed_until ? ` (snoozed until ${formatUtc(r.snoozed_until, 'minutes')})` : '';
      if (!last) return `It is active${snoozed}.`;
      return `It was reopened by ${await nameOf(trx, last.actor_user_id, last.actor_label)} at ${formatUtc(last.created_at)} and is active${snoozed}.`;
    }
  }
}

const NEEDS: Readonly<Record<Move, string>> = {
  acknowledge: 'Only an active anomaly can be acknowledged.',
  resolve: 'Only an active or investigating anomaly can be resolved.',
  dismiss: 'Only an active or investigating anomaly can be dismissed.',
  reopen: 'Only a resolved or dismissed anomaly can be reopened.',
  snooze: 'Only an active anomaly can be snoozed.',
};

const labelOf = (r: Pick<Locked, 'entity_name' | 'entity_id' | 'metric_name' | 'anomaly_type' | 'day'>) =>
  `${r.entity_name ?? r.entity_id}: ${metricLabel(r.metric_name)} ${typeLabel(r.anomaly_type).toLowerCase()} on ${r.day}`;

/** Why r cannot take the move, or null. */
async function refusal(trx: Tx, tenantId: string, r: Locked, input: MoveInput): Promise<string | null> {
  if (r.status !== input.expected) return `${await stateSentence(trx, tenantId, r)} Nothing was changed.`;
  if (!TRANSITIONS[input.move].from.includes(r.status)) return `${await stateSentence(trx, tenantId, r)} ${NEEDS[input.move]}`;
  return null;
}

async function lock(trx: Tx, tenantId: string, ids: string[]): Promise<Map<string, Locked>> {
  const r = await sql<Locked>`
    select a.id::text as id, a.status, a.platform::text as platform, a.level::text as level, a.entity_id, a.entity_name,
           a.metric_name, a.anomaly_type, to_char(a.day, 'YYYY-MM-DD') as day, a.severity::text as severity,
           a.resolved_at, a.resolved_by::text as resolved_by, a.resolution_note,
           (select s.snoozed_until from ads_engine.anomaly_snoozes s
             where s.tenant_id = a.tenant_id and s.anomaly_id = a.id and s.snoozed_until > now()) as snoozed_until
    from ads.anomalies a
    where a.tenant_id = ${tenantId} and a.id = any(${ids}::uuid[])
    order by a.id
    for update of a`.execute(trx);
  return new Map(r.rows.map((x) => [x.id, x]));
}

/** The most refusals of one move named with their state (each is read from the history). */
const REFUSALS_NAMED = 10;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Refuses (ActionError, nothing written) an incident move whose members are not exactly the incident's now: the
 * anomalies of its platform, level and day that the grouping rule puts together in the column of the status the
 * card showed (with or without the snoozed ones, as the board shows them either way).
 */
async function checkIncident(trx: Tx, tenantId: string, input: MoveInput, rows: Map<string, Locked>): Promise<void> {
  const key = parseIncidentKey(input.incident ?? '');
  if (!key) throw new ActionError('Nothing was moved: that is not an incident of the board.', { incident: ['Incident: not an incident of the board (platform|level|day).'] });
  const where = `${platformLabel(key.platform)}, ${key.level === 'adset' ? 'ad sets' : 'campaigns'}, ${key.day}`;
  const off = [...rows.values()].filter((r) => r.platform !== key.platform || r.level !== key.level || r.day !== key.day);
  if (off.length) {
    throw new ActionError(
      `Nothing was moved: ${plural(off.length, 'anomaly is', 'anomalies are')} not of the incident on ${where}. ${off
        .slice(0, 5)
        .map((r) => `${labelOf(r)} (${platformLabel(r.platform)}).`)
        .join(' ')}`,
    );
  }
  const sent = new Set(input.ids);
  const same = (members: { id: string }[]) => members.length === sent.size && members.every((m) => sent.has(m.id));
  let members = await incidentRows(trx, tenantId, input.expected, false, key);
  if (!same(members) && input.expected === 'active') {
    const withSnoozed = await incidentRows(trx, tenantId, input.expected, true, key);
    if (same(withSnoozed) || !members.length) members = withSnoozed;
  }
  if (same(members)) return;
  if (!members.length) {
    throw new ActionError(
      `Nothing was moved: the anomalies on ${where} no longer form an incident (the board has changed since it was shown). Reload the board and move them as it shows them.`,
    );
  }
  const now = new Set(members.map((m) => m.id));
  const gone = input.ids.filter((id) => !now.has(id)).length;
  const added = members.filter((m) => !sent.has(m.id)).length;
  throw new ActionError(
    `Nothing was moved: the incident on ${where} has changed since the board was shown: it has ${plural(members.length, 'member', 'members')} now` +
      `${added ? `, ${added} not on the card` : ''}${gone ? `, and ${gone} of the card's ${gone === 1 ? 'is' : 'are'} no longer in it` : ''}. Reload the board and move it again.`,
  );
}

/**
 * Moves the anomalies of input.ids (one card, or an incident's members), all or nothing. Throws ActionError
 * (nothing written) when one is not in this tenant, has moved since the card was shown, or cannot take the move.
 */
export async function moveAnomalies(trx: Tx, tenantId: string, userId: string, input: MoveInput): Promise<MoveResult> {
  const ids = [...input.ids].sort();
  const rows = await lock(trx, tenantId, ids);
  const single = input.ids.length === 1;

  const missing = input.ids.filter((id) => !rows.has(id));
  if (missing.length) {
    if (single) throw new ActionError(ANOMALY_NOT_FOUND);
    throw new ActionError(`Nothing was moved: ${missing.length} of ${input.ids.length} were not found in this tenant.`, {
      ids: missing.map((id) => `${id}: ${ANOMALY_NOT_FOUND}`),
    });
  }
  // Each refusal named (its state: who moved it and when) up to REFUSALS_NAMED; an incident's others only counted.
  const refusals: { id: string; label: string; reason: string }[] = [];
  let refused = 0;
  for (const id of input.ids) {
    const r = rows.get(id)!;
    if (r.status === input.expected && TRANSITIONS[input.move].from.includes(r.status)) continue;
    refused++;
    if (refusals.length < REFUSALS_NAMED) refusals.push({ id, label: labelOf(r), reason: (await refusal(trx, tenantId, r, input))! });
  }
  if (refused) {
    if (single) throw new ActionError(refusals[0]!.reason);
    const more = refused - refusals.length;
    throw new ActionError(
      `Nothing was moved: ${refused} of ${input.ids.length} cannot be. ${refusals.map((x) => `${x.label}: ${x.reason}`).join(' ')}${more ? ` And ${more} more.` : ''}`,
      { ids: refusals.map((x) => `${x.id}: ${x.reason}`) },
    );
  }

  if (input.incident) await checkIncident(trx, tenantId, input, rows);

  const spec = TRANSITIONS[input.move];
  const to: AnomalyStatus = spec.to === 'same' ? input.expected : spec.to;
  const note = input.note ?? null;
  let snoozedUntil: string | null = null;

  switch (input.move) {
    case 'acknowledge':
      await sql`update ads.anomalies set status = 'investigating' where tenant_id = ${tenantId} and id = any(${ids}::uuid[])`.execute(trx);
      break;
    case 'resolve':
      await sql`
        update ads.anomalies set status = 'resolved', resolved_at = now(), resolved_by = ${userId}::uuid, resolution_note = ${note}
        where tenant_id = ${tenantId} and id = any(${ids}::uuid[])`.execute(trx);
      break;
    case 'dismiss':
      await sql`update ads.anomalies set status = 'dismissed' where tenant_id = ${tenantId} and id = any(${ids}::uuid[])`.execute(trx);
      break;
    case 'reopen':
      // The resolution is kept in the history (and the audit log); the row is open again.
      await sql`
        update ads.anomalies set status = 'active', resolved_at = null, resolved_by = null, resolution_note = null
        where tenant_id = ${tenantId} and id = any(${ids}::uuid[])`.execute(trx);
      break;
    case 'snooze': {
      const r = await sql<{ until: string }>`
        insert into ads_engine.anomaly_snoozes (tenant_id, anomaly_id, snoozed_until, snoozed_by, snoozed_at)
        select ${tenantId}::uuid, x, now() + ${SNOOZE_INTERVAL[input.snooze!]}::interval, ${userId}::uuid, now()
        from unnest(${ids}::uuid[]) as x
        on conflict (tenant_id, anomaly_id) do update
          set snoozed_until = excluded.snoozed_until, snoozed_by = excluded.snoozed_by, snoozed_at = excluded.snoozed_at
        returning to_char(snoozed_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as until`.execute(trx);
      snoozedUntil = r.rows[0]!.until;
      break;
    }
  }
  // Any move but a snooze ends a snooze: leaving Active, and reopening (a snooze left from before the anomaly
  // was closed, by the engine's restatement say, must not hide the reopened card).
  if (input.move !== 'snooze') {
    await sql`delete from ads_engine.anomaly_snoozes where tenant_id = ${tenantId} and anomaly_id = any(${ids}::uuid[])`.execute(trx);
  }
  // The history rows (actor: this transaction's user) and the verdict the feedback counts (recorded on resolve
  // and dismiss, removed on reopen), written by the database.
  await sql`
    select ads_engine.record_anomaly_moves(${tenantId}::uuid, ${ids}::uuid[], ${input.move}, ${input.expected}, ${note}, ${input.incident ?? null})`.execute(
    trx,
  );

  for (const id of ids) {
    const r = rows.get(id)!;
    await recordAudit(trx, {
      action: `anomaly.${input.move}`,
      entityType: 'anomaly',
      entityId: id,
      before: { status: r.status, snoozed_until: r.snoozed_until, resolution_note: r.resolution_note },
      after: {
        status: to,
        note,
        ...(snoozedUntil ? { snoozed_until: snoozedUntil } : {}),
        ...(input.incident ? { incident: input.incident, members: ids.length } : {}),
        platform: r.platform,
        entity_id: r.entity_id,
        metric_name: r.metric_name,
        anomaly_type: r.anomaly_type,
        day: r.day,
      },
    });
  }

  const first = rows.get(input.ids[0]!)!;
  const what = single
    ? labelOf(first)
    : `${plural(ids.length, 'anomaly', 'anomalies')}${input.incident ? ` of the incident on ${platformLabel(first.platform)}, ${first.day}` : ''}`;
  const message = {
    acknowledge: `Acknowledged: ${what} ${single ? 'is' : 'are'} under investigation.`,
    resolve: `Resolved: ${what}.`,
    dismiss: `Dismissed as not ${single ? 'an anomaly' : 'anomalies'}: ${what}. The feedback of ${single ? 'its' : 'their'} kind counts it.`,
    reopen: `Reopened: ${what} ${single ? 'is' : 'are'} active again.`,
    snooze: `Snoozed until ${snoozedUntil ? formatUtc(snoozedUntil, 'minutes') : ''}: ${what} ${single ? 'returns' : 'return'} to Active by ${single ? 'itself' : 'themselves'} then.`,
  }[input.move];
  return { ids: input.ids, move: input.move, status: to, snoozedUntil, message };
}

// The handler behind the server action (lib/anomalies/actions.ts); kept here so tests drive it through runTenantAction.
export const moveAnomaliesHandler: ActionHandler<typeof moveSchema, MoveResult> = async (trx, input, ctx) => {
  const r = await moveAnomalies(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: r.message, data: r };
};
