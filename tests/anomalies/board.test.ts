// The board's reads on the real database: the incident rule (several entities
// of one platform falling together on one day), not grouping unrelated falls,
// the engine's own platform incident not counted twice, an incident moved as
// one (all or nothing), the columns' filters and counts against an independent
// SQL count, snoozed cards hidden and counted, resolved cards leaving after 30
// days.
import { describe, expect, it } from 'vitest';
import { moveAnomaliesHandler } from '../../lib/anomalies/mutations';
import { readBoard, readColumn, groupCards, type BoardCard } from '../../lib/anomalies/queries';
import { anomalyDetail } from '../../lib/anomalies/page-data';
import { boardFilterSchema, moveSchema } from '../../lib/anomalies/schema';
import { runTenantAction } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import { addDays, AS_OF, daily, insertMetrics } from '../engine/fixtures';
import { anomalyState, DAY, insertAnomaly } from './fixtures';

const app = appKysely(4);
const owner = ownerPool();

const move = (userId: string, input: unknown) =>
  runTenantAction({ schema: moveSchema, minRole: 'buyer', handler: moveAnomaliesHandler, userId, preferredTenantId: null, input, db: app.db });
const board = (tenant: string, params: Record<string, string> = {}) =>
  rolledBackAsApp(app.db, tenant, (trx) => readBoard(trx, tenant, boardFilterSchema.parse(params)));
const incidents = (cards: BoardCard[]) => cards.filter((c): c is Extract<BoardCard, { kind: 'incident' }> => c.kind === 'incident');

/** n campaigns of a platform delivering every day of the week before DAY and on it (the 50 % rule's denominator). */
async function delivering(tenant: string, platform: string, ids: string[]) {
  await inTenant(owner, tenant, (c) =>
    insertMetrics(c, tenant, ids.flatMap((id) => daily(addDays(DAY, -7), DAY, () => ({ id, platform, spend: 100, impressions: 10000, clicks: 100, conversions: 5, value: 250 })))),
  );
}

describe('incidents', () => {
  it('3 campaigns of one platform falling on one day are one incident; two unrelated falls, another day or platform are not', async () => {
    const t = await createTeam(owner, 'Anomaly incidents');
    await delivering(t.tenantId, 'meta', ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10']);
    await delivering(t.tenantId, 'google', ['g1', 'g2', 'g3', 'g4', 'g5', 'g6']);
    // meta, DAY: m1 CPA spike (fewer conversions), m2 tracking loss, m3 CTR drop and m3 CPC spike: 3 entities, 4 members
    const m1 = await insertAnomaly(owner, t.tenantId, { entity: 'm1', metric: 'cpa', type: 'spike', severity: 'high' });
    const m2 = await insertAnomaly(owner, t.tenantId, { entity: 'm2', metric: 'conversions', type: 'tracking_loss', severity: 'critical', money: 300 });
    const m3a = await insertAnomaly(owner, t.tenantId, { entity: 'm3', metric: 'ctr', type: 'drop' });
    const m3b = await insertAnomaly(owner, t.tenantId, { entity: 'm3', metric: 'cpc', type: 'spike', severity: 'low' });
    // not falls: m4 CPA drop (good news), m5 spend spike, m6 trend change
    const m4 = await insertAnomaly(owner, t.tenantId, { entity: 'm4', metric: 'cpa', type: 'drop' });
    await insertAnomaly(owner, t.tenantId, { entity: 'm5', metric: 'spend', type: 'spike' });
    await insertAnomaly(owner, t.tenantId, { entity: 'm6', metric: 'cpa', type: 'trend_change' });
    // meta, the day before: two falls (2 of 10 delivering: under 3 and under half)
    await insertAnomaly(owner, t.tenantId, { entity: 'm7', day: addDays(DAY, -1), metric: 'cpa', type: 'spike' });
    await insertAnomaly(owner, t.tenantId, { entity: 'm8', day: addDays(DAY, -1), metric: 'ctr', type: 'drop' });
    // google, DAY: two falls of 6 (a third): not an incident; they do not join meta's
    await insertAnomaly(owner, t.tenantId, { entity: 'g1', platform: 'google', metric: 'cpa', type: 'spike' });
    await insertAnomaly(owner, t.tenantId, { entity: 'g2', platform: 'google', metric: 'roas', type: 'drop' });
    // meta, DAY, ad set level: one fall (another level: not a member)
    await insertAnomaly(owner, t.tenantId, { entity: 'as1', level: 'adset', campaign: 'm9', metric: 'cpa', type: 'spike' });

    const b = await board(t.tenantId);
    const active = b.columns.find((c) => c.status === 'active')!;
    const inc = incidents(active.cards);
    expect(inc).toHaveLength(1);
    expect(inc[0]).toMatchObject({ platform: 'meta', level: 'campaign', day: DAY, entities: 3, activeEntities: 10, severity: 'critical', money: 600 });
    expect(inc[0]!.members.map((m) => m.id).sort()).toEqual([m1, m2, m3a, m3b].sort());
    // 12 anomalies in Active, as 12 - 4 + 1 = 9 cards; the incident first (critical)
    expect(active.count).toBe(12);
    expect(active.cards).toHaveLength(9);
    expect(active.cards[0]!.kind).toBe('incident');
    expect(active.cards.some((c) => c.kind === 'single' && c.anomaly.id === m4)).toBe(true);

    // acting on the incident acts on every member, all or nothing
    const ids = inc[0]!.members.map((m) => m.id);
    await move(t.buyer.id, { ids: m1, move: 'acknowledge', expected: 'active' });
    const refused = await move(t.admin.id, { ids, move: 'acknowledge', expected: 'active', incident: 'meta|campaign|2025-03-31' });
    expect(refused).toMatchObject({ ok: false });
    expect(!refused.ok && refused.message).toMatch(/^Nothing was moved: 1 of 4 cannot be\. Campaign m1: CPA spike on 2025-03-31: Already acknowledged by /);
    for (const id of [m2, m3a, m3b]) expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('active');
    // the three left (still 3 entities? no: m2 and m3 only, 2 of 10): no longer an incident in Active
    const b2 = await board(t.tenantId);
    expect(incidents(b2.columns.find((c) => c.status === 'active')!.cards)).toHaveLength(0);
    const rest = [m2, m3a, m3b];
    // moved as that incident they are refused: the server works the members out again, and there is none now
    const stale = await move(t.admin.id, { ids: rest, move: 'acknowledge', expected: 'active', incident: 'meta|campaign|2025-03-31' });
    expect(stale).toMatchObject({ ok: false });
    expect(!stale.ok && stale.message).toMatch(/^Nothing was moved: the anomalies on Meta, campaigns, 2025-03-31 no longer form an incident/);
    for (const id of rest) expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('active');
    // as the three cards the board shows now, together
    const ok = await move(t.admin.id, { ids: rest, move: 'acknowledge', expected: 'active' });
    expect(ok).toMatchObject({ ok: true, message: 'Acknowledged: 3 anomalies are under investigation.' });
    // now all four are under investigation: the incident is there again, in that column
    const b3 = await board(t.tenantId);
    const inv = incidents(b3.columns.find((c) => c.status === 'investigating')!.cards);
    expect(inv.map((c) => c.members.length)).toEqual([4]);
    // an incident card moves by its key and the members it showed: not with one of them left out, nor with one more
    const members = inv[0]!.members.map((m) => m.id);
    const key = 'meta|campaign|2025-03-31';
    const fewer = await move(t.admin.id, { ids: members.slice(1), move: 'resolve', expected: 'investigating', note: 'Pixel fixed', incident: key });
    expect(!fewer.ok && fewer.message).toMatch(/^Nothing was moved: the incident on Meta, campaigns, 2025-03-31 has changed since the board was shown: it has 4 members now, 1 not on the card\./);
    const more = await move(t.admin.id, { ids: [...members, m4], move: 'resolve', expected: 'active', note: 'Pixel fixed', incident: key });
    expect(more).toMatchObject({ ok: false });
    const resolved = await move(t.admin.id, { ids: members, move: 'resolve', expected: 'investigating', note: 'Pixel fixed', incident: key });
    expect(resolved).toMatchObject({ ok: true, message: 'Resolved: 4 anomalies of the incident on Meta, 2025-03-31.' });
    expect(await count(owner, "select 1 from ads_engine.anomaly_events where tenant_id = $1 and incident = 'meta|campaign|2025-03-31'", [t.tenantId])).toBe(4);
    // a key that is not one, or members of another level: refused before anything is read
    expect(await move(t.admin.id, { ids: m4, move: 'dismiss', expected: 'active', incident: 'meta|campaign|2025-02-30' })).toMatchObject({
      ok: false,
      fieldErrors: { incident: ['Incident: not an incident of the board (platform|level|day).'] },
    });
    expect(await move(t.admin.id, { ids: [m4], move: 'dismiss', expected: 'active', incident: 'meta|adset|2025-03-31' })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Nothing was moved: 1 anomaly is not of the incident on Meta, ad sets, 2025-03-31\./),
    });
    expect((await anomalyState(owner, t.tenantId, m4))!.status).toBe('active');
  });

  it('2 of 3 delivering campaigns falling together is half or more: an incident', async () => {
    const t = await createTeam(owner, 'Anomaly incident half');
    await delivering(t.tenantId, 'tiktok', ['t1', 't2', 't3']);
    await insertAnomaly(owner, t.tenantId, { platform: 'tiktok', entity: 't1', metric: 'conversions', type: 'tracking_loss' });
    await insertAnomaly(owner, t.tenantId, { platform: 'tiktok', entity: 't2', metric: 'ctr', type: 'drop' });
    const rows = await rolledBackAsApp(app.db, t.tenantId, (trx) => readColumn(trx, t.tenantId, 'active', false));
    expect(rows.map((r) => r.incidentKey)).toEqual([`tiktok|campaign|${DAY}`, `tiktok|campaign|${DAY}`]);
    expect(groupCards(rows).map((c) => c.kind)).toEqual(['incident']);
  });

  it("a platform that stops converting: detect_anomalies writes its one incident row, and the board adds none of its own", async () => {
    const t = await createTeam(owner, 'Anomaly platform stop');
    // 4 TikTok campaigns at 400 a day and CPA 20 for 70 days; on AS_OF none of them converts
    await inTenant(owner, t.tenantId, (c) =>
      insertMetrics(
        c,
        t.tenantId,
        ['t1', 't2', 't3', 't4'].flatMap((id, k) =>
          daily(addDays(AS_OF, -70), AS_OF, (day, i) => {
            const conv = day === AS_OF ? 0 : 20 + ((i + k) % 3) - 1;
            return { id, platform: 'tiktok', spend: 400, impressions: 40000, clicks: 400 + ((i * 7 + k) % 5), conversions: conv, value: conv * 50 };
          }),
        ),
      ),
    );
    await inTenant(owner, t.tenantId, (c) => c.query('select ads_engine.detect_anomalies_day($1, $2::date)', [t.tenantId, AS_OF]));
    const rows = await inTenant(owner, t.tenantId, async (c) =>
      (await c.query("select entity_id, metric_name, anomaly_type, details -> 'members' as members from ads.anomalies where tenant_id = $1 order by entity_id", [t.tenantId])).rows,
    );
    // one platform row; the campaigns' own conversion alarms are explained by it (none written)
    expect(rows.filter((r) => r.entity_id === 'platform:tiktok')).toEqual([
      { entity_id: 'platform:tiktok', metric_name: 'conversions', anomaly_type: 'tracking_loss', members: ['t1', 't2', 't3', 't4'] },
    ]);
    expect(rows.filter((r) => r.entity_id !== 'platform:tiktok' && ['conversions', 'cpa', 'roas'].includes(r.metric_name))).toEqual([]);
    const b = await board(t.tenantId);
    const active = b.columns.find((c) => c.status === 'active')!;
    expect(incidents(active.cards)).toEqual([]);
    const platformCard = active.cards.find((c) => c.kind === 'single' && c.anomaly.platformRow);
    expect(platformCard && platformCard.kind === 'single' && platformCard.anomaly.engineMembers).toEqual(['t1', 't2', 't3', 't4']);
    expect(active.count).toBe(rows.length);

    // even with three more falls of its campaigns that day, the engine's row is the incident: no board incident
    for (const id of ['t1', 't2', 't3']) await insertAnomaly(owner, t.tenantId, { platform: 'tiktok', entity: id, day: AS_OF, metric: 'ctr', type: 'drop' });
    expect(incidents((await board(t.tenantId)).columns.find((c) => c.status === 'active')!.cards)).toEqual([]);
  });
});

describe('filters and counts', () => {
  it('each column counts what an independent SQL count finds, for every filter; bad values fall back; snoozed apart', async () => {
    const t = await createTeam(owner, 'Anomaly filters');
    const other = await createTeam(owner, 'Anomaly filters, other');
    const sev = ['critical', 'high', 'medium', 'low'];
    const plats = ['meta', 'google', 'tiktok'];
    const kinds = [
      ['cpa', 'spike'],
      ['ctr', 'drop'],
      ['conversions', 'tracking_loss'],
      ['spend', 'spike'],
      ['cpa', 'trend_change'],
    ];
    const statuses = ['active', 'active', 'investigating', 'resolved', 'dismissed'];
    let n = 0;
    for (let i = 0; i < 40; i++) {
      const [metric, type] = kinds[i % kinds.length]!;
      await insertAnomaly(owner, t.tenantId, {
        entity: `e${i}`,
        platform: plats[i % 3],
        level: i % 4 === 0 ? 'adset' : 'campaign',
        campaign: `c${i}`,
        // spread over days so that no incident forms
        day: addDays(DAY, -(i % 20)),
        metric,
        type,
        severity: sev[i % 4],
        status: statuses[i % 5],
        // one resolved 40 days ago: off the board
        resolved: statuses[i % 5] === 'resolved' ? (i === 3 ? '-40 days' : '-1 day') : undefined,
      });
      n++;
    }
    await insertAnomaly(owner, other.tenantId, { entity: 'x', severity: 'critical' });
    // two active cards snoozed
    const snoozedIds = await inTenant(owner, t.tenantId, async (c) =>
      (await c.query("select id from ads.anomalies where tenant_id = $1 and status = 'active' order by entity_id limit 2", [t.tenantId])).rows.map((r) => r.id as string),
    );
    for (const id of snoozedIds) expect((await move(t.buyer.id, { ids: id, move: 'snooze', expected: 'active', snooze: '3d' })).ok).toBe(true);
    expect(n).toBe(40);

    const independent = async (status: string, where: string, values: unknown[]) =>
      count(
        owner,
        `select 1 from ads.anomalies a where a.tenant_id = $1 and a.status = $2 ${where}
           and (a.status <> 'resolved' or a.resolved_at > now() - interval '30 days')
           and not exists (select 1 from ads_engine.anomaly_snoozes s where s.anomaly_id = a.id and s.snoozed_until > now())`,
        [t.tenantId, status, ...values],
      );
    const cases: [Record<string, string>, string, unknown[]][] = [
      [{}, '', []],
      [{ severity: 'critical' }, 'and a.severity = $3', ['critical']],
      [{ platform: 'google' }, 'and a.platform = $3', ['google']],
      [{ metric: 'cpa' }, 'and a.metric_name = $3', ['cpa']],
      [{ type: 'spike' }, 'and a.anomaly_type = $3', ['spike']],
      [{ level: 'adset' }, 'and a.level = $3', ['adset']],
      [{ severity: 'high', platform: 'meta' }, 'and a.severity = $3 and a.platform = $4', ['high', 'meta']],
      // bad values fall back to no filter
      [{ severity: 'urgent', platform: 'myspace', metric: 'x', type: '1', level: 'ad' }, '', []],
    ];
    for (const [params, where, values] of cases) {
      const b = await board(t.tenantId, { ...params, dismissed: '1' });
      for (const col of b.columns) {
        expect(col.count, `${JSON.stringify(params)} ${col.status}`).toBe(await independent(col.status, where, values));
        // no incident here: one card per anomaly, all shown (under the limit of 20)
        expect(col.cards.length, `${JSON.stringify(params)} ${col.status} cards`).toBe(col.count);
      }
    }
    // unfiltered by hand: 40 anomalies, statuses by i % 5: active 16 (2 snoozed), investigating 8, resolved 8 (one off the board), dismissed 8
    const all = await board(t.tenantId, { dismissed: '1' });
    expect(Object.fromEntries(all.columns.map((c) => [c.status, [c.count, c.snoozed]]))).toEqual({
      active: [14, 2],
      investigating: [8, 0],
      resolved: [7, 0],
      dismissed: [8, 0],
    });
    // without dismissed=1 the column is not read, its count still given
    const plain = await board(t.tenantId);
    expect(plain.columns.map((c) => c.status)).toEqual(['active', 'investigating', 'resolved']);
    expect(plain.dismissedCount).toBe(8);
    // snoozed=1 shows the snoozed cards in Active and counts them
    const withSnoozed = await board(t.tenantId, { snoozed: '1' });
    const act = withSnoozed.columns[0]!;
    expect(act.count).toBe(16);
    expect(act.cards.filter((c) => c.kind === 'single' && c.anomaly.snoozedUntil !== null)).toHaveLength(2);
  });

  it('at most 20 cards a column, the rest behind "more" (up to 200)', async () => {
    const t = await createTeam(owner, 'Anomaly bounded');
    for (let i = 0; i < 25; i++) await insertAnomaly(owner, t.tenantId, { entity: `e${i}`, day: addDays(DAY, -i), metric: 'spend', type: 'spike', money: i });
    const b = await board(t.tenantId);
    expect(b.columns[0]).toMatchObject({ count: 25, limit: 20, hiddenCards: 5 });
    expect(b.columns[0]!.cards).toHaveLength(20);
    // most money first at equal severity
    expect(b.columns[0]!.cards.map((c) => (c.kind === 'single' ? c.anomaly.money : null)).slice(0, 3)).toEqual([24, 23, 22]);
    const more = await board(t.tenantId, { more: 'active' });
    expect(more.columns[0]).toMatchObject({ limit: 200, hiddenCards: 0 });
    expect(more.columns[0]!.cards).toHaveLength(25);
  });
});

describe('maintenance', () => {
  it('the daily maintenance deletes resolved anomalies 30 days after they were resolved, with their history; nothing else', async () => {
    const t = await createTeam(owner, 'Anomaly maintenance');
    const old = await insertAnomaly(owner, t.tenantId, { entity: 'old' });
    const recent = await insertAnomaly(owner, t.tenantId, { entity: 'recent', status: 'resolved', resolved: '-29 days' });
    const dismissed = await insertAnomaly(owner, t.tenantId, { entity: 'dis', status: 'dismissed', created: '-90 days' });
    const active = await insertAnomaly(owner, t.tenantId, { entity: 'act', created: '-90 days' });
    expect((await move(t.buyer.id, { ids: old, move: 'resolve', expected: 'active', note: 'Fixed it' })).ok).toBe(true);
    await inTenant(owner, t.tenantId, (c) => c.query("update ads.anomalies set resolved_at = now() - interval '30 days 1 hour' where id = $1", [old]));
    // still on the record, but off the board already
    const b = await board(t.tenantId);
    expect(b.columns.find((c) => c.status === 'resolved')!.cards.map((c) => (c.kind === 'single' ? c.anomaly.id : ''))).toEqual([recent]);
    const r = await inTenant(owner, t.tenantId, async (c) => (await c.query('select ads_engine.run_maintenance($1) as r', [t.tenantId])).rows[0].r);
    expect(r.anomalies_deleted).toBe(1);
    expect(await count(owner, 'select 1 from ads.anomalies where tenant_id = $1', [t.tenantId])).toBe(3);
    for (const id of [recent, dismissed, active]) expect(await anomalyState(owner, t.tenantId, id)).not.toBeNull();
    expect(await count(owner, 'select 1 from ads_engine.anomaly_events where anomaly_id = $1', [old])).toBe(0);
    // the audit log keeps the move
    expect(await count(owner, "select 1 from saas.audit_log where entity_type = 'anomaly' and entity_id = $1", [old])).toBe(1);
  });
});

describe('the detail', () => {
  it('the series around the day with its expected range, related anomalies, the incident and the test in words', async () => {
    const t = await createTeam(owner, 'Anomaly detail');
    // m1: spend 100 and 5 conversions a day for the 56 days before DAY (CPA 20 every day: the band is 20 to 20), 2 on DAY (CPA 50)
    await inTenant(owner, t.tenantId, (c) =>
      insertMetrics(c, t.tenantId, daily(addDays(DAY, -56), DAY, (day) => ({ id: 'm1', spend: 100, impressions: 10000, clicks: 100, conversions: day === DAY ? 2 : 5, value: 250 }))),
    );
    await delivering(t.tenantId, 'meta', ['m2', 'm3']);
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'm1', metric: 'cpa', type: 'spike', baseline: 20, actual: 50 });
    const sameEntity = await insertAnomaly(owner, t.tenantId, { entity: 'm1', metric: 'ctr', type: 'drop', day: addDays(DAY, -2) });
    await insertAnomaly(owner, t.tenantId, { entity: 'm1', metric: 'ctr', type: 'drop', day: addDays(DAY, -4) });
    const m2 = await insertAnomaly(owner, t.tenantId, { entity: 'm2', metric: 'conversions', type: 'tracking_loss' });
    await insertAnomaly(owner, t.tenantId, { entity: 'g1', platform: 'google', metric: 'cpa', type: 'spike' });
    const d = (await rolledBackAsApp(app.db, t.tenantId, (trx) => anomalyDetail(trx, t.tenantId, id, {}, addDays(DAY, 30))))!;
    // 28 days before, the day, 7 after (no figures after DAY: null values)
    expect(d.series.points).toHaveLength(36);
    expect(d.series.points[0]!.day).toBe(addDays(DAY, -28));
    const onDay = d.series.points.find((p) => p.day === DAY)!;
    expect(onDay).toEqual({ day: DAY, value: 50, expected: 20, low: 20, high: 20 });
    expect(d.series.engineExpected).toBe(20);
    expect(d.series.points.at(-1)).toMatchObject({ day: addDays(DAY, 7), value: null });
    expect(d.sameEntity.map((r) => r.id)).toEqual([sameEntity]);
    expect(d.samePlatformDay.map((r) => r.id)).toEqual([m2]);
    // m1 and m2 fall on DAY: 2 of the 3 Meta campaigns delivering, half or more: an incident of two
    expect(d.incident).toMatchObject({ kind: 'incident', entities: 2, activeEntities: 3 });
    expect(d.incident!.members.map((m) => m.id).sort()).toEqual([id, m2].sort());
    expect(d.test).toBe(
      "6 conversions where 12 were expected given its spend of €240 (negative binomial on its own history): the chance of a day this far off if nothing had changed is under 0.1 %; the run's cut (Benjamini-Hochberg, all tests of the day) was 0.20%.",
    );
    // another tenant's id: no detail
    const other = await createTeam(owner, 'Anomaly detail, other');
    expect(await rolledBackAsApp(app.db, other.tenantId, (trx) => anomalyDetail(trx, other.tenantId, id, {}, DAY))).toBeNull();
  });
});
