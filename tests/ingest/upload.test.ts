// The upload route of /imports (POST /api/imports) driven with real Request
// objects on the real database. Who is asking is resolved by one function
// (resolveUploadContext), tested here on its own: a cross-site post is refused
// even with a session, as are the signed-out, a viewer, a tenant the user is
// not a member of and a tab left on another tenant. The upload itself runs
// with the context a buyer's session gives: too large by Content-Length and by
// bytes streamed; a small Meta export built here previewed (a dry run that
// writes nothing and reports what an import would do) and imported (the rows
// read back, a history row recorded, a repeat that changes nothing), with its
// progress lines in order and the result last.
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { appDb } from '../../lib/db';
import { FILE_NAME_HEADER, isProgressLine, MAPPING_HEADER, MAX_UPLOAD_BYTES, type UploadLine } from '../../lib/ingest/upload-protocol';
import type { ImportProgress, ImportResult } from '../../lib/ingest/types';
import {
  CROSS_ORIGIN,
  crossOriginReason,
  handleUpload,
  resolveUploadContext,
  uploadRoute,
  type SessionInfo,
  type UploadContext,
} from '../../lib/ingest/upload';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { factories, type Team } from '../helpers/factories';
import { bytesOf } from './fixtures';

// The route file's own handler uses the app's database handle (made at its first use): the test database.
process.env.DATABASE_URL = inject('appUrl');
afterAll(async () => {
  await appDb().db.destroy();
});

// What next-auth and the tenant cookie say, for the route file's handler (Next's request scope is not there in a test).
const nextSession = vi.hoisted(() => ({ userId: null as string | null, tenantId: null as string | null }));
vi.mock('../../lib/tenancy/session', () => ({
  getSessionUserId: async () => nextSession.userId,
  getPreferredTenantId: async () => nextSession.tenantId,
}));

const app = appKysely(4);
const owner = ownerPool();
const { createTeam, createUser, addMembership } = factories({ password: 'upload password 1', emailPrefix: 'up', domain: 'upload.test', namePrefix: 'Uploader' });

const ORIGIN = 'http://localhost:3000';
const URL_ = `${ORIGIN}/api/imports`;

interface PostOptions {
  query?: Record<string, string>;
  headers?: Record<string, string | null>;
  fileName?: string | null;
  contentLength?: boolean;
}

/** A request as the page's XMLHttpRequest sends it: same origin, the file as the body, its name in a header. */
function post(body: BodyInit | null, o: PostOptions = {}): Request {
  const q = new URLSearchParams({ mode: 'preview', platform: 'detect', skipInvalid: '0', ...o.query });
  const headers = new Headers({ origin: ORIGIN, 'sec-fetch-site': 'same-origin', 'content-type': 'application/octet-stream', host: 'localhost:3000' });
  const name = o.fileName === undefined ? 'meta-export.csv' : o.fileName;
  if (name !== null) headers.set(FILE_NAME_HEADER, encodeURIComponent(name));
  if ((o.contentLength ?? true) && (typeof body === 'string' || body instanceof Uint8Array)) {
    headers.set('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
  }
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === null) headers.delete(k);
    else headers.set(k, v);
  }
  return new Request(`${URL_}?${q.toString()}`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
}

const sessionOf = (userId: string | null, preferredTenantId: string | null = null) => {
  const calls = { n: 0 };
  const read = async (): Promise<SessionInfo> => {
    calls.n++;
    return { userId, preferredTenantId };
  };
  return { read, calls };
};

const route = (userId: string | null, preferredTenantId: string | null = null) =>
  uploadRoute({ session: sessionOf(userId, preferredTenantId).read, db: app, progressIntervalMs: 0 });

async function readLines(res: Response): Promise<UploadLine[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as UploadLine);
}

function resultOf(lines: UploadLine[]): ImportResult {
  const last = lines.at(-1);
  if (!last || !('result' in last)) throw new Error(`no result line: ${JSON.stringify(last)}`);
  return last.result;
}

async function count(text: string, values: unknown[]): Promise<number> {
  const r = await owner.query<{ n: number }>(`select count(*)::int as n from (${text}) q`, values);
  return r.rows[0]!.n;
}

const metricsOf = (tenantId: string) => count('select 1 from ads.metrics_daily where tenant_id = $1', [tenantId]);
const runsOf = (tenantId: string) => count('select 1 from ads_engine.import_runs where tenant_id = $1', [tenantId]);

/**
 * A Meta campaign export by day, as Ads Manager writes it: two campaigns over
 * three days, the currency in the spend header, the figures chosen so that the
 * totals are easy to check by hand (spend 10.50 + 20.25 a day, value 100 + 5).
 */
function metaExport(days = ['2026-11-01', '2026-11-02', '2026-11-03']): string {
  const header = 'Reporting starts,Reporting ends,Campaign name,Campaign ID,Amount spent (EUR),Impressions,Link clicks,Results,Purchases conversion value';
  const lines = [header];
  for (const d of days) {
    lines.push(`${d},${d},Spring sale,120001,10.50,1000,40,2,100.00`);
    lines.push(`${d},${d},"Brand, always on",120002,20.25,3000,90,1,5.00`);
  }
  return `${lines.join('\n')}\n`;
}

describe('same origin only', () => {
  const req = (headers: Record<string, string | null>) => post('x', { headers });

  it('accepts the page itself: Origin of this host, Sec-Fetch-Site same-origin', () => {
    expect(crossOriginReason(req({}), {})).toBeNull();
    // An older browser without Fetch Metadata: its Origin alone.
    expect(crossOriginReason(req({ 'sec-fetch-site': null }), {})).toBeNull();
    // Behind a proxy: the host the browser used, as the proxy forwards it, or NEXTAUTH_URL's.
    const proxied = req({ origin: 'https://aegis.example', host: 'app:3000', 'x-forwarded-host': 'aegis.example' });
    expect(crossOriginReason(proxied, {})).toBeNull();
    expect(crossOriginReason(req({ origin: 'https://aegis.example', host: 'app:3000' }), { NEXTAUTH_URL: 'https://aegis.example' })).toBeNull();
  });

  it('refuses another site, a sibling site, an opaque origin, and a post that says nothing', () => {
    expect(crossOriginReason(req({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }), {})).toMatch(/cross-site/);
    // Fetch Metadata says same origin but the Origin is another host: refused all the same.
    expect(crossOriginReason(req({ origin: 'https://evil.example' }), {})).toMatch(/not this application/);
    expect(crossOriginReason(req({ origin: 'http://other.localhost:3000', 'sec-fetch-site': 'same-site' }), {})).toMatch(/same-site/);
    expect(crossOriginReason(req({ origin: 'null', 'sec-fetch-site': null }), {})).toMatch(/opaque/);
    expect(crossOriginReason(req({ origin: null, 'sec-fetch-site': null }), {})).toMatch(/no Origin/);
    expect(crossOriginReason(req({ origin: null, 'sec-fetch-site': 'none' }), {})).toMatch(/none/);
  });
});

describe('who may upload (resolveUploadContext)', () => {
  it('a cross-site post is refused with 403 before the session is even read, and nothing is written', async () => {
    const t = await createTeam(owner, 'Upload cross-site');
    const s = sessionOf(t.buyer.id, t.tenantId);
    const res = await uploadRoute({ session: s.read, db: app })(
      post(metaExport(), { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, query: { mode: 'import' } }),
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: 'cross_origin', message: CROSS_ORIGIN } });
    expect(s.calls.n).toBe(0);
    expect(await metricsOf(t.tenantId)).toBe(0);
    expect(await runsOf(t.tenantId)).toBe(0);
  });

  it('no session: 401', async () => {
    const res = await route(null)(post(metaExport()));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'signed_out', message: 'Your session has ended. Sign in again.' } });
  });

  it('a viewer: 403 JSON, nothing written; a buyer and an admin get their context', async () => {
    const t = await createTeam(owner, 'Upload roles');
    const res = await route(t.viewer.id)(post(metaExport(), { query: { mode: 'import' } }));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: 'forbidden', message: 'This needs the Buyer role; you are Viewer.' } });
    expect(await metricsOf(t.tenantId)).toBe(0);
    expect(await runsOf(t.tenantId)).toBe(0);

    for (const [user, role] of [[t.buyer, 'buyer'], [t.admin, 'admin']] as const) {
      const r = await resolveUploadContext(post('x'), sessionOf(user.id).read, { db: app });
      expect(r).toEqual({ ok: true, ctx: { userId: user.id, tenantId: t.tenantId, role } });
    }
  });

  it('the tenant is the one chosen in the top bar; a named tenant must be a membership (404), and the current one (409)', async () => {
    const a = await createTeam(owner, 'Upload tenant A');
    const b = await createTeam(owner, 'Upload tenant B');
    // The buyer of A is also a viewer of B.
    await addMembership(owner, b.tenantId, a.buyer.id, 'viewer');

    const inA = await resolveUploadContext(post('x', { query: { tenant: a.tenantId } }), sessionOf(a.buyer.id, a.tenantId).read, { db: app });
    expect(inA).toEqual({ ok: true, ctx: { userId: a.buyer.id, tenantId: a.tenantId, role: 'buyer' } });

    // Switched to B in the top bar: B's role applies there (viewer), whatever A allows.
    const inB = await route(a.buyer.id, b.tenantId)(post(metaExport(), { query: { tenant: b.tenantId, mode: 'import' } }));
    expect(inB.status).toBe(403);

    // A tab still showing A after the switch to B: refused, not sent to either tenant.
    const stale = await route(a.buyer.id, b.tenantId)(post(metaExport(), { query: { tenant: a.tenantId, mode: 'import' } }));
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('tenant_changed');

    // A tenant the user does not belong to, even one that exists: 404, as for one that does not.
    const stranger = await createTeam(owner, 'Upload tenant C');
    for (const named of [stranger.tenantId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await route(a.buyer.id, a.tenantId)(post(metaExport(), { query: { tenant: named, mode: 'import' } }));
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'You are not a member of that tenant.' } });
    }
    for (const t of [a, b, stranger]) {
      expect(await metricsOf(t.tenantId)).toBe(0);
      expect(await runsOf(t.tenantId)).toBe(0);
    }
  });

  it('an account with no membership, or on a temporary password, is refused', async () => {
    const loner = await createUser(owner);
    const res = await route(loner.id)(post(metaExport()));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_membership');

    const t = await createTeam(owner, 'Upload temporary password');
    await owner.query("update saas.users set password_must_change = true, password_expires_at = now() + interval '1 hour' where id = $1", [t.buyer.id]);
    const temp = await route(t.buyer.id)(post(metaExport()));
    expect(temp.status).toBe(403);
    expect(((await temp.json()) as { error: { code: string } }).error.code).toBe('password_change');
  });
});

describe('the upload', () => {
  let team: Team | null = null;
  const ctxOf = async (): Promise<{ team: Team; ctx: UploadContext }> => {
    team ??= await createTeam(owner, 'Upload buyer');
    return { team, ctx: { userId: team.buyer.id, tenantId: team.tenantId, role: 'buyer' } };
  };

  it('refuses a declared size over 200 MB with 413 before reading, and a streamed body the moment it passes the limit', async () => {
    const t = await createTeam(owner, 'Upload too large');
    const ctx: UploadContext = { userId: t.buyer.id, tenantId: t.tenantId, role: 'buyer' };
    let pulled = 0;
    let cancelled = false;
    const endless = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          pulled++;
          c.enqueue(new TextEncoder().encode('x'.repeat(64 * 1024)));
        },
        cancel() {
          cancelled = true;
        },
      });
    const declared = await handleUpload(post(endless(), { headers: { 'content-length': String(MAX_UPLOAD_BYTES + 1) }, query: { mode: 'import' } }), ctx, { db: app });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('too_large');
    // Not read past what the stream offers on its own; not cancelled either (under Node that would destroy the socket
    // and the 413 would never reach the browser): the server discards the rest once the answer is sent.
    expect(pulled).toBeLessThanOrEqual(1);
    expect(cancelled).toBe(false);
    expect(await runsOf(t.tenantId)).toBe(0);

    // Chunked, no Content-Length: a valid export that goes on and on, cut off at the limit (256 KB here, past the
    // 64 KB the core reads to decide the format, so the run has started and is recorded).
    const header = 'Reporting starts,Reporting ends,Campaign name,Campaign ID,Amount spent (EUR),Impressions,Link clicks,Results\n';
    let sent = 0;
    let bytes = 0;
    const growing = new ReadableStream<Uint8Array>({
      pull(c) {
        const first = sent === 0 ? header : '';
        const rows = Array.from({ length: 200 }, (_, i) => `2026-10-01,2026-10-01,Camp,${sent + i},1.00,10,1,0\n`).join('');
        sent += 200;
        const chunk = new TextEncoder().encode(first + rows);
        bytes += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const limit = 256 * 1024;
    const lines = await readLines(await handleUpload(post(growing, { query: { mode: 'import' } }), ctx, { db: app, limit, progressIntervalMs: 0 }));
    expect(lines.at(-1)).toEqual({ error: { code: 'too_large', message: 'The file is over the limit of 262144 bytes.' } });
    expect(lines.slice(0, -1).every(isProgressLine)).toBe(true);
    // Reading stopped at the limit: at most a chunk past it (and what the stream had queued), not the endless rest.
    expect(bytes).toBeLessThan(limit + 3 * 10_000);
    expect(await metricsOf(t.tenantId)).toBe(0);
    // The history says what happened: a run that broke off, nothing stored.
    const runs = await owner.query('select status, rows_inserted::int, message from ads_engine.import_runs where tenant_id = $1', [t.tenantId]);
    expect(runs.rows).toEqual([{ status: 'failed', rows_inserted: 0, message: expect.stringContaining('over the limit') }]);
  });

  it('refuses a missing name, a file that is not CSV, bad options and a bad mapping with 400/415, before reading', async () => {
    const { ctx } = await ctxOf();
    const status = async (r: Request) => (await handleUpload(r, ctx, { db: app })).status;
    expect(await status(post(metaExport(), { fileName: null }))).toBe(400);
    expect(await status(post(metaExport(), { fileName: 'report.xlsx' }))).toBe(415);
    expect(await status(post(metaExport(), { query: { mode: 'later' } }))).toBe(400);
    expect(await status(post(metaExport(), { query: { platform: 'myspace' } }))).toBe(400);
    expect(await status(post(metaExport(), { headers: { [MAPPING_HEADER]: encodeURIComponent('{"spend": 3}') } }))).toBe(400);
    expect(await status(post(metaExport(), { headers: { [MAPPING_HEADER]: encodeURIComponent('{"colour": "Blue"}') } }))).toBe(400);
    expect(await status(post(''))).toBe(400);
  });

  it('previews a Meta export: a dry run that writes nothing and says what an import would do', async () => {
    const { team: t, ctx } = await ctxOf();
    const csv = metaExport();
    const lines = await readLines(await handleUpload(post(csv), ctx, { db: app, progressIntervalMs: 0 }));
    const result = resultOf(lines);
    expect(result.ok).toBe(true);
    expect(result.refusal).toBeNull();
    expect(result.format).toMatchObject({ platform: 'meta', level: 'campaign', delimiter: ',', encoding: 'utf-8', currency: 'EUR' });
    expect(result.counts).toMatchObject({ read: 6, inserted: 6, updated: 0, unchanged: 0, rejected: 0 });
    expect(result.problemCount).toBe(0);
    expect(result.previewRows).toHaveLength(6);
    expect(result.previewRows![0]).toMatchObject({
      platform: 'meta',
      level: 'campaign',
      platformId: '120001',
      day: '2026-11-01',
      entityName: 'Spring sale',
      spend: 10.5,
      impressions: 1000,
      clicks: 40,
      conversions: 2,
      conversionValue: 100,
    });
    expect(result.previewRows![1]).toMatchObject({ platformId: '120002', entityName: 'Brand, always on', spend: 20.25 });
    // Nothing stored, nothing recorded.
    expect(await metricsOf(t.tenantId)).toBe(0);
    expect(await runsOf(t.tenantId)).toBe(0);
  });

  it('imports it: the rows read back as stored, a history row recorded; the progress comes in order and the result last', async () => {
    const { team: t, ctx } = await ctxOf();
    const csv = metaExport();
    const lines = await readLines(await handleUpload(post(csv, { query: { mode: 'import' } }), ctx, { db: app, progressIntervalMs: 0 }));

    // Progress first, in phase order, counts never going back; the result is the last line and the only other one.
    const progress = lines.slice(0, -1);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every(isProgressLine)).toBe(true);
    const order = ['reading', 'validating', 'writing', 'done'];
    const p = progress as ImportProgress[];
    for (let i = 1; i < p.length; i++) {
      expect(order.indexOf(p[i]!.phase)).toBeGreaterThanOrEqual(order.indexOf(p[i - 1]!.phase));
      expect(p[i]!.rowsRead).toBeGreaterThanOrEqual(p[i - 1]!.rowsRead);
      expect(p[i]!.bytesRead).toBeGreaterThanOrEqual(p[i - 1]!.bytesRead);
    }
    for (const line of p) {
      expect(Object.keys(line).sort()).toEqual(['bytesRead', 'bytesTotal', 'phase', 'rowsRead']);
      expect(line.bytesTotal).toBe(Buffer.byteLength(csv));
    }
    expect(p.at(-1)!.bytesRead).toBe(Buffer.byteLength(csv));

    const result = resultOf(lines);
    expect(result.ok).toBe(true);
    expect(result.counts).toMatchObject({ read: 6, inserted: 6, updated: 0, unchanged: 0, rejected: 0 });
    expect(result.changedDays).toEqual({ from: '2026-11-01', to: '2026-11-03' });
    expect(result.runId).not.toBeNull();

    const stored = await owner.query(
      `select platform, level, platform_id, day::text, entity_name, spend::float8, impressions::int, clicks::int, conversions::float8, conversion_value::float8
       from ads.metrics_daily where tenant_id = $1 order by day, platform_id`,
      [t.tenantId],
    );
    expect(stored.rows).toHaveLength(6);
    expect(stored.rows[0]).toEqual({
      platform: 'meta', level: 'campaign', platform_id: '120001', day: '2026-11-01', entity_name: 'Spring sale',
      spend: 10.5, impressions: 1000, clicks: 40, conversions: 2, conversion_value: 100,
    });
    expect(stored.rows[1]).toMatchObject({ platform_id: '120002', entity_name: 'Brand, always on', spend: 20.25, conversion_value: 5 });
    // Three days of 10.50 + 20.25.
    const total = await owner.query<{ s: number }>('select sum(spend)::float8 as s from ads.metrics_daily where tenant_id = $1', [t.tenantId]);
    expect(total.rows[0]!.s).toBeCloseTo(92.25, 6);

    const runs = await owner.query('select * from ads_engine.import_runs where tenant_id = $1', [t.tenantId]);
    expect(runs.rows).toHaveLength(1);
    expect(runs.rows[0]).toMatchObject({ source: 'upload', status: 'succeeded', file_name: 'meta-export.csv', platform: 'meta', user_id: t.buyer.id });
    expect(String(runs.rows[0].id)).toBe(result.runId);

    // The same file again changes nothing, and says so.
    const again = resultOf(await readLines(await handleUpload(post(csv, { query: { mode: 'import' } }), ctx, { db: app })));
    expect(again.counts).toMatchObject({ read: 6, inserted: 0, updated: 0, unchanged: 6 });
    expect(again.changedDays).toBeNull();
    expect(await metricsOf(t.tenantId)).toBe(6);
    expect(await runsOf(t.tenantId)).toBe(2);
  });

  it('lists every problem with its row and column; the import is refused unless the rows are skipped', async () => {
    const t = await createTeam(owner, 'Upload problems');
    const ctx: UploadContext = { userId: t.buyer.id, tenantId: t.tenantId, role: 'buyer' };
    // Line 4 of the file (the header is line 1) has a spend that is not a number.
    const csv = metaExport().replace('2026-11-02,2026-11-02,Spring sale,120001,10.50', '2026-11-02,2026-11-02,Spring sale,120001,ten euros');
    const run = async (query: Record<string, string>) => resultOf(await readLines(await handleUpload(post(csv, { query }), ctx, { db: app })));

    // The page previews with the rows left out, so the counts are what an import that skips them would do.
    const preview = await run({ mode: 'preview', skipInvalid: '1' });
    expect(preview.counts).toMatchObject({ read: 6, inserted: 5, rejected: 1 });
    expect(preview.problemCount).toBe(1);
    expect(preview.problems).toEqual([{ row: 4, column: 'Amount spent (EUR)', message: expect.any(String) }]);
    expect(await metricsOf(t.tenantId)).toBe(0);

    const refused = await run({ mode: 'import' });
    expect(refused.ok).toBe(false);
    expect(refused.refusal?.code).toBe('invalid_rows');
    expect(await metricsOf(t.tenantId)).toBe(0);

    const skipped = await run({ mode: 'import', skipInvalid: '1' });
    expect(skipped.counts).toMatchObject({ inserted: 5, rejected: 1 });
    expect(await metricsOf(t.tenantId)).toBe(5);
    const runs = await owner.query('select status, refusal_code from ads_engine.import_runs where tenant_id = $1 order by started_at', [t.tenantId]);
    expect(runs.rows).toEqual([
      { status: 'refused', refusal_code: 'invalid_rows' },
      { status: 'succeeded', refusal_code: null },
    ]);
  });

  it('a French Excel "CSV (séparateur: point-virgule)" in Windows-1252: previewed and imported, its names exactly as written', async () => {
    const t = await createTeam(owner, 'Upload Windows-1252');
    const ctx: UploadContext = { userId: t.buyer.id, tenantId: t.tenantId, role: 'buyer' };
    const text =
      'Début des rapports;Fin des rapports;Nom de la campagne;Identifiant de la campagne;Montant dépensé (EUR);Impressions;Clics sur un lien;Résultats;Valeur de conversion des achats\n' +
      '01/11/2026;01/11/2026;Cœur d’été €;120001;10,50;1 000;40;2;100,00\n' +
      '02/11/2026;02/11/2026;Cœur d’été €;120001;20,25;3 000;90;1;5,00\n';
    const bytes = new Uint8Array(bytesOf(text, 'windows-1252'));
    expect(bytes.length).toBe(text.length);
    const preview = resultOf(await readLines(await handleUpload(post(bytes), ctx, { db: app, progressIntervalMs: 0 })));
    expect(preview.format).toMatchObject({ platform: 'meta', format: 'meta-fr', delimiter: ';', encoding: 'windows-1252' });
    expect(preview.previewRows!.map((r) => r.entityName)).toEqual(['Cœur d’été €', 'Cœur d’été €']);
    const imported = resultOf(await readLines(await handleUpload(post(bytes, { query: { mode: 'import' } }), ctx, { db: app, progressIntervalMs: 0 })));
    expect(imported.counts).toMatchObject({ read: 2, inserted: 2, rejected: 0 });
    const stored = await owner.query('select distinct campaign_name, sum(spend)::text as spend from ads.metrics_daily where tenant_id = $1 group by 1', [t.tenantId]);
    expect(stored.rows).toEqual([{ campaign_name: 'Cœur d’été €', spend: '30.75' }]);
  });

  it('a file of unknown columns is refused with its headers; with a mapping it previews and imports', async () => {
    const t = await createTeam(owner, 'Upload mapping');
    const ctx: UploadContext = { userId: t.buyer.id, tenantId: t.tenantId, role: 'buyer' };
    const csv = 'When,Camp,Cost,Views,Taps,Sales\n2026-11-01,c1,1.50,10,1,0\n2026-11-02,c1,2.50,20,2,1\n';
    const run = async (query: Record<string, string>, headers: Record<string, string> = {}) =>
      resultOf(await readLines(await handleUpload(post(csv, { query, headers, fileName: 'own-report.csv' }), ctx, { db: app })));

    const unknown = await run({ mode: 'preview', platform: 'meta' });
    expect(unknown.refusal?.code).toBe('unknown_format');
    // The mapping editor offers the file's own headers.
    expect(unknown.format?.headers).toEqual(['When', 'Camp', 'Cost', 'Views', 'Taps', 'Sales']);

    const mapping = { day: 'When', campaign_id: 'Camp', spend: 'Cost', impressions: 'Views', clicks: 'Taps', conversions: 'Sales' };
    const header = { [MAPPING_HEADER]: encodeURIComponent(JSON.stringify(mapping)) };
    const mapped = await run({ mode: 'preview', platform: 'meta', skipInvalid: '1' }, header);
    expect(mapped.refusal).toBeNull();
    expect(mapped.format).toMatchObject({ platform: 'meta', format: 'mapped' });
    expect(mapped.counts).toMatchObject({ read: 2, inserted: 2 });
    expect(mapped.previewRows?.map((r) => r.spend)).toEqual([1.5, 2.5]);
    expect(await metricsOf(t.tenantId)).toBe(0);

    const imported = await run({ mode: 'import', platform: 'meta' }, header);
    expect(imported.counts).toMatchObject({ inserted: 2 });
    expect(await metricsOf(t.tenantId)).toBe(2);
  });

  it('streams: the first progress line arrives while the file is still being sent', async () => {
    const t = await createTeam(owner, 'Upload streaming');
    const ctx: UploadContext = { userId: t.buyer.id, tenantId: t.tenantId, role: 'buyer' };
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        feed = c;
      },
    });
    const csv = metaExport();
    const res = await handleUpload(post(body, { headers: { 'content-length': String(Buffer.byteLength(csv)) } }), ctx, { db: app, progressIntervalMs: 0 });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    // Half the file sent, the body still open: the answer has begun.
    feed.enqueue(new TextEncoder().encode(csv.slice(0, 100)));
    const first = await reader.read();
    const firstLine = JSON.parse(decoder.decode(first.value).split('\n')[0]!) as UploadLine;
    expect(firstLine).toEqual({ phase: 'reading', rowsRead: 0, bytesRead: 0, bytesTotal: Buffer.byteLength(csv) });
    feed.enqueue(new TextEncoder().encode(csv.slice(100)));
    feed.close();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
    }
    const lines = rest.split('\n').filter(Boolean).map((l) => JSON.parse(l) as UploadLine);
    expect(resultOf(lines).counts).toMatchObject({ read: 6, inserted: 6 });
  });

  it('a browser that goes away mid-upload leaves nothing stored, and the history says the run broke off', async () => {
    const t = await createTeam(owner, 'Upload abandoned');
    const ctx: UploadContext = { userId: t.buyer.id, tenantId: t.tenantId, role: 'buyer' };
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        feed = c;
      },
    });
    const res = await handleUpload(post(body, { query: { mode: 'import' } }), ctx, { db: app, progressIntervalMs: 0 });
    const reader = res.body!.getReader();
    // Past the 64 KB the core reads before it starts: about 100 KB of valid rows, then the browser leaves.
    const header = 'Reporting starts,Reporting ends,Campaign name,Campaign ID,Amount spent (EUR),Impressions,Link clicks,Results\n';
    const rows = Array.from({ length: 2500 }, (_, i) => `2026-10-01,2026-10-01,Camp,${i},1.00,10,1,0\n`).join('');
    feed.enqueue(new TextEncoder().encode(header + rows));
    await reader.read();
    // Time for the core to read them and open its transaction (before that, nothing is recorded: nothing had started).
    await new Promise((resolve) => setTimeout(resolve, 500));
    await reader.cancel();
    let status: string | null = null;
    for (let i = 0; i < 50 && status === null; i++) {
      const r = await owner.query<{ status: string }>('select status from ads_engine.import_runs where tenant_id = $1', [t.tenantId]);
      status = r.rows[0]?.status ?? null;
      if (status === null) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('failed');
    expect(await metricsOf(t.tenantId)).toBe(0);
  });

  it('the route file (POST /api/imports): the session as next-auth gives it, refusals, then a buyer\'s import', async () => {
    const { POST } = await import('../../app/api/imports/route');
    const t = await createTeam(owner, 'Upload through the route');
    const file = metaExport(['2026-11-05']);
    const q = { mode: 'import', tenant: t.tenantId };

    nextSession.userId = null;
    expect((await POST(post(file, { query: q }))).status).toBe(401);
    nextSession.userId = t.buyer.id;
    nextSession.tenantId = t.tenantId;
    expect((await POST(post(file, { query: q, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } }))).status).toBe(403);
    nextSession.userId = t.viewer.id;
    expect((await POST(post(file, { query: q }))).status).toBe(403);
    expect(await metricsOf(t.tenantId)).toBe(0);

    nextSession.userId = t.buyer.id;
    const lines = await readLines(await POST(post(file, { query: q })));
    expect(resultOf(lines).counts).toMatchObject({ inserted: 2 });
    expect(await metricsOf(t.tenantId)).toBe(2);
    const runs = await owner.query('select user_id, source from ads_engine.import_runs where tenant_id = $1', [t.tenantId]);
    expect(runs.rows).toEqual([{ user_id: t.buyer.id, source: 'upload' }]);
  });
});
