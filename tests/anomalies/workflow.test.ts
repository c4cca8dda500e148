// Moving anomalies through the action wrapper, on the real database: each
// transition with its history row and audit row; what cannot move says why and
// names the current state; notes stored and bounded; another tenant's id and a
// viewer change nothing; two people moving one card on real concurrent
// connections; snoozes that hide and return; the feedback figures; the
// critical banner's count.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { formatUtc } from '../../lib/format/time';
import { moveAnomaliesHandler, ANOMALY_NOT_FOUND, type MoveResult } from '../../lib/anomalies/mutations';
import { criticalActiveCount, feedbackFigures, feedbackKey, readHistory } from '../../lib/anomalies/queries';
import { navCounts } from '../../lib/shell/queries';
import { feedbackText } from '../../lib/anomalies/labels';
import { moveSchema } from '../../lib/anomalies/schema';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { withTenant } from '../../lib/db/pool';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import { anomalyState, audits, DAY, events, insertAnomaly } from './fixtures';

const app = appKysely(6);
const owner = ownerPool();

type Handler = ActionHandler<typeof moveSchema, MoveResult>;
const move = (userId: string, input: unknown, handler: Handler = moveAnomaliesHandler) =>
  runTenantAction({ schema: moveSchema, minRole: 'buyer', handler, userId, preferredTenantId: null, input, db: app.db });

const one = async <T>(tenant: string, text: string, values: unknown[] = []) => inTenant(owner, tenant, async (c) => (await c.query(text, values)).rows[0] as T);

describe('the transitions', () => {
  it('acknowledge, resolve, reopen, dismiss, reopen: status, resolution fields, one history row and one audit row per move', async () => {
    const t = await createTeam(owner, 'Anomaly moves');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1', name: 'Brand search' });

    const ack = await move(t.buyer.id, { ids: id, move: 'acknowledge', expected: 'active', note: 'Looking at the pixel' });
    expect(ack).toMatchObject({ ok: true, message: `Acknowledged: Brand search: CPA spike on ${DAY} is under investigation.` });
    expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('investigating');

    const res = await move(t.admin.id, { ids: [id], move: 'resolve', expected: 'investigating', note: '  Pixel fixed on the checkout page  ' });
    expect(res.ok).toBe(true);
    const resolved = (await anomalyState(owner, t.tenantId, id))!;
    expect(resolved).toMatchObject({ status: 'resolved', resolved_by: t.admin.id, resolution_note: 'Pixel fixed on the checkout page' });
    expect(resolved.resolved_at).toBeInstanceOf(Date);

    expect((await move(t.buyer.id, { ids: id, move: 'reopen', expected: 'resolved' })).ok).toBe(true);
    expect(await anomalyState(owner, t.tenantId, id)).toMatchObject({ status: 'active', resolved_at: null, resolved_by: null, resolution_note: null });

    expect((await move(t.buyer.id, { ids: id, move: 'dismiss', expected: 'active', note: 'Promo day' })).ok).toBe(true);
    expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('dismissed');
    expect((await move(t.admin.id, { ids: id, move: 'reopen', expected: 'dismissed' })).ok).toBe(true);

    const ev = await events(owner, t.tenantId, id);
    expect(ev.map((e) => [e.action, e.from_status, e.to_status, e.note, e.actor_user_id])).toEqual([
      ['acknowledge', 'active', 'investigating', 'Looking at the pixel', t.buyer.id],
      ['resolve', 'investigating', 'resolved', 'Pixel fixed on the checkout page', t.admin.id],
      ['reopen', 'resolved', 'active', null, t.buyer.id],
      ['dismiss', 'active', 'dismissed', 'Promo day', t.buyer.id],
      ['reopen', 'dismissed', 'active', null, t.admin.id],
    ]);
    const au = await audits(owner, t.tenantId, id);
    expect(au.map((a) => [a.action, a.actor_user_id, a.before.status, a.after.status])).toEqual([
      ['anomaly.acknowledge', t.buyer.id, 'active', 'investigating'],
      ['anomaly.resolve', t.admin.id, 'investigating', 'resolved'],
      ['anomaly.reopen', t.buyer.id, 'resolved', 'active'],
      ['anomaly.dismiss', t.buyer.id, 'active', 'dismissed'],
      ['anomaly.reopen', t.admin.id, 'dismissed', 'active'],
    ]);
    // the history as the detail shows it: newest first, names of the people
    const history = await rolledBackAsApp(app.db, t.tenantId, (trx) => readHistory(trx, t.tenantId, id));
    expect(history.map((h) => `${h.move} by ${h.who}`)).toEqual([
      `reopen by ${t.admin.name}`,
      `dismiss by ${t.buyer.name}`,
      `reopen by ${t.buyer.name}`,
      `resolve by ${t.admin.name}`,
      `acknowledge by ${t.buyer.name}`,
    ]);
  });

  it('refuses a move the current state does not allow, naming it, and changes nothing', async () => {
    const t = await createTeam(owner, 'Anomaly refusals');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1' });
    expect((await move(t.buyer.id, { ids: id, move: 'resolve', expected: 'active', note: 'Budget cap hit' })).ok).toBe(true);
    const at = (await anomalyState(owner, t.tenantId, id))!.resolved_at!;
    const before = await count(owner, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'anomaly'", [t.tenantId]);

    expect(await move(t.admin.id, { ids: id, move: 'acknowledge', expected: 'resolved' })).toEqual({
      ok: false,
      message: `Already resolved by ${t.buyer.name} at ${formatUtc(at)} (Budget cap hit). Only an active anomaly can be acknowledged.`,
    });
    // the card showed it active: someone resolved it since
    expect(await move(t.admin.id, { ids: id, move: 'dismiss', expected: 'active' })).toEqual({
      ok: false,
      message: `Already resolved by ${t.buyer.name} at ${formatUtc(at)} (Budget cap hit). Nothing was changed.`,
    });
    const active = await insertAnomaly(owner, t.tenantId, { entity: 'c2' });
    expect(await move(t.admin.id, { ids: active, move: 'reopen', expected: 'active' })).toEqual({
      ok: false,
      message: 'It is active. Only a resolved or dismissed anomaly can be reopened.',
    });
    expect(await count(owner, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'anomaly'", [t.tenantId])).toBe(before);
    expect(await count(owner, 'select 1 from ads_engine.anomaly_events where tenant_id = $1', [t.tenantId])).toBe(1);
    expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('resolved');
  });

  it('validates and bounds the input, naming the field', async () => {
    const t = await createTeam(owner, 'Anomaly input');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1' });
    const r1 = await move(t.buyer.id, { ids: id, move: 'resolve', expected: 'active' });
    expect(r1).toMatchObject({ ok: false, fieldErrors: { note: ['Note: say how it was resolved (at least 3 characters).'] } });
    const r2 = await move(t.buyer.id, { ids: id, move: 'acknowledge', expected: 'active', note: 'x'.repeat(1001) });
    expect(r2).toMatchObject({ ok: false, fieldErrors: { note: ['Note: at most 1000 characters.'] } });
    const r3 = await move(t.buyer.id, { ids: 'not-a-uuid', move: 'acknowledge', expected: 'active' });
    expect(r3).toMatchObject({ ok: false, fieldErrors: { ids: ['Anomaly: not an anomaly id.'] } });
    const r4 = await move(t.buyer.id, { ids: id, move: 'snooze', expected: 'active' });
    expect(r4).toMatchObject({ ok: false, fieldErrors: { snooze: ['Snooze: choose for how long.'] } });
    const r5 = await move(t.buyer.id, { ids: id, move: 'explode', expected: 'sideways' });
    expect(r5).toMatchObject({
      ok: false,
      fieldErrors: {
        move: ['Move: choose acknowledge, resolve, reopen, dismiss or snooze.'],
        expected: ['Expected status: active, investigating, resolved or dismissed.'],
      },
    });
    // exactly 1000 characters is kept whole
    const long = 'é'.repeat(1000);
    expect((await move(t.buyer.id, { ids: id, move: 'resolve', expected: 'active', note: long })).ok).toBe(true);
    expect((await anomalyState(owner, t.tenantId, id))!.resolution_note).toBe(long);
    expect((await events(owner, t.tenantId, id))[0]!.note).toBe(long);
  });

  it("another tenant's anomaly is not found and stays as it was; a viewer is refused by the server", async () => {
    const a = await createTeam(owner, 'Anomaly tenant A');
    const b = await createTeam(owner, 'Anomaly tenant B');
    const theirs = await insertAnomaly(owner, b.tenantId, { entity: 'b1' });
    expect(await move(a.buyer.id, { ids: theirs, move: 'acknowledge', expected: 'active' })).toEqual({ ok: false, message: ANOMALY_NOT_FOUND });
    expect((await anomalyState(owner, b.tenantId, theirs))!.status).toBe('active');
    expect(await count(owner, 'select 1 from ads_engine.anomaly_events where anomaly_id = $1', [theirs])).toBe(0);

    const mine = await insertAnomaly(owner, a.tenantId, { entity: 'a1' });
    expect(await move(a.viewer.id, { ids: mine, move: 'acknowledge', expected: 'active' })).toEqual({
      ok: false,
      message: 'This needs the Buyer role; you are Viewer.',
    });
    expect((await anomalyState(owner, a.tenantId, mine))!.status).toBe('active');
    // a set mixing one's own and another tenant's: all or nothing
    const set = await move(a.buyer.id, { ids: [mine, theirs], move: 'acknowledge', expected: 'active' });
    expect(set).toMatchObject({ ok: false, message: 'Nothing was moved: 1 of 2 were not found in this tenant.' });
    expect((await anomalyState(owner, a.tenantId, mine))!.status).toBe('active');
  });
});

/** A gate that lets n callers through together. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((resolve) => (open = resolve));
  return async () => {
    if (++arrived === n) open();
    await all;
  };
}

describe('two people moving one card at once', () => {
  it('20 rounds on two real connections: one move wins, the other is told the current state, one history and one audit row', async () => {
    const t = await createTeam(owner, 'Anomaly race');
    const tally = { investigating: 0, resolved: 0 };
    for (let round = 0; round < 20; round++) {
      const id = await insertAnomaly(owner, t.tenantId, { entity: `c${round}` });
      const wait = barrier(2);
      const gated: Handler = async (trx, input, ctx) => {
        await wait();
        return moveAnomaliesHandler(trx, input, ctx);
      };
      const [x, y] = await Promise.all([
        move(t.buyer.id, { ids: id, move: 'acknowledge', expected: 'active' }, gated),
        move(t.admin.id, { ids: id, move: 'resolve', expected: 'active', note: 'Budget cap' }, gated),
      ]);
      const winners = [x, y].filter((r) => r.ok);
      const losers = [x, y].filter((r) => !r.ok);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(losers, `round ${round}`).toHaveLength(1);
      const s = (await anomalyState(owner, t.tenantId, id))!;
      if (x.ok) {
        expect(s.status).toBe('investigating');
        tally.investigating++;
        expect(losers[0]!.message).toMatch(new RegExp(`^Already acknowledged by ${t.buyer.name} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC: it is under investigation\\. Nothing was changed\\.$`));
      } else {
        expect(s.status).toBe('resolved');
        tally.resolved++;
        expect(losers[0]!.message).toBe(`Already resolved by ${t.admin.name} at ${formatUtc(s.resolved_at!)} (Budget cap). Nothing was changed.`);
      }
      expect(await count(owner, 'select 1 from ads_engine.anomaly_events where tenant_id = $1 and anomaly_id = $2', [t.tenantId, id])).toBe(1);
      expect((await audits(owner, t.tenantId, id)).length).toBe(1);
    }
    expect(tally.investigating + tally.resolved).toBe(20);
    expect(await count(owner, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'anomaly'", [t.tenantId])).toBe(20);
  });
});

describe('snooze', () => {
  it('hides an active card from the banner until its time, then it is back by itself; acknowledging ends it', async () => {
    const t = await createTeam(owner, 'Anomaly snooze');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1', severity: 'critical' });
    await insertAnomaly(owner, t.tenantId, { entity: 'c2', severity: 'critical' });
    const banner = () => rolledBackAsApp(app.db, t.tenantId, (trx) => criticalActiveCount(trx, t.tenantId));
    // the navigation's count is what the board shows in Active and Investigating: not a snoozed card
    const nav = async () => (await rolledBackAsApp(app.db, t.tenantId, (trx) => navCounts(trx, t.tenantId))).activeAnomalies;
    expect(await banner()).toBe(2);
    expect(await nav()).toBe(2);

    const r = await move(t.buyer.id, { ids: id, move: 'snooze', expected: 'active', snooze: '1d' });
    expect(r.ok).toBe(true);
    const until = await one<{ until: Date; hours: number }>(
      t.tenantId,
      'select snoozed_until as until, extract(epoch from snoozed_until - snoozed_at)::float8 / 3600 as hours from ads_engine.anomaly_snoozes where anomaly_id = $1',
      [id],
    );
    expect(until.hours).toBe(24);
    expect(r.ok && r.message).toBe(`Snoozed until ${formatUtc(until.until, 'minutes')}: Campaign c1: CPA spike on ${DAY} returns to Active by itself then.`);
    expect(await banner()).toBe(1);
    expect(await nav()).toBe(1);
    expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('active');
    expect((await events(owner, t.tenantId, id)).map((e) => [e.action, e.from_status, e.to_status])).toEqual([['snooze', 'active', 'active']]);

    // time passes: the snooze ended an hour ago (set back by the owner), and the card counts again
    await inTenant(owner, t.tenantId, (c) =>
      c.query("update ads_engine.anomaly_snoozes set snoozed_at = now() - interval '25 hours', snoozed_until = now() - interval '1 hour' where anomaly_id = $1", [id]),
    );
    expect(await banner()).toBe(2);
    expect(await nav()).toBe(2);

    // snoozed again, then acknowledged: the snooze row goes, and an acknowledged card never counts
    expect((await move(t.buyer.id, { ids: id, move: 'snooze', expected: 'active', snooze: '1w' })).ok).toBe(true);
    expect(await banner()).toBe(1);
    expect((await move(t.buyer.id, { ids: id, move: 'acknowledge', expected: 'active' })).ok).toBe(true);
    expect(await count(owner, 'select 1 from ads_engine.anomaly_snoozes where anomaly_id = $1', [id])).toBe(0);
    expect(await banner()).toBe(1);
    // an investigating card cannot be snoozed
    const no = await move(t.buyer.id, { ids: id, move: 'snooze', expected: 'investigating', snooze: '1h' });
    expect(no).toMatchObject({ ok: false });
    expect(!no.ok && no.message).toMatch(/^Already acknowledged by .* it is under investigation\. Only an active anomaly can be snoozed\.$/);
  });

  it('the banner counts active critical anomalies only: not high ones, not investigating, resolved or another tenant', async () => {
    const t = await createTeam(owner, 'Anomaly banner');
    const other = await createTeam(owner, 'Anomaly banner, other');
    await insertAnomaly(owner, t.tenantId, { entity: 'a', severity: 'critical' });
    await insertAnomaly(owner, t.tenantId, { entity: 'b', severity: 'critical', status: 'investigating' });
    await insertAnomaly(owner, t.tenantId, { entity: 'c', severity: 'critical', status: 'resolved' });
    await insertAnomaly(owner, t.tenantId, { entity: 'd', severity: 'critical', status: 'dismissed' });
    await insertAnomaly(owner, t.tenantId, { entity: 'e', severity: 'high' });
    await insertAnomaly(owner, other.tenantId, { entity: 'x', severity: 'critical' });
    expect(await rolledBackAsApp(app.db, t.tenantId, (trx) => criticalActiveCount(trx, t.tenantId))).toBe(1);
    expect(await rolledBackAsApp(app.db, other.tenantId, (trx) => criticalActiveCount(trx, other.tenantId))).toBe(1);
  });
});

describe('the record is the database\'s', () => {
  /** ads_engine.record_anomaly_moves called by the app role in its own transaction (as `userId`), or its error. */
  const record = (tenant: string, userId: string | null, args: [string[], string, string, string | null]) =>
    withTenant(
      tenant,
      async (trx) => {
        const [ids, action, from, incident] = args;
        const r = await sql<{ n: number }>`select ads_engine.record_anomaly_moves(${tenant}::uuid, ${ids}::uuid[], ${action}, ${from}, null, ${incident}) as n`.execute(trx);
        return r.rows[0]!.n;
      },
      { userId },
      app.db,
    ).catch((e: unknown) => String(e));

  it('record_anomaly_moves writes only what a move just did, in the name of its user; the app cannot write the tables', async () => {
    const t = await createTeam(owner, 'Anomaly record');
    const other = await createTeam(owner, 'Anomaly record, other');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1' });
    const theirs = await insertAnomaly(owner, other.tenantId, { entity: 'x' });
    // a resolve that was not made, an acknowledge of an active one, another tenant's id, no user, a viewer, a forged incident
    expect(await record(t.tenantId, t.buyer.id, [[id], 'resolve', 'active', null])).toMatch(/do not show the resolve/);
    expect(await record(t.tenantId, t.buyer.id, [[id], 'acknowledge', 'active', null])).toMatch(/do not show the acknowledge/);
    expect(await record(t.tenantId, t.buyer.id, [[id, theirs], 'reopen', 'resolved', null])).toMatch(/1 of 2 anomalies were not found/);
    expect(await record(t.tenantId, null, [[id], 'reopen', 'resolved', null])).toMatch(/saas.user_id is not set/);
    expect(await record(t.tenantId, t.viewer.id, [[id], 'reopen', 'resolved', null])).toMatch(/not a buyer or an admin/);
    expect(await record(t.tenantId, t.buyer.id, [[id], 'reopen', 'resolved', 'google|campaign|2020-01-01'])).toMatch(/do not show the reopen/);
    expect(await record(t.tenantId, t.buyer.id, [[id], 'snooze', 'investigating', null])).toMatch(/snooze starts from active only/);
    expect(await events(owner, t.tenantId, id)).toEqual([]);
    // and the tables themselves: read, not written
    const denied = await withTenant(
      t.tenantId,
      (trx) => sql`delete from ads_engine.anomaly_verdicts where tenant_id = ${t.tenantId}::uuid`.execute(trx).then(() => 'deleted'),
      {},
      app.db,
    ).catch((e: unknown) => String(e));
    expect(denied).toMatch(/permission denied/);
  });

  it('a snooze ends when the engine closes the anomaly as restated, and when a buyer reopens it', async () => {
    const t = await createTeam(owner, 'Anomaly restated snooze');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1', severity: 'critical' });
    expect((await move(t.buyer.id, { ids: id, move: 'snooze', expected: 'active', snooze: '1w' })).ok).toBe(true);
    expect(await count(owner, 'select 1 from ads_engine.anomaly_snoozes where anomaly_id = $1', [id])).toBe(1);
    expect((await move(t.buyer.id, { ids: id, move: 'dismiss', expected: 'active' })).ok).toBe(true);
    // a snooze row left behind (as a closing outside the board would leave it), then a reopen: it goes
    await inTenant(owner, t.tenantId, (c) =>
      c.query("insert into ads_engine.anomaly_snoozes (tenant_id, anomaly_id, snoozed_until) values ($1, $2, now() + interval '7 days')", [t.tenantId, id]),
    );
    expect((await move(t.buyer.id, { ids: id, move: 'reopen', expected: 'dismissed' })).ok).toBe(true);
    expect(await count(owner, 'select 1 from ads_engine.anomaly_snoozes where anomaly_id = $1', [id])).toBe(0);
    expect(await rolledBackAsApp(app.db, t.tenantId, (trx) => criticalActiveCount(trx, t.tenantId))).toBe(1);
  });
});

describe('feedback', () => {
  it('"CPC spikes on Meta: 3 of 9 dismissed as not anomalies in the last 90 days", and reopening takes a dismissal back', async () => {
    const t = await createTeam(owner, 'Anomaly feedback');
    // tenant yesterday is the day before today in its zone: anomaly days relative to the database's current date
    const today = (await one<{ d: string }>(t.tenantId, "select to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as d", [t.tenantId])).d;
    const dayBack = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
    // 9 Meta CPC spikes in the last 90 days (days 0..80 back), one at 95 days back (outside), one Google CPC spike, one Meta CPC drop
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push(await insertAnomaly(owner, t.tenantId, { entity: `m${i}`, metric: 'cpc', type: 'spike', day: dayBack(i * 10) }));
    const old = await insertAnomaly(owner, t.tenantId, { entity: 'old', metric: 'cpc', type: 'spike', day: dayBack(95) });
    const google = await insertAnomaly(owner, t.tenantId, { entity: 'g', platform: 'google', metric: 'cpc', type: 'spike', day: dayBack(1) });
    const drop = await insertAnomaly(owner, t.tenantId, { entity: 'd', metric: 'cpc', type: 'drop', day: dayBack(1) });
    for (const id of [ids[0]!, ids[1]!, ids[2]!, ids[3]!, old, google, drop]) {
      expect((await move(t.buyer.id, { ids: id, move: 'dismiss', expected: 'active' })).ok).toBe(true);
    }
    // one of the four Meta dismissals is taken back: 3 remain; one other is resolved (a confirmed verdict, not a dismissal)
    expect((await move(t.admin.id, { ids: ids[3]!, move: 'reopen', expected: 'dismissed' })).ok).toBe(true);
    expect((await move(t.admin.id, { ids: ids[4]!, move: 'resolve', expected: 'active', note: 'Auction got expensive' })).ok).toBe(true);

    const figures = await rolledBackAsApp(app.db, t.tenantId, (trx) => feedbackFigures(trx, t.tenantId));
    expect(figures.get(feedbackKey('meta', 'cpc', 'spike'))).toEqual({ platform: 'meta', metric: 'cpc', type: 'spike', dismissed: 3, total: 9 });
    expect(feedbackText(figures.get(feedbackKey('meta', 'cpc', 'spike')), 90)).toBe('CPC spikes on Meta: 3 of 9 dismissed as not anomalies in the last 90 days');
    expect(figures.get(feedbackKey('google', 'cpc', 'spike'))).toMatchObject({ dismissed: 1, total: 1 });
    expect(figures.get(feedbackKey('meta', 'cpc', 'drop'))).toMatchObject({ dismissed: 1, total: 1 });

    // the resolved one leaves the board after 30 days (maintenance deletes it): its verdict still counts in the 9
    await inTenant(owner, t.tenantId, async (c) => {
      await c.query("update ads.anomalies set resolved_at = now() - interval '31 days' where id = $1", [ids[4]]);
      const m = await c.query('select ads_engine.run_maintenance($1) as r', [t.tenantId]);
      expect(m.rows[0].r.anomalies_deleted).toBe(1);
    });
    expect(await count(owner, 'select 1 from ads.anomalies where id = $1', [ids[4]])).toBe(0);
    const after = await rolledBackAsApp(app.db, t.tenantId, (trx) => feedbackFigures(trx, t.tenantId));
    expect(after.get(feedbackKey('meta', 'cpc', 'spike'))).toMatchObject({ dismissed: 3, total: 9 });
  });
});
