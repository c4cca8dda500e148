// Every server action and API route against a hostile tenant, a low role and
// no session, on the real database. Tenants A and B each have an admin, a
// buyer and a viewer; every case builds fresh objects of its own. For each
// tenant action (one row of TENANT_CASES): A's member of the minimal role
// sending B's ids is refused with a not-found style message and neither
// tenant changes (every tenant table of both, as md5 snapshots read by the
// owner); a viewer where a buyer is needed and a buyer where an admin is
// needed get the role refusal and nothing changes; a call without a session
// is signed out and changes nothing; and the same call with A's own ids by
// the right role works and changes the row it should (so that the refusals
// are not a broken call). The hand-written actions and the API routes follow,
// where the notion applies. First of all: the list of server actions is
// complete (every export of every 'use server' module is either a registered
// tenant action with its row here, or a hand-written action covered below).
//
// The actions are called as Next calls them (the exported function, a form's
// FormData); only what Next's request scope holds is stood in for: who the
// session says is signed in, the tenant cookie, headers, revalidatePath and
// redirect.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { RESET_LINK_INVALID, resetRequestedMessage } from '../../lib/account/reset';
import { PASSWORD_CHANGED, WRONG_CURRENT_PASSWORD } from '../../lib/account/mutations';
import { appDb } from '../../lib/db';
import { FILE_NAME_HEADER } from '../../lib/ingest/upload-protocol';
import { LINK_INVALID, OTHER_ADDRESS, SIGN_IN_TO_ACCEPT } from '../../lib/invitations/mutations';
import { NOT_A_MEMBER, roleRefusal, SIGNED_OUT } from '../../lib/request/action-core';
import type { ActionResult } from '../../lib/request/result';
import { tenantActionSpec } from '../../lib/request/registry';
import { TENANT_COOKIE } from '../../lib/tenancy/session';
import type { Role } from '../../lib/tenancy/roles';
import { appKysely } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import {
  addMembership,
  changedTables,
  count,
  createSide,
  createUser,
  exported,
  HAND_WRITTEN,
  makers,
  PASSWORD,
  quietMail,
  reader,
  resetToken,
  ROOT,
  snapshot,
  tenantCases,
  tenantTables,
  toForm,
  type Input,
  type Side,
  type Snapshot,
} from './fixtures';

// ---------------------------------------------------------------------------
// Next's request scope, stood in for (next-scope.ts)
// ---------------------------------------------------------------------------
const nextjs = await vi.hoisted(async () => (await import('./next-scope')).nextScope('security suite'));
const { scope, Redirected } = nextjs;
vi.mock('../../lib/tenancy/session', nextjs.session);
vi.mock('next/cache', nextjs.cache);
vi.mock('next/headers', nextjs.headers);
vi.mock('next/navigation', nextjs.navigation);

// The actions and routes use the app's own database handle, made at its first use.
process.env.DATABASE_URL = inject('appUrl');
delete process.env.SMTP_URL;
const loud = quietMail();
afterAll(async () => {
  loud();
  await appDb().db.destroy();
});

const owner = ownerPool();
const app = appKysely(4);
const make = makers(owner, app.db);
const read = reader(owner);
const TENANT_CASES = tenantCases(owner, make);

let A: Side;
let B: Side;
beforeAll(async () => {
  [A, B] = await Promise.all([createSide(owner, 'Matrix A'), createSide(owner, 'Matrix B')]);
});


/** The exported action called as Next calls it, as `userId` with the tenant cookie `tenantId`. */
async function call(action: string, userId: string | null, input: Input, tenantId: string | null = null): Promise<ActionResult<unknown>> {
  nextjs.enter(userId, tenantId);
  return (await exported(action))(null, toForm(input));
}

const both = async (): Promise<[Snapshot, Snapshot]> => [await snapshot(owner, A.tenantId), await snapshot(owner, B.tenantId)];

/** Nothing changed in either tenant since `before`. */
async function unchangedSince(before: [Snapshot, Snapshot]): Promise<void> {
  const [a, b] = await both();
  expect({ A: changedTables(before[0], a), B: changedTables(before[1], b) }).toEqual({ A: [], B: [] });
}


describe('the snapshot', () => {
  it('covers the tenant tables and sees any change to a row of the tenant, and none of another tenant', async () => {
    expect(await tenantTables(owner)).toEqual(
      expect.arrayContaining(['ads.optimization_recommendations', 'ads.anomalies', 'ads.ab_tests', 'ads.budget_allocation', 'ads.platform_configs', 'ads_engine.alert_channels', 'saas.api_keys', 'ads_engine.import_mappings', 'saas.memberships', 'saas.invitations', 'saas.audit_log']),
    );
    const before = await both();
    await make.channel(B);
    await inTenant(owner, B.tenantId, (c) => c.query(`update saas.tenants set name = name || '.' where id = $1`, [B.tenantId]));
    const [a, b] = await both();
    expect({ A: changedTables(before[0], a), B: changedTables(before[1], b) }).toEqual({ A: [], B: ['ads_engine.alert_channels', 'saas.tenants'] });
  });
});

// ---------------------------------------------------------------------------
// The list of server actions is complete
// ---------------------------------------------------------------------------

/** Source files under lib/ and app/. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|tsx)$/.test(name) ? [full] : [];
  });
}

/** Whether a module's first statement is the 'use server' directive (comments before it are allowed). */
function isServerModule(text: string): boolean {
  const rest = text.replace(/^(?:\s+|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*/, '');
  return /^(['"])use server\1/.test(rest);
}

/** Lines holding a 'use server' directive that is not the module's first statement (a server action inside a function). */
function inlineDirectives(text: string): number {
  const lines = text.split('\n').filter((l) => /^\s*(['"])use server\1;?\s*$/.test(l)).length;
  return isServerModule(text) ? lines - 1 : lines;
}

describe('the list of server actions', () => {
  const files = [...sources(path.join(ROOT, 'lib')), ...sources(path.join(ROOT, 'app'))];
  const modules = files.filter((f) => isServerModule(readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));

  it('finds the directive only as a first statement', () => {
    expect(isServerModule("'use server';\nexport async function a() {}")).toBe(true);
    expect(isServerModule('// a comment\n/* another */\n"use server";\n')).toBe(true);
    expect(isServerModule("// Kept apart from the 'use server' module\nimport 'server-only';\n")).toBe(false);
    expect(isServerModule("import x from 'y';\n'use server';\n")).toBe(false);
    // The modules known to hold actions are among those found.
    expect(modules).toEqual(expect.arrayContaining(['lib/recommendations/actions.ts', 'lib/tenancy/actions.ts', 'lib/invitations/actions.ts']));
  });

  it('has no server action defined inside a function (it could not be listed)', () => {
    const inline = files.filter((f) => inlineDirectives(readFileSync(f, 'utf8')) > 0).map((f) => path.relative(ROOT, f));
    expect(inline).toEqual([]);
  });

  it('every export of a server module is a registered tenant action with its row in the matrix, or a hand-written action covered here', async () => {
    const cases = new Map(TENANT_CASES.map((c) => [c.action, c]));
    const found: { action: string; kind: string; minRole?: Role }[] = [];
    for (const m of modules) {
      const mod = (await import(/* @vite-ignore */ path.join(ROOT, m))) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        const spec = tenantActionSpec(value);
        const action = `${m}#${name}`;
        found.push({ action, kind: spec ? 'tenant action' : HAND_WRITTEN.includes(action) ? 'hand-written' : `unlisted ${typeof value}`, minRole: spec?.minRole });
      }
    }
    // Each export accounted for, and no row of the matrix names an export that is not there.
    expect(found.filter((f) => f.kind.startsWith('unlisted'))).toEqual([]);
    expect(found.filter((f) => f.kind === 'tenant action').map((f) => f.action).sort()).toEqual([...cases.keys()].sort());
    expect(found.filter((f) => f.kind === 'hand-written').map((f) => f.action).sort()).toEqual([...HAND_WRITTEN].sort());
    // The role each row tests is the role the action is wired with.
    for (const f of found.filter((x) => x.kind === 'tenant action')) expect({ action: f.action, minRole: f.minRole }).toEqual({ action: f.action, minRole: cases.get(f.action)!.minRole });
    console.log(`[matrix] ${found.length} server actions in ${modules.length} modules: ${cases.size} tenant actions, ${HAND_WRITTEN.length} hand-written`);
  });
});

// ---------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------

const LOWER: Readonly<Record<Role, Role[]>> = { viewer: [], buyer: ['viewer'], admin: ['buyer', 'viewer'] };

for (const c of TENANT_CASES) describe(c.action, () => {
  const member = (s: Side, role: Role) => s[role];

  it(`A's member (${c.minRole}) with B's ids: refused, neither tenant changed`, async () => {
    const input = await c.input(B);
    const beforeB = await c.probe(B, input);
    const before = await both();
    const r = await call(c.action, member(A, c.minRole).id, input, A.tenantId);
    if (c.foreign === 'runs in the caller tenant') {
      // Nothing of B is named: the call works, in A only.
      expect(r.ok, JSON.stringify(r)).toBe(true);
      const [a, b] = await both();
      expect(changedTables(before[1], b)).toEqual([]);
      expect(changedTables(before[0], a).length).toBeGreaterThan(0);
    } else {
      expect(r).toMatchObject({ ok: false, message: expect.stringMatching(c.foreign) });
      await unchangedSince(before);
    }
    expect(await c.probe(B, input)).toEqual(beforeB);
  });

  it.skipIf(c.minRole === 'viewer')(`a lower role than ${c.minRole}: the role refusal, nothing changed`, async () => {
    const input = await c.input(A);
    for (const role of LOWER[c.minRole]) {
      const before = await both();
      expect(await call(c.action, member(A, role).id, input, A.tenantId)).toEqual({ ok: false, message: roleRefusal(c.minRole, role) });
      await unchangedSince(before);
    }
  });

  it('without a session: signed out, nothing changed', async () => {
    const input = await c.input(A);
    const before = await both();
    expect(await call(c.action, null, input, A.tenantId)).toEqual({ ok: false, message: SIGNED_OUT });
    await unchangedSince(before);
  });

  it(`the ${c.minRole} of A with A's own ids: done, and the row changed (in A only)`, async () => {
    const input = await c.input(A);
    const was = await c.probe(A, input);
    const before = await both();
    const revalidated = scope.revalidated;
    const r = await call(c.action, member(A, c.minRole).id, input, A.tenantId);
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    const now = await c.probe(A, input);
    expect(now).not.toEqual(was);
    if (c.want) expect(now).toEqual(c.want(input));
    const [, b] = await both();
    expect(changedTables(before[1], b)).toEqual([]);
    // Pages re-render after a change (but after removing a member, whose page would vanish, and after saving a mapping).
    const quiet = ['removeMemberAction', 'saveMappingAction'].some((n) => c.action.endsWith(`#${n}`));
    expect(scope.revalidated - revalidated).toBe(quiet ? 0 : 1);
  });
});

// ---------------------------------------------------------------------------
// The hand-written actions
// ---------------------------------------------------------------------------

const SWITCH = 'lib/tenancy/actions.ts#switchTenantAction';
const CHANGE_PASSWORD = 'lib/account/actions.ts#changePasswordAction';
const ACCEPT_NEW = 'lib/invitations/actions.ts#acceptInvitationWithPasswordAction';
const ACCEPT = 'lib/invitations/actions.ts#acceptInvitationAction';
const DECLINE = 'lib/invitations/actions.ts#declineInvitationAction';
const RESET_REQUEST = 'lib/invitations/actions.ts#requestPasswordResetAction';
const RESET_COMPLETE = 'lib/invitations/actions.ts#completePasswordResetAction';
const NEW_PASSWORD = 'a new password nobody else knows';

/** The action's outcome: its answer, or where it redirected (Next ends a successful action so). */
async function outcome(action: string, userId: string | null, input: Input, tenantId: string | null = null): Promise<ActionResult<unknown> | { redirect: string }> {
  try {
    return await call(action, userId, input, tenantId);
  } catch (err) {
    if (err instanceof Redirected) return { redirect: err.to };
    throw err;
  }
}

const hashOf = async (userId: string) => (await owner.query<{ h: string }>('select password_hash as h from saas.users where id = $1', [userId])).rows[0]?.h;

describe(SWITCH, () => {
  it("signed out, or to a tenant the user is not a member of (B's id), or not a tenant: refused, no cookie, nothing changed", async () => {
    const before = await both();
    expect(await outcome(SWITCH, null, { tenantId: B.tenantId })).toEqual({ ok: false, message: SIGNED_OUT });
    expect(scope.cookies.size).toBe(0);
    expect(await outcome(SWITCH, A.buyer.id, { tenantId: B.tenantId }, A.tenantId)).toEqual({ ok: false, message: NOT_A_MEMBER });
    expect(scope.cookies.size).toBe(0);
    expect(await outcome(SWITCH, A.buyer.id, { tenantId: `${B.tenantId}' or '1'='1` }, A.tenantId)).toMatchObject({ ok: false, message: 'Choose a tenant.' });
    expect(scope.cookies.size).toBe(0);
    await unchangedSince(before);
  });

  it('a member of both tenants switches to B: the cookie names B, then the dashboard', async () => {
    const u = await make.member(A, 'viewer');
    await addMembership(owner, B.tenantId, u.id, 'viewer');
    expect(await outcome(SWITCH, u.id, { tenantId: B.tenantId }, A.tenantId)).toEqual({ redirect: '/performance' });
    expect(scope.cookies.get(TENANT_COOKIE)).toBe(B.tenantId);
  });
});

describe(CHANGE_PASSWORD, () => {
  it('signed out, or with a wrong current password: refused, no hash changed', async () => {
    const u = await make.member(A, 'viewer');
    const was = await hashOf(u.id);
    const before = await both();
    const input = { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD };
    expect(await outcome(CHANGE_PASSWORD, null, input)).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await outcome(CHANGE_PASSWORD, u.id, { ...input, currentPassword: 'not the password at all' }, A.tenantId)).toMatchObject({
      ok: false,
      fieldErrors: { currentPassword: [WRONG_CURRENT_PASSWORD] },
    });
    expect(await hashOf(u.id)).toBe(was);
    await unchangedSince(before);
  });

  it("a viewer changes their own password: only their hash moves, audited in their tenant, nothing in B", async () => {
    const u = await make.member(A, 'viewer');
    const [was, other] = [await hashOf(u.id), await hashOf(B.viewer.id)];
    const before = await both();
    const r = await outcome(CHANGE_PASSWORD, u.id, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, A.tenantId);
    expect(r).toMatchObject({ ok: true, message: PASSWORD_CHANGED });
    expect(await hashOf(u.id)).not.toBe(was);
    expect(await hashOf(B.viewer.id)).toBe(other);
    const [a, b] = await both();
    expect({ A: changedTables(before[0], a), B: changedTables(before[1], b) }).toEqual({ A: ['saas.audit_log'], B: [] });
  });
});

describe(ACCEPT_NEW, () => {
  it('a malformed or unknown link, or a link to an email that has an account: refused, nothing changed', async () => {
    const inv = await make.invitation(B);
    const taken = await make.invitation(B, A.buyer.email);
    const before = await both();
    const input = (token: string) => ({ token, name: 'New person', newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(await outcome(ACCEPT_NEW, null, input(`${inv.id}.${'x'.repeat(43)}`))).toEqual({ ok: false, message: LINK_INVALID });
    expect(await outcome(ACCEPT_NEW, null, input('not a link'))).toEqual({ ok: false, message: LINK_INVALID });
    expect(await outcome(ACCEPT_NEW, null, input(taken.token))).toEqual({ ok: false, message: SIGN_IN_TO_ACCEPT });
    expect(scope.cookies.size).toBe(0);
    await unchangedSince(before);
  });

  it("the link's holder joins the inviting tenant (B) with a new account; A is untouched", async () => {
    const inv = await make.invitation(B);
    const before = await both();
    const r = await outcome(ACCEPT_NEW, null, { token: inv.token, name: 'New person', newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(r).toMatchObject({ ok: true, data: { email: inv.email, tenantId: B.tenantId } });
    expect(scope.cookies.get(TENANT_COOKIE)).toBe(B.tenantId);
    const [a] = await both();
    expect(changedTables(before[0], a)).toEqual([]);
    expect(await read(B, count('saas.memberships m', `user_id = (select id from saas.users where email = $2)`), [inv.email])).toBe(1);
  });
});

describe.each([
  [ACCEPT, 'accept'],
  [DECLINE, 'decline'],
] as const)('%s', (action, answer) => {
  it('signed out, or signed in as someone the invitation is not for: refused, nothing changed', async () => {
    const inv = await make.invitation(B, (await createUser(owner)).email);
    const before = await both();
    expect(await outcome(action, null, { token: inv.token })).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await outcome(action, A.admin.id, { token: inv.token }, A.tenantId)).toEqual({ ok: false, message: OTHER_ADDRESS });
    expect(await outcome(action, A.admin.id, { token: 'forged' }, A.tenantId)).toEqual({ ok: false, message: LINK_INVALID });
    await unchangedSince(before);
  });

  it(`the invitee ${answer}s B's invitation: B's invitation and membership change, A's do not`, async () => {
    const invitee = await make.member(A, 'viewer');
    const inv = await make.invitation(B, invitee.email);
    const before = await both();
    const r = await outcome(action, invitee.id, { token: inv.token }, A.tenantId);
    const [a] = await both();
    expect(changedTables(before[0], a)).toEqual([]);
    const joined = await read(B, count('saas.memberships', 'user_id = $2'), [invitee.id]);
    if (answer === 'accept') {
      expect(r).toEqual({ redirect: '/performance' });
      expect(scope.cookies.get(TENANT_COOKIE)).toBe(B.tenantId);
      expect(joined).toBe(1);
    } else {
      expect(r).toEqual({ ok: true, message: 'Invitation declined.' });
      expect(joined).toBe(0);
      expect(await read(B, 'select declined_at is not null as v from saas.invitations where tenant_id = $1 and id = $2', [inv.id])).toBe(true);
    }
  });
});

describe(`${RESET_REQUEST} and ${RESET_COMPLETE}`, () => {
  const resets = async (userId: string) => (await owner.query<{ n: number }>('select count(*)::int as n from saas.password_resets where user_id = $1', [userId])).rows[0]!.n;

  it('asking answers alike for an account and for no account; nothing of either tenant changes', async () => {
    const u = await make.member(A, 'viewer');
    const before = await both();
    expect(await outcome(RESET_REQUEST, null, { email: u.email })).toEqual({ ok: true, message: resetRequestedMessage(u.email) });
    expect(await outcome(RESET_REQUEST, null, { email: 'nobody-here@security.test' })).toEqual({ ok: true, message: resetRequestedMessage('nobody-here@security.test') });
    expect(await resets(u.id)).toBe(1);
    await unchangedSince(before);
  });

  it('a forged or used link is refused; the real one sets the password of that account only', async () => {
    const u = await make.member(A, 'viewer');
    await outcome(RESET_REQUEST, null, { email: u.email });
    const token = (await resetToken(owner, u.email))!;
    expect(token).not.toBeNull();
    const was = await hashOf(u.id);
    const input = (t: string) => ({ token: t, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(await outcome(RESET_COMPLETE, null, input(`${token.split('.')[0]}.${'y'.repeat(43)}`))).toEqual({ ok: false, message: RESET_LINK_INVALID });
    expect(await hashOf(u.id)).toBe(was);
    expect(await outcome(RESET_COMPLETE, null, input(token))).toMatchObject({ ok: true, data: { email: u.email } });
    expect(await hashOf(u.id)).not.toBe(was);
    expect(await outcome(RESET_COMPLETE, null, input(token))).toEqual({ ok: false, message: RESET_LINK_INVALID });
  });
});

// ---------------------------------------------------------------------------
// The API routes
// ---------------------------------------------------------------------------

describe('POST /api/v1/metrics (Bearer API key)', () => {
  const post = async (key: string | null, body: unknown, headers: Record<string, string> = {}) => {
    const { POST } = await import('../../app/api/v1/metrics/route');
    const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    const res = await POST(new Request('http://localhost:3000/api/v1/metrics', { method: 'POST', headers: h, body: JSON.stringify(body) }));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const row = (s: Side, over: Input = {}) => ({ platform: 'meta', campaign_id: 'api-cmp', campaign_name: 'API campaign', day: s.yesterday, spend: 10, impressions: 100, clicks: 5, conversions: 1, conversion_value: 20, ...over });
  // The key's own book-keeping (rate limit, last use) and the import history change on any authenticated call.
  const keyTables = ['saas.api_key_requests', 'saas.api_keys', 'ads_engine.import_runs'];
  const without = (tables: string[]) => tables.filter((t) => !keyTables.includes(t));

  it("A's key with rows or a body naming B's tenant: refused, nothing of A's or B's data written", async () => {
    const { key } = await make.apiKey(A);
    const before = await both();
    const inRows = await post(key, { rows: [row(A, { tenant_id: B.tenantId })] });
    const inBody = await post(key, { tenant_id: B.tenantId, rows: [row(A)] });
    for (const r of [inRows, inBody]) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(JSON.stringify(r.body)).toContain('tenant_id: not accepted; the API key decides the tenant.');
    }
    const [a, b] = await both();
    expect({ A: without(changedTables(before[0], a)), B: changedTables(before[1], b) }).toEqual({ A: [], B: [] });
  });

  it('no key, a malformed key, a revoked key, a session cookie without a key: 401 alike, nothing written', async () => {
    const { id, key } = await make.apiKey(A);
    await inTenant(owner, A.tenantId, (c) => c.query('update saas.api_keys set revoked_at = now() where tenant_id = $1 and id = $2', [A.tenantId, id]));
    const before = await both();
    const answers = [
      await post(null, { rows: [row(A)] }),
      await post('aegis_nope', { rows: [row(A)] }),
      await post(key, { rows: [row(A)] }),
      await post(null, { rows: [row(A)] }, { cookie: 'next-auth.session-token=whatever' }),
    ];
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect(new Set(answers.map((r) => JSON.stringify(r.body))).size).toBe(1);
    await unchangedSince(before);
  });

  it("A's key writes A's rows into A only", async () => {
    const { key } = await make.apiKey(A);
    const before = await both();
    const r = await post(key, { rows: [row(A)] });
    expect(r.status).toBe(200);
    const [, b] = await both();
    expect(changedTables(before[1], b)).toEqual([]);
    expect(await read(A, count('ads.metrics_daily', `platform_id = 'api-cmp'`))).toBe(1);
    expect(await read(B, count('ads.metrics_daily', `platform_id = 'api-cmp'`))).toBe(0);
  });
});

describe('POST /api/imports (the upload, session cookie)', () => {
  const csv = (s: Side) =>
    `Reporting starts,Reporting ends,Campaign name,Campaign ID,Amount spent (EUR),Impressions,Link clicks,Results,Purchases conversion value\n${s.yesterday},${s.yesterday},Upload campaign,upl-1,10.50,1000,40,2,100.00\n`;
  const upload = async (userId: string | null, tenantId: string | null, o: { headers?: Record<string, string>; query?: Record<string, string>; body?: string } = {}) => {
    const { POST } = await import('../../app/api/imports/route');
    scope.userId = userId;
    scope.tenantId = tenantId;
    const body = o.body ?? csv(A);
    const q = new URLSearchParams({ mode: 'import', platform: 'detect', skipInvalid: '0', ...o.query });
    const headers = { origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin', host: 'localhost:3000', 'content-type': 'application/octet-stream', [FILE_NAME_HEADER]: 'export.csv', 'content-length': String(Buffer.byteLength(body)), ...o.headers };
    const res = await POST(new Request(`http://localhost:3000/api/imports?${q}`, { method: 'POST', headers, body }));
    return { status: res.status, text: await res.text() };
  };

  it('signed out (401), a viewer (403), cross-site (403), naming B as the tenant (404): refused, nothing written', async () => {
    const before = await both();
    const answers = [
      await upload(null, A.tenantId),
      await upload(A.viewer.id, A.tenantId),
      await upload(A.buyer.id, A.tenantId, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } }),
      await upload(A.buyer.id, A.tenantId, { query: { tenant: B.tenantId } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([401, 403, 403, 404]);
    expect(answers[1]!.text).toContain(roleRefusal('buyer', 'viewer'));
    await unchangedSince(before);
  });

  it("A's buyer imports into A only, even with B's tenant cookie (not a membership of theirs)", async () => {
    const before = await both();
    const r = await upload(A.buyer.id, B.tenantId);
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain('"counts":{"read":1,"inserted":1,');
    const [, b] = await both();
    expect(changedTables(before[1], b)).toEqual([]);
    expect(await read(A, count('ads.metrics_daily', `platform_id = 'upl-1'`))).toBe(1);
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('is public and holds no tenant data', async () => {
    const { GET } = await import('../../app/api/v1/openapi.json/route');
    const res = GET();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
    for (const s of [A, B]) for (const v of [s.tenantId, s.admin.email, s.buyer.id]) expect(text).not.toContain(v);
  });
});


// next-auth's route handler (app/api/auth) reads Next's request scope itself, so the check its sign-in runs is
// driven here directly: the only thing a sign-in yields is the account, never a tenant or a role.
describe("POST /api/auth/callback/credentials (the credentials check it runs)", () => {
  it('a wrong password, a disabled account, a control character: refused alike; the right password yields the account only', async () => {
    const { checkCredentials } = await import('../../lib/auth/credentials');
    const disabled = await createUser(owner, { disabled: true });
    const before = await both();
    const refused = [
      await checkCredentials(app.db, { email: A.buyer.email, password: 'not it at all', address: null }),
      await checkCredentials(app.db, { email: disabled.email, password: PASSWORD, address: null }),
      await checkCredentials(app.db, { email: `${A.buyer.email}\u0000`, password: PASSWORD, address: null }),
    ];
    expect(refused.map((r) => r.ok)).toEqual([false, false, false]);
    expect(refused[0]).toEqual(refused[1]);
    const ok = await checkCredentials(app.db, { email: A.buyer.email, password: PASSWORD, address: null });
    expect(ok).toMatchObject({ ok: true, user: { id: A.buyer.id, email: A.buyer.email } });
    expect(ok.ok && Object.keys(ok.user).sort()).toEqual(['email', 'id', 'name']);
    await unchangedSince(before);
  });
});
