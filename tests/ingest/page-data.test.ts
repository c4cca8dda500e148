// What the /imports page reads (lib/ingest/page-data.ts), in the tenant's own
// transaction as the app role: one page of the history, newest first, of this
// tenant only (another tenant's runs never, though the owner sees them), paged,
// with who, source, status and reason worded for the table and the time in the
// tenant's time zone; the mappings saved per platform. And the page's one
// action, saving a mapping, through the real action wrapper (the session is
// the only part stood in for).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { appDb } from '../../lib/db';
import { importsPageData, IMPORT_HISTORY_PAGE_SIZE, parseHistoryPage } from '../../lib/ingest/page-data';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { factories, type Team } from '../helpers/factories';

// The action wrapper asks next-auth who is signed in: here, whoever the test says.
const session = vi.hoisted(() => ({ userId: null as string | null, tenantId: null as string | null }));
vi.mock('../../lib/tenancy/session', () => ({
  getSessionUserId: async () => session.userId,
  getPreferredTenantId: async () => session.tenantId,
}));

// The action wrapper uses the app's own database handle (made at its first use): point it at the test database.
process.env.DATABASE_URL = inject('appUrl');
afterAll(async () => {
  await appDb().db.destroy();
});

const app = appKysely(2);
const owner = ownerPool();
const { createTeam } = factories({ password: 'page password 1', emailPrefix: 'pg', domain: 'imports-page.test', namePrefix: 'Importer' });

interface RunSpec {
  startedAt: string;
  fileName: string;
  source?: 'upload' | 'api' | 'cli';
  userId?: string | null;
  status?: 'succeeded' | 'refused' | 'failed';
  refusalCode?: string | null;
  message?: string | null;
  inserted?: number;
  updated?: number;
  unchanged?: number;
  rejected?: number;
  actorLabel?: string | null;
}

/** Runs written as the owner in the tenant's transaction (RLS is forced on the owner too). */
async function addRuns(tenantId: string, runs: RunSpec[]): Promise<void> {
  await inTenant(owner, tenantId, async (c) => {
    for (const r of runs) {
      const status = r.status ?? 'succeeded';
      const source = r.source ?? 'upload';
      await c.query(
        `insert into ads_engine.import_runs
           (tenant_id, id, started_at, finished_at, source, user_id, api_key_id, actor_label, file_name, platform, format, level,
            rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected, status, refusal_code, message)
         values ($1, $2, $3, $3::timestamptz + interval '2 seconds', $4, $5, $6, $7, $8, 'meta', 'meta', 'campaign',
                 $9, $10, $11, $12, $13, $14, $15, $16)`,
        [
          tenantId,
          randomUUID(),
          r.startedAt,
          source,
          source === 'upload' ? r.userId : null,
          source === 'api' ? randomUUID() : null,
          r.actorLabel ?? null,
          r.fileName,
          (r.inserted ?? 0) + (r.updated ?? 0) + (r.unchanged ?? 0) + (r.rejected ?? 0),
          status === 'succeeded' ? (r.inserted ?? 0) : 0,
          status === 'succeeded' ? (r.updated ?? 0) : 0,
          r.unchanged ?? 0,
          r.rejected ?? 0,
          status,
          status === 'refused' ? (r.refusalCode ?? 'invalid_rows') : null,
          r.message ?? null,
        ],
      );
    }
  });
}

const read = (tenantId: string, page = 1) => rolledBackAsApp(app.db, tenantId, (trx) => importsPageData(trx, tenantId, { page }));

let a: Team;
let b: Team;

beforeAll(async () => {
  a = await createTeam(owner, 'Imports page A');
  b = await createTeam(owner, 'Imports page B');
  await owner.query(`update saas.tenants set timezone = 'Europe/Paris' where id = $1`, [a.tenantId]);
  // A: 25 uploads by its buyer, one a minute from 09:00 UTC on 30 Nov (a-00.csv the oldest, a-24.csv the newest).
  await addRuns(
    a.tenantId,
    Array.from({ length: 25 }, (_, i) => ({
      startedAt: new Date(Date.UTC(2026, 10, 30, 9, i)).toISOString(),
      fileName: `a-${String(i).padStart(2, '0')}.csv`,
      userId: a.buyer.id,
      inserted: i,
      updated: 1,
      unchanged: 2,
    })),
  );
  // B: three runs, all newer than any of A's: if isolation failed they would top A's first page.
  await addRuns(
    b.tenantId,
    [0, 1, 2].map((i) => ({ startedAt: new Date(Date.UTC(2026, 11, 1, 12, i)).toISOString(), fileName: `b-${i}.csv`, userId: b.buyer.id })),
  );
});

describe('the import history of the page', () => {
  it("lists this tenant's runs only, newest first, a page at a time", async () => {
    const first = await read(a.tenantId);
    expect(first.history.total).toBe(25);
    expect(first.history.pages).toBe(2);
    expect(first.history.page).toBe(1);
    expect(first.history.rows).toHaveLength(IMPORT_HISTORY_PAGE_SIZE);
    expect(first.history.rows.map((r) => r.fileName)).toEqual(Array.from({ length: 20 }, (_, i) => `a-${String(24 - i).padStart(2, '0')}.csv`));

    const second = await read(a.tenantId, 2);
    expect(second.history.page).toBe(2);
    expect(second.history.rows.map((r) => r.fileName)).toEqual(['a-04.csv', 'a-03.csv', 'a-02.csv', 'a-01.csv', 'a-00.csv']);

    // A page past the end (an old link) shows the last one rather than nothing.
    const past = await read(a.tenantId, 99);
    expect(past.history.page).toBe(2);
    expect(past.history.rows).toHaveLength(5);

    // B's runs never show in A's history, yet they exist (the owner sees them) and B sees its own.
    const allFiles = [...first.history.rows, ...second.history.rows].map((r) => r.fileName);
    expect(allFiles.some((f) => f?.startsWith('b-'))).toBe(false);
    // The owner counts B's runs in B's own transaction (RLS binds an owner that is not a superuser too).
    const inB = await inTenant(owner, b.tenantId, async (c) => {
      const r = await c.query<{ n: number }>('select count(*)::int as n from ads_engine.import_runs where tenant_id = $1', [b.tenantId]);
      return r.rows[0]!.n;
    });
    expect(inB).toBe(3);
    const bPage = await read(b.tenantId);
    expect(bPage.history.total).toBe(3);
    expect(bPage.history.rows.map((r) => r.fileName)).toEqual(['b-2.csv', 'b-1.csv', 'b-0.csv']);
  });

  it("words each run for the table, in the tenant's time zone", async () => {
    const t = await createTeam(owner, 'Imports page wording');
    await owner.query(`update saas.tenants set timezone = 'Europe/Paris', locale = 'en-GB' where id = $1`, [t.tenantId]);
    await addRuns(t.tenantId, [
      { startedAt: '2026-11-30T17:51:00Z', fileName: 'good.csv', userId: t.buyer.id, inserted: 40, updated: 3, unchanged: 7 },
      {
        startedAt: '2026-11-30T18:00:00Z',
        fileName: 'bad.csv',
        userId: t.admin.id,
        status: 'refused',
        refusalCode: 'currency',
        message: 'The file is in USD; this tenant reports in EUR.',
      },
      { startedAt: '2026-11-30T18:10:00Z', fileName: 'nightly.csv', source: 'cli', actorLabel: 'cli: ops@loader', inserted: 5 },
      { startedAt: '2026-11-30T18:20:00Z', fileName: 'cut.csv', userId: t.buyer.id, status: 'failed', message: 'Reading the file stopped.' },
      { startedAt: '2026-11-30T18:30:00Z', fileName: 'api.json', source: 'api', inserted: 2 },
    ]);
    const { history, timeZone } = await read(t.tenantId);
    expect(timeZone).toBe('Europe/Paris');
    const byFile = new Map(history.rows.map((r) => [r.fileName, r]));
    // 17:51 UTC is 18:51 in Paris in winter (CET, UTC+1).
    expect(byFile.get('good.csv')).toMatchObject({
      when: '30 Nov, 18:51 CET',
      startedAt: '2026-11-30T17:51:00.000Z',
      who: t.buyer.name,
      source: 'Upload',
      platform: 'Meta',
      inserted: 40,
      updated: 3,
      unchanged: 7,
      rejected: 0,
      status: 'Imported',
      tone: 'good',
      reason: null,
    });
    expect(byFile.get('bad.csv')).toMatchObject({
      when: '30 Nov, 19:00 CET',
      who: t.admin.name,
      status: 'Refused',
      tone: 'bad',
      reason: 'The file is in USD; this tenant reports in EUR.',
      inserted: 0,
    });
    expect(byFile.get('nightly.csv')).toMatchObject({ who: 'cli: ops@loader', source: 'Command line', status: 'Imported' });
    expect(byFile.get('cut.csv')).toMatchObject({ status: 'Failed', tone: 'bad', reason: 'Reading the file stopped.' });
    expect(byFile.get('api.json')).toMatchObject({ source: 'API', who: 'API key (revoked)' });
    expect(history.rows.map((r) => r.fileName)).toEqual(['api.json', 'cut.csv', 'nightly.csv', 'bad.csv', 'good.csv']);
  });

  it('an empty history, and the page number read from the URL', async () => {
    const t = await createTeam(owner, 'Imports page empty');
    const data = await read(t.tenantId);
    expect(data.history).toMatchObject({ rows: [], total: 0, page: 1, pages: 1 });
    expect(data.style).toEqual({ currency: 'EUR', locale: 'en-GB' });
    expect(data.yesterday).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(data.savedMappings).toEqual({});

    expect(parseHistoryPage({})).toBe(1);
    expect(parseHistoryPage({ page: '3' })).toBe(3);
    expect(parseHistoryPage({ page: ['2', '5'] })).toBe(2);
    for (const bad of ['0', '-1', 'two', '1e3', '1.5', '9999999999']) expect(parseHistoryPage({ page: bad })).toBeGreaterThanOrEqual(1);
    expect(parseHistoryPage({ page: '9999999' })).toBe(1);
  });
});

describe('saving a column mapping (the page action)', () => {
  const form = (fields: Record<string, string>) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    return f;
  };
  const full = {
    platform: 'meta',
    map_day: 'Date',
    map_campaign_id: 'Campaign',
    map_campaign_name: 'Name',
    map_spend: 'Cost',
    map_impressions: 'Views',
    map_clicks: 'Taps',
    map_conversions: 'Sales',
    map_conversion_value: 'Revenue',
  };

  it('a buyer saves it for the tenant and platform; the page offers it next time; another tenant never sees it', async () => {
    const { saveMappingAction } = await import('../../lib/ingest/mapping-actions');
    const t = await createTeam(owner, 'Mapping saved');
    session.userId = t.buyer.id;
    session.tenantId = t.tenantId;
    const r = await saveMappingAction(null, form({ ...full, _tenant: t.tenantId }));
    expect(r).toEqual({
      ok: true,
      message: 'Mapping saved.',
      data: {
        platform: 'meta',
        mapping: { day: 'Date', campaign_id: 'Campaign', campaign_name: 'Name', spend: 'Cost', impressions: 'Views', clicks: 'Taps', conversions: 'Sales', conversion_value: 'Revenue' },
      },
    });
    expect((await read(t.tenantId)).savedMappings).toEqual({ meta: r.ok ? r.data?.mapping : null });
    expect((await read(a.tenantId)).savedMappings).toEqual({});
  });

  it('refuses a viewer, a missing required column and a column used twice, saving nothing', async () => {
    const { saveMappingAction } = await import('../../lib/ingest/mapping-actions');
    const t = await createTeam(owner, 'Mapping refused');
    session.userId = t.viewer.id;
    session.tenantId = t.tenantId;
    expect(await saveMappingAction(null, form(full))).toEqual({ ok: false, message: 'This needs the Buyer role; you are Viewer.' });

    session.userId = t.buyer.id;
    const missing = await saveMappingAction(null, form({ ...full, map_spend: '' }));
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.fieldErrors?.map_spend).toEqual(['Choose the column that holds this field.']);
    const twice = await saveMappingAction(null, form({ ...full, map_clicks: 'Views' }));
    expect(!twice.ok && twice.fieldErrors?.map_clicks?.[0]).toMatch(/already feeds impressions/);
    const noPlatform = await saveMappingAction(null, form({ ...full, platform: 'myspace' }));
    expect(!noPlatform.ok && noPlatform.fieldErrors?.platform).toEqual(['Choose the platform of the export.']);
    // A tab left on another tenant.
    const stale = await saveMappingAction(null, form({ ...full, _tenant: a.tenantId }));
    expect(stale).toEqual({ ok: false, message: 'You switched tenant in another window. Reload the page and try again.' });
    expect((await read(t.tenantId)).savedMappings).toEqual({});
  });
});
