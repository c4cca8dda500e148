// The ingest API through its route handlers (POST, GET) with real Request
// objects on the real database, and its logic through the same functions:
// 401 alike for every bad key (a session cookie is no key), 415, 413 by
// Content-Length, by bytes streamed (an endless body is cut off) and by rows,
// 400 with the parser's message, 429 from the PostgreSQL count with
// Retry-After, 200 with the rows really stored and a repeat that changes
// nothing, 422 with nothing written, a key of tenant A that writes only A
// whatever the body names, and thousands of random bodies: never a 500, never
// a partial write.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GET } from '../../app/api/v1/openapi.json/route';
import { POST } from '../../app/api/v1/metrics/route';
import { appDb, createDb } from '../../lib/db';
import {
  checkRows,
  errorSchema,
  handleMetricsRequest,
  importedSchema,
  MAX_BODY_BYTES,
  MAX_ROWS,
  metricsBodySchema,
  parseBody,
  refusedSchema,
  UNAUTHORIZED_MESSAGE,
} from '../../lib/ingest/api';
import { API_KEY_ACTIONS, type CreatedApiKey } from '../../lib/ingest/api-keys';
import { listImportRuns } from '../../lib/ingest/history';
import { API_REFUSALS_PER_HOUR } from '../../lib/ingest/store';
import { runTenantAction } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { factories, type Team } from '../helpers/factories';

// The route handlers use the app's own database handle (made at its first use): point it at the test database.
process.env.DATABASE_URL = inject('appUrl');

const app = appKysely(4);
const owner = ownerPool();
const { createTeam } = factories({ password: 'api password 1', emailPrefix: 'a', domain: 'api.test', namePrefix: 'API user' });

afterAll(async () => {
  await appDb().db.destroy();
});

const URL_ = 'http://localhost:3000/api/v1/metrics';

async function keyFor(team: Team, name = 'Loader'): Promise<CreatedApiKey> {
  const r = await runTenantAction({ ...API_KEY_ACTIONS.create, userId: team.admin.id, preferredTenantId: team.tenantId, input: { name }, db: app.db });
  if (!r.ok || !r.data) throw new Error(JSON.stringify(r));
  return r.data as CreatedApiKey;
}

interface PostOptions {
  key?: string | null;
  authorization?: string;
  contentType?: string | null;
  headers?: Record<string, string>;
}

function request(body: BodyInit | object | null, o: PostOptions = {}): Request {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.authorization !== undefined) headers.authorization = o.authorization;
  else if (o.key) headers.authorization = `Bearer ${o.key}`;
  if (o.contentType !== null) headers['content-type'] = o.contentType ?? 'application/json';
  const isPlain = body !== null && typeof body === 'object' && !(body instanceof ReadableStream) && !(body instanceof Uint8Array) && !(body instanceof ArrayBuffer);
  return new Request(URL_, {
    method: 'POST',
    headers,
    body: isPlain ? JSON.stringify(body) : (body as BodyInit | null),
    duplex: 'half',
  } as RequestInit);
}

const post = (body: BodyInit | object | null, o: PostOptions = {}) => POST(request(body, o));

async function answer(res: Response): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

interface Metric {
  platform: string;
  level: string;
  platform_id: string;
  day: string;
  entity_name: string | null;
  campaign_id: string | null;
  campaign_name: string | null;
  spend: string;
  impressions: string;
  clicks: string;
  conversions: string;
  conversion_value: string;
}

async function metricsOf(tenantId: string): Promise<Metric[]> {
  const r = await owner.query<Metric>(
    `select platform, level, platform_id, to_char(day, 'YYYY-MM-DD') as day, entity_name, campaign_id, campaign_name,
            spend::text, impressions::text, clicks::text, conversions::text, conversion_value::text
       from ads.metrics_daily where tenant_id = $1 order by platform, level, platform_id, day`,
    [tenantId],
  );
  return r.rows;
}

/** Everything of the tenant's metrics, updated_at included: any write changes it. */
async function fingerprint(tenantId: string): Promise<string> {
  const r = await owner.query<{ f: string }>(
    `select count(*)::text || ':' || coalesce(md5(string_agg(m::text, '|' order by platform, level, platform_id, day)), '') as f
       from ads.metrics_daily m where tenant_id = $1`,
    [tenantId],
  );
  return r.rows[0]!.f;
}

/** The tenant's yesterday and the days before it, as the engine counts them. */
async function daysAgo(tenantId: string, n: number): Promise<string> {
  const r = await owner.query<{ d: string }>(`select to_char(ads_engine.tenant_yesterday($1) - $2::int, 'YYYY-MM-DD') as d`, [tenantId, n]);
  return r.rows[0]!.d;
}

const row = (day: string, over: Record<string, unknown> = {}) => ({
  platform: 'meta',
  campaign_id: 'cmp-1',
  campaign_name: 'Prospecting',
  day,
  spend: 120.5,
  impressions: 10000,
  clicks: 250,
  conversions: 12,
  conversion_value: 960.25,
  ...over,
});

// ---------------------------------------------------------------------------

describe('401: one answer for every missing or bad key', () => {
  it('missing, not Bearer, malformed, unknown, wrong secret, revoked, a session cookie: same status, headers and body', async () => {
    const team = await createTeam(owner, 'API 401');
    const good = await keyFor(team, 'good');
    const revoked = await keyFor(team, 'revoked');
    await runTenantAction({ ...API_KEY_ACTIONS.revoke, userId: team.admin.id, preferredTenantId: team.tenantId, input: { id: revoked.id, confirm: 'revoke' }, db: app.db });
    const prefix = good.key.slice(6, 18);
    const body = { rows: [row('2025-01-01')] };
    const cases: PostOptions[] = [
      {},
      { authorization: '' },
      { authorization: `Basic ${Buffer.from(`x:${good.key}`).toString('base64')}` },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${good.key} extra` },
      { key: 'not-a-key' },
      { key: `aegis_${'0'.repeat(12)}_${'A'.repeat(43)}` },
      { key: `aegis_${prefix}_${'A'.repeat(43)}` },
      { key: revoked.key },
      { headers: { cookie: 'next-auth.session-token=abc; __Secure-next-auth.session-token=abc; aegis-tenant=' + team.tenantId } },
    ];
    const answers = [];
    for (const c of cases) {
      const res = await post(body, c);
      answers.push({ status: res.status, headers: [...res.headers.entries()].sort(), text: await res.text() });
    }
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]!.status).toBe(401);
    expect(JSON.parse(answers[0]!.text)).toEqual({ error: 'unauthorized', message: UNAUTHORIZED_MESSAGE });
    expect(Object.fromEntries(answers[0]!.headers)).toMatchObject({ 'www-authenticate': 'Bearer realm="aegis"', 'content-type': 'application/json; charset=utf-8' });
    expect(await metricsOf(team.tenantId)).toEqual([]);
    // And the good key works, with any case of "Bearer".
    expect((await post(body, { authorization: `bearer ${good.key}` })).status).not.toBe(401);
  });

  it('reads nothing of the body of a request without a valid key', async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(64 * 1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    const res = await post(endless, { key: `aegis_${'1'.repeat(12)}_${'B'.repeat(43)}` });
    expect(res.status).toBe(401);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThanOrEqual(2);
  });
});

describe('415, 413, 400: the body is checked before any row is', () => {
  let team: Team;
  let key: string;
  beforeAll(async () => {
    team = await createTeam(owner, 'API body checks');
    key = (await keyFor(team)).key;
  });

  it('415 for anything but application/json in UTF-8', async () => {
    for (const contentType of [null, 'text/plain', 'text/csv', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=iso-8859-1', 'application/jsonx']) {
      const res = await answer(await post({ rows: [] }, { key, contentType }));
      expect(res.status, String(contentType)).toBe(415);
      expect(res.body).toEqual({ error: 'unsupported_media_type', message: 'Send the body as JSON: Content-Type: application/json (UTF-8).' });
    }
    for (const contentType of ['application/json', 'Application/JSON; charset=UTF-8', 'application/json;charset="utf-8"']) {
      expect((await post({ rows: [] }, { key, contentType })).status, contentType).toBe(400);
    }
  });

  it('413 by Content-Length before reading, by bytes while streaming (the stream is cut off), and by rows', async () => {
    // A declared size over the cap: refused with nothing read.
    const declared = await answer(await post('{}', { key, headers: { 'content-length': String(MAX_BODY_BYTES + 1) } }));
    expect(declared.status).toBe(413);
    expect(declared.body.error).toBe('payload_too_large');

    // A whole body one byte over.
    const big = `{"rows":[${' '.repeat(MAX_BODY_BYTES - 10)}]}`;
    expect(Buffer.byteLength(big)).toBe(MAX_BODY_BYTES + 1);
    expect((await post(big, { key })).status).toBe(413);
    // One byte less is read (and is then a 400: no rows).
    expect((await post(big.replace('  ', ' '), { key })).status).toBe(400);

    // An endless body without Content-Length: cancelled once past the cap.
    const chunk = 64 * 1024;
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(chunk).fill(0x20));
      },
      cancel() {
        cancelled = true;
      },
    });
    const streamed = await answer(await post(endless, { key }));
    expect(streamed.status).toBe(413);
    expect(cancelled).toBe(true);
    expect(pulled * chunk).toBeLessThanOrEqual(MAX_BODY_BYTES + 3 * chunk);

    // Rows: one over the count, in few bytes.
    const many = `{"rows":[${Array.from({ length: MAX_ROWS + 1 }, () => '{}').join(',')}]}`;
    const rows = await answer(await post(many, { key }));
    expect(rows.status).toBe(413);
    expect(rows.body).toEqual({ error: 'payload_too_large', message: `At most ${MAX_ROWS} rows a request (this one has ${MAX_ROWS + 1}): split the load.` });
    expect(await metricsOf(team.tenantId)).toEqual([]);
  });

  it('400 with a message for malformed JSON, bad UTF-8 and a body of the wrong shape', async () => {
    const cases: [BodyInit, RegExp][] = [
      ['{"rows": [', /^Malformed JSON: /],
      ["{'rows': []}", /^Malformed JSON: /],
      ['{"rows": [] } trailing', /^Malformed JSON: /],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /^The body is not valid UTF-8\.$/],
      ['', /^The body is empty/],
      ['   ', /^The body is empty/],
      ['null', /^The body must be a JSON object/],
      ['[{"platform":"meta"}]', /^The body must be a JSON object/],
      ['"rows"', /^The body must be a JSON object/],
      ['{}', /^rows: required\.$/],
      ['{"rows": {}}', /^rows: must be an array of metric rows\.$/],
      ['{"rows": []}', /^rows: send at least one row\.$/],
      ['{"rows": [{}], "skip_invalid": "yes"}', /^skip_invalid: must be true or false\.$/],
      ['{"rows": [{}], "tenant_id": "00000000-0000-0000-0000-000000000000"}', /^tenant_id: not accepted; the API key decides the tenant\.$/],
      ['{"rows": [{}], "tenant": "x"}', /^"tenant": unknown field; the body has rows and skip_invalid only\.$/],
    ];
    for (const [body, message] of cases) {
      const res = await answer(await post(body, { key }));
      expect(res.status, String(body)).toBe(400);
      expect(res.body.error).toBe('bad_request');
      expect(res.body.message, String(body)).toMatch(message);
    }
    expect(await metricsOf(team.tenantId)).toEqual([]);
  });
});

describe('429: the rate limit, counted in PostgreSQL', () => {
  it('allows 60 requests a minute per key, then 429 with Retry-After; other keys are not affected', async () => {
    const team = await createTeam(owner, 'API 429');
    const made = await keyFor(team, 'busy');
    const other = await keyFor(team, 'quiet');
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await post('x', { key: made.key, contentType: 'text/plain' });
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(59 - i));
      statuses.push(res.status);
    }
    expect(new Set(statuses)).toEqual(new Set([415]));
    const refused = await post({ rows: [row('2025-01-01')] }, { key: made.key });
    expect(refused.status).toBe(429);
    const retry = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60).toBe(true);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('60');
    expect(await refused.json()).toEqual({ error: 'rate_limited', message: `At most 60 requests per 60 s per key: try again in ${retry} s.` });
    const counted = await owner.query('select count(*)::int as n from saas.api_key_requests where tenant_id = $1 and key_id = $2', [team.tenantId, made.id]);
    expect(counted.rows[0].n).toBe(60);
    expect((await post('x', { key: other.key, contentType: 'text/plain' })).status).toBe(415);
    expect(await metricsOf(team.tenantId)).toEqual([]);
  });
});

describe('200 and 422: the rows', () => {
  it('stores the rows (read back field by field), and a repeat changes nothing', async () => {
    const team = await createTeam(owner, 'API import');
    const { key } = await keyFor(team);
    const d1 = await daysAgo(team.tenantId, 1);
    const d2 = await daysAgo(team.tenantId, 2);
    const rows = [
      row(d1),
      row(d2, { spend: 0, impressions: 0, clicks: 0, conversions: 0, conversion_value: 0, campaign_name: null }),
      row(d1, { platform: 'google', campaign_id: "x'); drop table ads.metrics_daily; --", campaign_name: 'Émile — 日本語 🎯', spend: 999999999.99, conversions: 1.5 }),
      row(d1, { level: 'adset', adset_id: 'as-1', adset_name: 'Lookalike', spend: 60.25 }),
      row(d1, { adset_id: 'as-2', spend: 1 }),
    ];
    const first = await answer(await post({ rows }, { key }));
    expect(first.status, first.text).toBe(200);
    expect(importedSchema.parse(first.body)).toMatchObject({
      status: 'imported',
      counts: { received: 5, inserted: 5, updated: 0, unchanged: 0, rejected: 0 },
      rejected: [],
      problem_count: 0,
    });
    expect(first.body).toMatchObject({ inserted: [0, 1, 2, 3, 4], updated: [], unchanged: [], changed_days: { from: d2, to: d1 } });

    const stored = await metricsOf(team.tenantId);
    const m = (platform: string, level: string, id: string, day: string) => stored.find((s) => s.platform === platform && s.level === level && s.platform_id === id && s.day === day);
    expect(stored.length).toBe(5);
    expect(m('meta', 'campaign', 'cmp-1', d1)).toEqual({
      platform: 'meta', level: 'campaign', platform_id: 'cmp-1', day: d1, entity_name: 'Prospecting', campaign_id: 'cmp-1', campaign_name: 'Prospecting',
      spend: '120.50', impressions: '10000', clicks: '250', conversions: '12.00', conversion_value: '960.25',
    });
    expect(m('meta', 'campaign', 'cmp-1', d2)).toMatchObject({ spend: '0.00', impressions: '0', clicks: '0', conversions: '0.00', conversion_value: '0.00', campaign_name: null });
    expect(m('google', 'campaign', "x'); drop table ads.metrics_daily; --", d1)).toMatchObject({ campaign_name: 'Émile — 日本語 🎯', spend: '999999999.99', conversions: '1.50' });
    expect(m('meta', 'adset', 'as-1', d1)).toMatchObject({ campaign_id: 'cmp-1', campaign_name: 'Prospecting', entity_name: 'Lookalike', spend: '60.25' });
    expect(m('meta', 'adset', 'as-2', d1)).toMatchObject({ campaign_id: 'cmp-1', spend: '1.00' });

    const print = await fingerprint(team.tenantId);
    const again = await answer(await post({ rows }, { key }));
    expect(again.status).toBe(200);
    expect(again.body.counts).toEqual({ received: 5, inserted: 0, updated: 0, unchanged: 5, rejected: 0 });
    expect(again.body).toMatchObject({ inserted: [], updated: [], unchanged: [0, 1, 2, 3, 4] });
    expect(again.body.changed_days).toBeNull();
    expect(await fingerprint(team.tenantId)).toBe(print);

    // A changed figure is an update of that row only.
    const changed = await answer(await post({ rows: [row(d1, { spend: 130 })] }, { key }));
    expect(changed.body.counts).toEqual({ received: 1, inserted: 0, updated: 1, unchanged: 0, rejected: 0 });
    expect(changed.body).toMatchObject({ inserted: [], updated: [0], unchanged: [] });
    expect(m('meta', 'campaign', 'cmp-1', d1)!.spend).toBe('120.50');
    expect((await metricsOf(team.tenantId)).find((s) => s.platform_id === 'cmp-1' && s.level === 'campaign' && s.day === d1)!.spend).toBe('130.00');
  });

  it('422 with every problem named and nothing written; skip_invalid imports the others', async () => {
    const team = await createTeam(owner, 'API 422');
    const { key } = await keyFor(team);
    const d1 = await daysAgo(team.tenantId, 1);
    const rows: unknown[] = [
      row(d1),
      row(d1, { campaign_id: 'cmp-2', spend: -1 }),
      row(d1, { campaign_id: 'cmp-3', spend: '12.50' }),
      'not a row',
      row(d1, { campaign_id: 'cmp-4', tenant_id: '00000000-0000-0000-0000-000000000000' }),
      row('2023-02-29', { campaign_id: 'cmp-5' }),
      row(d1),
      { ...row(d1, { campaign_id: 'cmp-6' }), clicks: undefined },
      row(d1, { campaign_id: 'cmp-7', impressions: 1.5, spend: 1.234 }),
      row(d1, { campaign_id: 'cmp\u00008' }),
    ];
    const refused = await answer(await post({ rows }, { key }));
    expect(refused.status, refused.text).toBe(422);
    const body = refusedSchema.parse(refused.body);
    expect(body.error).toBe('invalid_rows');
    expect(body.counts).toEqual({ received: 10, inserted: 0, updated: 0, unchanged: 0, rejected: 9 });
    expect(body.message).toBe('9 of 10 rows are invalid: nothing was written. Correct them, or send "skip_invalid": true to import the others.');
    expect(body.rejected).toEqual([
      { index: 1, field: 'spend', message: 'spend: must be 0 or more.' },
      { index: 2, field: 'spend', message: 'spend: must be a number (a JSON number, not a string).' },
      { index: 3, field: null, message: 'A row must be a JSON object of metric fields.' },
      { index: 4, field: 'tenant_id', message: 'tenant_id: not accepted; the API key decides the tenant.' },
      { index: 5, field: 'day', message: 'day: not a calendar day.' },
      { index: 6, field: null, message: 'The same platform, level, id and day as row 0: send each once.' },
      { index: 7, field: 'clicks', message: 'clicks: required.' },
      { index: 8, field: 'spend', message: 'spend: at most two decimals.' },
      { index: 8, field: 'impressions', message: 'impressions: must be a whole number.' },
      { index: 9, field: 'campaign_id', message: 'campaign_id: no control characters (line breaks, tabs, NUL).' },
    ]);
    expect(body.problem_count).toBe(10);
    expect(await metricsOf(team.tenantId)).toEqual([]);

    const skipped = await answer(await post({ rows, skip_invalid: true }, { key }));
    expect(skipped.status, skipped.text).toBe(200);
    expect(skipped.body.counts).toEqual({ received: 10, inserted: 1, updated: 0, unchanged: 0, rejected: 9 });
    expect((skipped.body.rejected as { index: number }[]).map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 8, 9]);
    expect(skipped.body).toMatchObject({ inserted: [0], updated: [], unchanged: [] });

    // Every row invalid, skip_invalid or not: refused, nothing to import.
    const none = await answer(await post({ rows: rows.filter((_, i) => i !== 0 && i !== 6), skip_invalid: true }, { key }));
    expect(none.status).toBe(422);
    expect(none.body.message).toBe('None of the 8 rows is valid: nothing was written.');
    expect((await metricsOf(team.tenantId)).map((m) => m.platform_id)).toEqual(['cmp-1']);
  });
});

describe('what the import core refuses after this layer', () => {
  it("rows the core rejects are named by their index in the request; another currency refuses the request; the run is the key's", async () => {
    const team = await createTeam(owner, 'API core checks');
    const made = await keyFor(team);
    const d1 = await daysAgo(team.tenantId, 1);
    const future = await daysAgo(team.tenantId, -5);
    const rows = [row(d1, { spend: 'x' }), row(d1), row(future, { campaign_id: 'later' }), row(d1, { campaign_id: 'cmp-9' })];
    const res = await answer(await post({ rows, skip_invalid: true }, { key: made.key }));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ inserted: [1, 3], updated: [], unchanged: [], counts: { received: 4, inserted: 2, updated: 0, unchanged: 0, rejected: 2 } });
    const problems = res.body.rejected as { index: number; field: string; message: string }[];
    expect(problems.map((p) => [p.index, p.field])).toEqual([
      [0, 'spend'],
      [2, 'day'],
    ]);
    expect(problems[1]!.message).toMatch(/^day: .* is after today/);

    const run = await owner.query(
      `select source, api_key_id, user_id, status, rows_inserted::int as inserted, rows_rejected::int as rejected from ads_engine.import_runs where tenant_id = $1 and id = $2`,
      [team.tenantId, res.body.run_id],
    );
    expect(run.rows).toEqual([{ source: 'api', api_key_id: made.id, user_id: null, status: 'succeeded', inserted: 2, rejected: 1 }]);

    // Without skip_invalid the core's own refusal is a 422 too, and writes nothing.
    const print = await fingerprint(team.tenantId);
    const refused = await answer(await post({ rows: [row(d1, { campaign_id: 'new' }), row(future, { campaign_id: 'later' })] }, { key: made.key }));
    expect(refused.status).toBe(422);
    expect(refusedSchema.parse(refused.body)).toMatchObject({ error: 'invalid_rows', counts: { received: 2, inserted: 0, rejected: 1 } });
    expect((refused.body.rejected as { index: number }[]).map((p) => p.index)).toEqual([1]);
    const currency = await answer(await post({ rows: [row(d1, { campaign_id: 'usd', currency: 'USD' })], skip_invalid: true }, { key: made.key }));
    expect(currency.status).toBe(422);
    expect(currency.body.error).toBe('currency');
    expect(await fingerprint(team.tenantId)).toBe(print);
    // The tenant's own currency is accepted.
    expect((await post({ rows: [row(d1, { campaign_id: 'eur', currency: 'EUR' })] }, { key: made.key })).status).toBe(200);
  });
});

describe('403 and 500', () => {
  it('a key whose role may not write metrics gets 403, and a failure inside gets a 500 that says nothing of it', async () => {
    const team = await createTeam(owner, 'API 403');
    const { generateApiKey } = await import('../../lib/ingest/api-keys');
    const viewerKey = generateApiKey();
    await owner.query(`insert into saas.api_keys (tenant_id, name, key_prefix, key_hash, role) values ($1, 'read only', $2, $3, 'viewer')`, [
      team.tenantId,
      viewerKey.prefix,
      viewerKey.hash,
    ]);
    const forbidden = await answer(await post({ rows: [row('2025-01-01')] }, { key: viewerKey.key }));
    expect(forbidden.status).toBe(403);
    expect(errorSchema.parse(forbidden.body).error).toBe('forbidden');

    // A database that does not exist: a fault retrying does not cure (a database that is away gets a 503:
    // tests/reliability/faults.test.ts). Not a wrong password: a server with trust authentication accepts any.
    const wrongDatabase = new URL(inject('appUrl'));
    wrongDatabase.pathname = '/aegis_no_such_database';
    const broken = createDb(wrongDatabase.toString(), { max: 1, onError: () => undefined });
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => errors.push(a);
    try {
      const res = await answer(await handleMetricsRequest(request({ rows: [] }, { key: viewerKey.key }), { db: broken }));
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'internal', message: 'The import failed on our side; nothing was written. Try again later.' });
    } finally {
      console.error = log;
      await broken.db.destroy();
    }
    expect(errors.length).toBe(1);
  });
});

describe('a key of tenant A writes only A', () => {
  it('whatever the body names of B: ids, names, its tenant id at the top or in a row', async () => {
    const a = await createTeam(owner, 'API tenant A');
    const b = await createTeam(owner, 'API tenant B');
    const { key } = await keyFor(a);
    const keyB = (await keyFor(b)).key;
    const d1 = await daysAgo(b.tenantId, 1);
    // B has a campaign of its own.
    expect((await post({ rows: [row(d1, { campaign_id: 'b-campaign', campaign_name: 'B only' })] }, { key: keyB })).status).toBe(200);
    const printB = await fingerprint(b.tenantId);

    const top = await answer(await post({ rows: [row(d1, { campaign_id: 'b-campaign' })], tenant_id: b.tenantId }, { key }));
    expect(top.status).toBe(400);
    expect(top.body.message).toBe('tenant_id: not accepted; the API key decides the tenant.');
    const inRow = await answer(await post({ rows: [row(d1, { campaign_id: 'b-campaign', tenant_id: b.tenantId })] }, { key }));
    expect(inRow.status).toBe(422);
    const forA = await answer(
      await post({ rows: [row(d1, { campaign_id: 'b-campaign', campaign_name: 'B only', spend: 1 }), row(d1, { campaign_id: 'x', tenant_id: b.tenantId })], skip_invalid: true }, { key }),
    );
    expect(forA.status, forA.text).toBe(200);
    expect(forA.body.counts).toMatchObject({ inserted: 1, rejected: 1 });

    expect(await fingerprint(b.tenantId)).toBe(printB);
    expect((await metricsOf(b.tenantId)).map((m) => [m.platform_id, m.spend])).toEqual([['b-campaign', '120.50']]);
    expect((await metricsOf(a.tenantId)).map((m) => [m.platform_id, m.spend])).toEqual([['b-campaign', '1.00']]);
  });
});

describe('the handlers and their headers', () => {
  it('the security headers cover every path, the API included (next.config.js; the CSP from proxy.ts, whose matcher takes the API)', async () => {
    const config = createRequire(import.meta.url)('../../next.config.js') as { headers: () => Promise<{ source: string; headers: { key: string }[] }[]> };
    const headers = await config.headers();
    const all = headers.find((h) => h.source === '/:path*');
    expect(all?.headers.map((h) => h.key)).toEqual(expect.arrayContaining(['X-Frame-Options', 'X-Content-Type-Options', 'Referrer-Policy', 'Permissions-Policy']));
    const proxySource = readFileSync(path.join(__dirname, '..', '..', 'proxy.ts'), 'utf8');
    const matcher = /matcher: \['([^']+)'\]/.exec(proxySource)?.[1];
    expect(matcher).toBeDefined();
    expect(new RegExp(`^${matcher}$`).test('/api/v1/metrics')).toBe(true);
    const res = await post({ rows: [] });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('the route exports POST only, thin over handleMetricsRequest', () => {
    const source = readFileSync(path.join(__dirname, '..', '..', 'app', 'api', 'v1', 'metrics', 'route.ts'), 'utf8');
    expect(source).toMatch(/export function POST\(request: Request\): Promise<Response> \{\n {2}return handleMetricsRequest\(request\);\n\}/);
    expect(source).not.toMatch(/export (async )?function (GET|PUT|PATCH|DELETE)/);
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('is OpenAPI 3.1 of the endpoint: the bearer scheme, every status code, the schemas the server validates with', async () => {
    const res = GET();
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    const op = doc.paths['/api/v1/metrics'].post;
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '403', '413', '415', '422', '429', '500', '503']);
    expect(op.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/MetricsRequest' });
    expect(op.responses['429'].headers['Retry-After']).toBeTruthy();
    const schemas = doc.components.schemas;
    expect(Object.keys(schemas).sort()).toEqual(['Error', 'ImportCounts', 'ImportRefused', 'ImportResult', 'MetricRow', 'MetricsRequest', 'RowProblem']);
    expect(schemas.MetricsRequest.properties.rows).toMatchObject({ type: 'array', minItems: 1, maxItems: MAX_ROWS, items: { $ref: '#/components/schemas/MetricRow' } });
    expect(schemas.MetricsRequest.additionalProperties).toBe(false);
    const r = schemas.MetricRow;
    expect(r.additionalProperties).toBe(false);
    expect(r.required.sort()).toEqual(['campaign_id', 'clicks', 'conversion_value', 'conversions', 'day', 'impressions', 'platform', 'spend']);
    expect(r.properties.platform.enum).toEqual(['meta', 'google', 'tiktok', 'linkedin']);
    expect(r.properties.impressions.type).toBe('integer');
    expect(r.properties.spend).toMatchObject({ type: 'number', minimum: 0 });
    // The document's example is a body the server accepts.
    const example = op.requestBody.content['application/json'].example;
    expect(metricsBodySchema.safeParse(example).success).toBe(true);
    expect(checkRows(example.rows).problems).toEqual([]);
    for (const s of Object.values(schemas)) {
      expect(JSON.stringify(s)).not.toContain('$schema');
      expect(s).not.toHaveProperty('$id');
    }
    // Every reference points at a schema of the document.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(5);
    for (const name of refs) expect(schemas).toHaveProperty(name!);
  });
});

// ---------------------------------------------------------------------------
// Property-based: random bodies
// ---------------------------------------------------------------------------

const PLATFORMS = ['meta', 'google', 'tiktok', 'linkedin'];
const nasty = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-0', '1e400', '', ' ', '\u0000', 'null', "'; drop table ads.metrics_daily; --", '\ud800', '\u202e', 'ﬀ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '2025-13-45', '0x10'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 5000 })).map(([s, n]) => s.repeat(n)),
);
const weirdNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, 999999999999.99, 1000000000000, 0.1 + 0.2, 12.345),
  fc.integer({ min: 0, max: 1e9 }),
  fc.nat(),
);
const weird = fc.oneof(nasty, weirdNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));

/** Rows near the valid ones: each field kept, dropped or swapped for something odd; sometimes an extra field. */
const nearRow = (days: string[]) =>
  fc
    .record({
      platform: fc.constantFrom(...PLATFORMS),
      id: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
      adset: fc.option(fc.constantFrom('a1', 'a2'), { nil: undefined }),
      day: fc.constantFrom(...days),
      spend: fc.integer({ min: 0, max: 10_000_00 }).map((c) => c / 100),
      impressions: fc.integer({ min: 0, max: 1_000_000 }),
      clicks: fc.integer({ min: 0, max: 10_000 }),
      conversions: fc.integer({ min: 0, max: 500 }),
      value: fc.integer({ min: 0, max: 1_000_000 }).map((c) => c / 100),
      name: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
      mutations: fc.array(fc.tuple(fc.constantFrom('platform', 'campaign_id', 'day', 'spend', 'impressions', 'clicks', 'conversions', 'conversion_value', 'level', 'campaign_name', 'adset_id', 'tenant_id', 'currency', 'extra'), fc.option(weird, { nil: undefined })), { maxLength: 2 }),
    })
    .map((r) => {
      const out: Record<string, unknown> = {
        platform: r.platform,
        campaign_id: r.id,
        day: r.day,
        spend: r.spend,
        impressions: r.impressions,
        clicks: r.clicks,
        conversions: r.conversions,
        conversion_value: r.value,
      };
      if (r.name !== undefined) out.campaign_name = r.name;
      if (r.adset !== undefined) out.adset_id = r.adset;
      for (const [field, value] of r.mutations) {
        if (value === undefined) delete out[field];
        else out[field] = value;
      }
      return out;
    });

describe('property: random bodies never get a 500 and never write part of a request', () => {
  it('parseBody and checkRows never throw, whatever the bytes (10,000 bodies, no database)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.jsonValue().map((v) => JSON.stringify({ rows: [v] })), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 200 })), (input) => {
        const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
        const parsed = parseBody(bytes);
        if (parsed.ok) {
          const checked = checkRows(parsed.rows);
          expect(checked.valid.length + checked.rejected).toBe(parsed.rows.length);
          for (const p of checked.problems) expect(p.message.length).toBeGreaterThan(0);
        } else {
          expect([400, 413]).toContain(parsed.status);
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('thousands of random JSON bodies through the handler: 400, 413 or 422 with nothing written, never a 500', async () => {
    const team = await createTeam(owner, 'API fuzz values');
    const { key } = await keyFor(team);
    const options = { rateLimit: { max: 100_000, windowSeconds: 60 } };
    const before = await fingerprint(team.tenantId);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.jsonValue().map((v) => JSON.stringify({ rows: v })),
          fc.array(weird, { maxLength: 5 }).map((rows) => JSON.stringify({ rows })),
          fc.jsonValue().map((v) => JSON.stringify({ rows: [v], skip_invalid: false })),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
        async (text) => {
          const res = await handleMetricsRequest(request(text, { key }), options);
          const body = JSON.parse(await res.text());
          expect([400, 413, 422]).toContain(res.status);
          if (res.status === 422) refusedSchema.parse(body);
          else errorSchema.parse(body);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        },
      ),
      { numRuns: 2_000 },
    );
    expect(statuses.get(400)).toBeGreaterThan(200);
    expect(statuses.get(422)).toBeGreaterThan(200);
    expect(await fingerprint(team.tenantId)).toBe(before);
  });

  it('rows near the valid ones, with and without skip_invalid: a refusal writes nothing, an import writes exactly the valid rows', async () => {
    const team = await createTeam(owner, 'API fuzz rows');
    const { key } = await keyFor(team);
    const days = [await daysAgo(team.tenantId, 1), await daysAgo(team.tenantId, 2), await daysAgo(team.tenantId, 3)];
    const options = { rateLimit: { max: 100_000, windowSeconds: 60 } };
    // unchanged: repeats found every row unchanged.
    const seen = { refused: 0, imported: 0, partial: 0, updated: 0, unchanged: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(nearRow(days), { minLength: 1, maxLength: 12 }), fc.boolean(), fc.boolean(), async (rows, skipInvalid, again) => {
        const before = await fingerprint(team.tenantId);
        const countBefore = Number(before.split(':')[0]);
        const res = await handleMetricsRequest(request({ rows, skip_invalid: skipInvalid }, { key }), options);
        const body = JSON.parse(await res.text());
        expect([200, 422]).toContain(res.status);
        if (res.status === 422) {
          refusedSchema.parse(body);
          expect(await fingerprint(team.tenantId)).toBe(before);
          seen.refused++;
          return;
        }
        const ok = importedSchema.parse(body);
        const c = ok.counts;
        seen.imported++;
        if (c.rejected > 0 && c.inserted + c.updated + c.unchanged > 0) seen.partial++;
        if (c.updated > 0) seen.updated++;
        expect(c.received).toBe(rows.length);
        expect(c.inserted + c.updated + c.unchanged + c.rejected).toBe(rows.length);
        const rejectedRows = new Set(ok.rejected.map((p) => p.index));
        expect([...ok.inserted, ...ok.updated, ...ok.unchanged, ...rejectedRows].sort((x, y) => x - y)).toEqual(rows.map((_, i) => i));
        if (!skipInvalid) expect(c.rejected).toBe(0);
        const after = await fingerprint(team.tenantId);
        expect(Number(after.split(':')[0])).toBe(countBefore + c.inserted);
        if (c.inserted + c.updated === 0) expect(after).toBe(before);
        // Every row the answer did not reject is stored as sent.
        const stored = await metricsOf(team.tenantId);
        rows.forEach((r, i) => {
          if (rejectedRows.has(i)) return;
          const level = (r.level as string | undefined) ?? (r.adset_id !== undefined ? 'adset' : 'campaign');
          const id = level === 'adset' ? r.adset_id : r.campaign_id;
          const s = stored.find((x) => x.platform === r.platform && x.level === level && x.platform_id === id && x.day === r.day);
          expect(s, JSON.stringify(r)).toBeTruthy();
          // + 0: a -0 sent is the 0 stored.
          for (const f of ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] as const) expect(Number(s![f]), f).toBe((r[f] as number) + 0);
        });
        if (!again) return;
        // The same request again: a no-op, every stored row unchanged.
        const print = await fingerprint(team.tenantId);
        const repeat = importedSchema.parse(JSON.parse(await (await handleMetricsRequest(request({ rows, skip_invalid: skipInvalid }, { key }), options)).text()));
        expect(repeat.inserted).toEqual([]);
        expect(repeat.updated).toEqual([]);
        expect(repeat.unchanged).toEqual([...ok.inserted, ...ok.updated, ...ok.unchanged].sort((x, y) => x - y));
        expect(await fingerprint(team.tenantId)).toBe(print);
        if (repeat.unchanged.length > 0) seen.unchanged++;
      }),
      { numRuns: 300 },
    );
    // The property met every outcome, so it proved something of each.
    for (const [k, n] of Object.entries(seen)) expect(n, k).toBeGreaterThan(5);
  });

  it('enormous strings and numbers inside a row are refused by field, not by a crash', async () => {
    const team = await createTeam(owner, 'API fuzz big');
    const { key } = await keyFor(team);
    const d1 = await daysAgo(team.tenantId, 1);
    const huge = 'x'.repeat(8 * 1024 * 1024);
    const res = await answer(
      await post(`{"rows":[${JSON.stringify(row(d1, { campaign_name: huge }))},${JSON.stringify(row(d1, { campaign_id: 'n' })).replace('120.5', '1e400')},${JSON.stringify(row(d1, { campaign_id: 'm', impressions: 2 ** 60 }))}]}`, { key }),
    );
    expect(res.status).toBe(422);
    expect((res.body.rejected as { index: number; field: string }[]).map((p) => [p.index, p.field])).toEqual([
      [0, 'campaign_name'],
      [1, 'spend'],
      [2, 'impressions'],
    ]);
    expect((res.body.rejected as { message: string }[])[2]!.message).toBe(`impressions: at most ${Number.MAX_SAFE_INTEGER}.`);
    expect(res.text.length).toBeLessThan(5000);
    expect(await metricsOf(team.tenantId)).toEqual([]);
    // A key's secret is never echoed, whatever is sent.
    expect(res.text).not.toContain(createHash('sha256').update(key).digest('hex'));
    expect(res.text).not.toContain(key);
  });
});

describe('refusals before the import core, in the import history', () => {
  const runsOf = (team: Team) => rolledBackAsApp(app.db, team.tenantId, (trx) => listImportRuns(trx, team.tenantId, { limit: 100 }));

  it('422, 413, 400 and 415: who (the key by name and prefix), when, the rows refused and why; nothing else written', async () => {
    const team = await createTeam(owner, 'API refusals recorded');
    const made = await keyFor(team, 'Nightly Meta export');
    const who = `API key “Nightly Meta export” (aegis_${made.key.slice(6, 18)}_…)`;
    const d1 = await daysAgo(team.tenantId, 1);
    const before = new Date();

    const invalid = JSON.stringify({ rows: [row(d1), row(d1, { campaign_id: 'cmp-2', spend: -1 }), 'not a row'] });
    expect((await post(invalid, { key: made.key })).status).toBe(422);
    const many = `{"rows":[${Array.from({ length: MAX_ROWS + 1 }, () => '{}').join(',')}]}`;
    expect((await post(many, { key: made.key })).status).toBe(413);
    expect((await post('{}', { key: made.key, headers: { 'content-length': String(MAX_BODY_BYTES + 1) } })).status).toBe(413);
    expect((await post('{"rows": [', { key: made.key })).status).toBe(400);
    expect((await post({ rows: [row(d1)] }, { key: made.key, contentType: 'text/csv' })).status).toBe(415);

    const { runs } = await runsOf(team);
    expect(runs).toHaveLength(5);
    for (const r of runs) {
      expect(r).toMatchObject({ source: 'api', apiKeyId: made.id, apiKeyName: 'Nightly Meta export', actorLabel: who, status: 'refused', userId: null, fileName: null });
      expect(r.counts).toMatchObject({ inserted: 0, updated: 0, unchanged: 0 });
      expect(r.startedAt.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
      expect(r.startedAt.getTime()).toBeLessThanOrEqual(Date.now());
    }
    const [media, malformed, declared, byRows, rows] = runs;
    expect(rows).toMatchObject({
      refusalCode: 'invalid_rows',
      message: 'HTTP 422: 2 of 3 rows are invalid: nothing was written. Correct them, or send "skip_invalid": true to import the others.',
      counts: { read: 3, rejected: 2 },
      bytes: Buffer.byteLength(invalid),
      problemCount: 2,
      problems: [
        { row: 1, column: 'spend', message: 'spend: must be 0 or more.' },
        { row: 2, column: null, message: 'A row must be a JSON object of metric fields.' },
      ],
    });
    expect(byRows).toMatchObject({
      refusalCode: 'too_large',
      message: `HTTP 413: At most ${MAX_ROWS} rows a request (this one has ${MAX_ROWS + 1}): split the load.`,
      counts: { read: MAX_ROWS + 1, rejected: MAX_ROWS + 1 },
    });
    expect(declared).toMatchObject({ refusalCode: 'too_large', bytes: MAX_BODY_BYTES + 1, counts: { read: 0, rejected: 0 } });
    expect(declared!.message).toMatch(/^HTTP 413: The body is over/);
    expect(malformed).toMatchObject({ refusalCode: 'unreadable', bytes: 10, counts: { read: 0, rejected: 0 } });
    expect(malformed!.message).toMatch(/^HTTP 400: Malformed JSON: /);
    expect(media).toMatchObject({ refusalCode: 'unreadable', message: 'HTTP 415: Send the body as JSON: Content-Type: application/json (UTF-8).' });
    expect(await metricsOf(team.tenantId)).toEqual([]);
    const audit = await owner.query("select count(*)::int as n from saas.audit_log where tenant_id = $1 and action = 'metrics.import'", [team.tenantId]);
    expect(audit.rows[0].n).toBe(0);
  });

  it(`a flood: at most ${API_REFUSALS_PER_HOUR} refusals a key in the last hour are recorded, the last saying so; other keys and imports are not held back`, async () => {
    const team = await createTeam(owner, 'API refusal flood');
    const flood = await keyFor(team, 'broken loader');
    const other = await keyFor(team, 'good loader');
    const options = { rateLimit: { max: 1000, windowSeconds: 60 } };
    const send = (key: string, body: string) => handleMetricsRequest(request(body, { key }), options);
    const refusedOf = async (keyId: string) => (await runsOf(team)).runs.filter((r) => r.apiKeyId === keyId && r.status === 'refused');

    const statuses = await Promise.all(Array.from({ length: API_REFUSALS_PER_HOUR + 6 }, () => send(flood.key, 'not json').then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([400]));
    const recorded = await refusedOf(flood.id);
    expect(recorded).toHaveLength(API_REFUSALS_PER_HOUR);
    expect(recorded.filter((r) => r.message!.endsWith('its next ones are not recorded until the hour has passed.)'))).toHaveLength(1);

    // Another key's refusal and the flooding key's own import still go in.
    expect((await send(other.key, 'not json')).status).toBe(400);
    expect(await refusedOf(other.id)).toHaveLength(1);
    const d1 = await daysAgo(team.tenantId, 1);
    expect((await send(flood.key, JSON.stringify({ rows: [row(d1)] }))).status).toBe(200);
    expect((await runsOf(team)).runs.filter((r) => r.apiKeyId === flood.id && r.status === 'succeeded')).toHaveLength(1);

    // An hour later the key's refusals are recorded again.
    await owner.query("update ads_engine.import_runs set started_at = started_at - interval '61 minutes' where tenant_id = $1 and api_key_id = $2 and status = 'refused'", [team.tenantId, flood.id]);
    expect((await send(flood.key, 'not json')).status).toBe(400);
    expect(await refusedOf(flood.id)).toHaveLength(API_REFUSALS_PER_HOUR + 1);
  });
});
