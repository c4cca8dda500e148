// Hostile input (fast-check) for every tenant action and every hand-written
// action that takes user input, called as Next calls them: a valid input of
// the caller's tenant A with one to three fields replaced, removed or added
// (huge numbers, 1e309, NaN, -0, negatives, RTL and emoji, NUL bytes, lone
// surrogates, SQL fragments, wrong types, __proto__ and constructor keys,
// strings of 1 MB, ids of tenant B, impossible dates), sent as FormData or as
// a plain object, or no object at all. For each: the call never throws (that
// would be a server error for the user); it answers { ok: false, message }
// with a message, field errors that name their field in the product's words,
// and nothing changed in A; or ok: true (the input was in fact valid), with
// the change inside A. Tenant B never changes. The seed is fixed; the number
// of cases tried per action is printed at the end.
import fc from 'fast-check';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { appDb } from '../../lib/db';
import { acceptInvitationSchema, changePasswordSchema, forgotPasswordSchema, invitationTokenSchema, resetPasswordSchema } from '../../lib/account/schema';
import { INVALID_INPUT } from '../../lib/request/action-core';
import { tenantActionSpec } from '../../lib/request/registry';
import { switchTenantSchema } from '../../lib/tenancy/schema';
import type { ActionResult } from '../../lib/request/result';
import { LAUNCH_BOUNDS, launchAbStep } from '../budgets/launch-input';
import { appKysely } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { changedTables, createSide, createUser, exported, quietMail, HAND_WRITTEN, makers, next, PASSWORD, resetToken, snapshot, tenantCases, toForm, type Input, type Side } from './fixtures';

// ---------------------------------------------------------------------------
// Next's request scope, stood in for (next-scope.ts)
// ---------------------------------------------------------------------------
const nextjs = await vi.hoisted(async () => (await import('./next-scope')).nextScope('security fuzz'));
const { scope, Redirected } = nextjs;
vi.mock('../../lib/tenancy/session', nextjs.session);
vi.mock('next/cache', nextjs.cache);
vi.mock('next/headers', nextjs.headers);
vi.mock('next/navigation', nextjs.navigation);

process.env.DATABASE_URL = inject('appUrl');
delete process.env.SMTP_URL;
afterAll(async () => {
  await appDb().db.destroy();
});

const owner = ownerPool();
const app = appKysely(4);
const make = makers(owner, app.db);
const CASES = tenantCases(owner, make);

/** Fixed, so that a failure is found again by the same run. */
const SEED = 20_260_214;

let A: Side;
let B: Side;
const loud = quietMail();
beforeAll(async () => {
  [A, B] = await Promise.all([createSide(owner, 'Fuzz A'), createSide(owner, 'Fuzz B')]);
});
afterAll(() => {
  loud();
  const rows = [...tried.entries()].map(([action, t]) => ({ action, cases: t.cases, 'of them swept': t.swept, ok: t.ok, refused: t.refused }));
  const total = rows.reduce((n, r) => n + r.cases, 0);
  console.log(`[fuzz] ${total} cases over ${rows.length} actions (seed ${SEED})`);
  console.table(rows);
});

// ---------------------------------------------------------------------------
// What is thrown at the actions
// ---------------------------------------------------------------------------

const MEGABYTE = 'x'.repeat(1 << 20);

const hostileString = fc.constantFrom(
  '',
  '   ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'half \udfff emoji',
  '\u202eRTL override',
  'مرحبا بالعالم',
  'שלום',
  '😀',
  '👩‍👩‍👧‍👦',
  "'; drop table ads.anomalies; --",
  "1' or '1'='1",
  '$$',
  '$1',
  '\\',
  '\\x00',
  '%_%',
  '2026-02-30',
  '0000-01-01',
  '99999-12-31',
  '2026-13-01',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '-0',
  '-1',
  '0',
  '1,000.50',
  '99999999999999999999',
  'on',
  'true',
  'false',
  'null',
  'undefined',
  '[object Object]',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
);

const hostileNumber = fc.oneof(
  fc.constantFrom(1e309, -1e309, Number.NaN, -0, 0, -1, 1e21, -123.456, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, 0.1 + 0.2),
  fc.double(),
  fc.integer(),
);

const leaf = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
  { weight: 1, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.constant(MEGABYTE) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'id', '__proto__', 'constructor', 'length'), leaf, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 1, arbitrary: fc.constant({}) },
);

/** A key no schema expects: the prototype's names, the wrapper's own fields, another tenant's. */
const extraKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '_tenant', '$ACTION_ID_abc', 'tenant_id', 'tenantId', 'userId', 'role'),
  fc.string({ maxLength: 12 }),
);

type Change =
  | { kind: 'set'; key: number; value: unknown }
  | { kind: 'delete'; key: number }
  | { kind: 'foreign'; key: number }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'file'; key: number };

const change: fc.Arbitrary<Change> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('foreign' as const), key: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('extra' as const), key: extraKey, value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('file' as const), key: fc.nat() }) },
);

type Case = { whole: unknown } | { changes: Change[]; asForm: boolean };

const hostileCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ changes: fc.array(change, { minLength: 1, maxLength: 3 }), asForm: fc.boolean() }) },
  // No form at all: what a client calling the action by hand can send.
  { weight: 1, arbitrary: fc.record({ whole: fc.oneof(hostileValue, fc.constantFrom(null, undefined, 'string', 42, [], [{}])) }) },
);

/** Sets an own property, as JSON.parse does for "__proto__" (assignment would set the prototype instead). */
function put(o: Input, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A value's text as a browser would post it (an object without a prototype has no String of its own). */
const text = (x: unknown) => (x === null ? '' : typeof x === 'object' ? Object.prototype.toString.call(x) : String(x));

/** A value as a form field: lists as repeated fields, anything else as its text. */
function appendField(f: FormData, key: string, value: unknown): void {
  if (value === undefined) return;
  for (const x of Array.isArray(value) ? value : [value]) f.append(key, text(x));
}

/** The payload of a case, built on the current valid input of A (and B's, for another tenant's ids); `keys` are the fields changed. */
function payload(c: Case, keys: string[], valid: Input, foreign: Input): FormData | unknown {
  if ('whole' in c) return c.whole;
  const o: Input = { ...valid };
  const files = new Set<string>();
  for (const ch of c.changes) {
    const key = ch.kind === 'extra' ? ch.key : (keys[ch.key % Math.max(keys.length, 1)] ?? 'id');
    if (ch.kind === 'set' || ch.kind === 'extra') put(o, key, ch.value);
    else if (ch.kind === 'delete') delete o[key];
    else if (ch.kind === 'foreign') put(o, key, foreign[key] ?? valid[key]);
    else files.add(key);
  }
  if (!c.asForm) return o;
  const f = toForm({});
  for (const [k, v] of Object.entries(o)) {
    if (files.has(k)) f.append(k, new File([text(v)], `${text(v).slice(0, 40)}.csv`, { type: 'text/csv' }));
    else appendField(f, k, v);
  }
  return f;
}

// ---------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------

/** A product message names its field; zod's own ("Invalid input: expected string, received array") does not. */
const ZOD_DEFAULT = /^(Invalid input|Invalid option|Invalid (string|number|UUID|email|date)|Too (big|small)|Unrecognized key)/;

const tried = new Map<string, { cases: number; swept: number; ok: number; refused: number }>();

/** Fields of a schema's objects (through its pipes, preprocessing and optional wrappers): those it reads even when a valid form leaves them out. */
function schemaKeys(schema: z.ZodType | undefined, out = new Set<string>()): Set<string> {
  const def = (schema as { _zod?: { def?: { type: string; shape?: Record<string, z.ZodType>; in?: z.ZodType; out?: z.ZodType; innerType?: z.ZodType } } } | undefined)?._zod?.def;
  if (!def) return out;
  if (def.type === 'object') for (const k of Object.keys(def.shape ?? {})) out.add(k);
  else if (def.type === 'pipe') {
    schemaKeys(def.in, out);
    schemaKeys(def.out, out);
  } else if (def.innerType) schemaKeys(def.innerType, out);
  return out;
}

/**
 * What the database cannot take or the code may choke on, tried on every field one by one before the random
 * cases: a NUL inside text (PostgreSQL's text refuses it), half of an emoji (jsonb refuses it), a megabyte,
 * a list, an object.
 */
const DEADLY: unknown[] = ['a\u0000b', 'half \ud800 emoji', MEGABYTE, ['x', 'y'], { a: 1 }];

interface Target {
  action: string;
  runs: number;
  /** The schema the action parses with (its fields are changed too when a valid form leaves them out). */
  schema?: z.ZodType;
  /** Fields the valid form leaves out but the action reads (an optional step, a dismissal's details), set over the valid input. */
  also?: (s: Side) => Input;
  /** Who calls and with which valid input (fresh objects of A): built again after each call that worked. */
  base: () => Promise<{ userId: string | null; input: Input }>;
  /** The same input built from B's objects: its values are ids of another tenant. */
  foreign: () => Promise<Input>;
}

async function fuzz(t: Target): Promise<void> {
  const action = await exported(t.action);
  const stats = { cases: 0, swept: 0, ok: 0, refused: 0 };
  tried.set(t.action.split('#')[1]!, stats);
  let base = await t.base();
  const foreign = await t.foreign();
  const also = t.also?.(A) ?? {};
  const keys = [...new Set([...Object.keys(base.input), ...Object.keys(also), ...schemaKeys(t.schema ?? tenantActionSpec(action)?.schema)])];
  const sweep: [Case][] = keys.flatMap((_k, key) => DEADLY.map((value): [Case] => [{ changes: [{ kind: 'set', key, value }], asForm: false }]));
  stats.swept = sweep.length;
  const b0 = await snapshot(owner, B.tenantId);
  let a0 = await snapshot(owner, A.tenantId);

  await fc.assert(
    fc.asyncProperty(hostileCase, async (c) => {
      stats.cases++;
      nextjs.enter(base.userId, A.tenantId);
      let r: ActionResult<unknown>;
      try {
        r = await action(null, payload(c, keys, { ...base.input, ...also }, { ...foreign, ...also }) as FormData);
      } catch (err) {
        // Next ends a successful action by redirecting (switching tenant, accepting an invitation).
        if (!(err instanceof Redirected)) throw new Error(`the action threw (a server error for the user): ${(err as Error).stack ?? String(err)}`);
        r = { ok: true };
      }
      const [a1, b1] = await Promise.all([snapshot(owner, A.tenantId), snapshot(owner, B.tenantId)]);
      expect(changedTables(b0, b1), 'tenant B changed').toEqual([]);
      expect(typeof r.ok).toBe('boolean');
      if (r.ok) {
        stats.ok++;
        base = await t.base();
        a0 = await snapshot(owner, A.tenantId);
        return;
      }
      stats.refused++;
      expect(r.message.trim(), 'a refusal says why').not.toBe('');
      // The launch's last resort for what the database refused: the input reached it unchecked, and no field is named.
      expect(r.message, 'a refusal names the field, not the database').not.toMatch(/the database refused it/);
      expect(changedTables(a0, a1), `refused (${r.message}) but tenant A changed`).toEqual([]);
      const errors = Object.entries(r.fieldErrors ?? {});
      if (r.message === INVALID_INPUT) expect(errors.length, 'an invalid input names its field').toBeGreaterThan(0);
      for (const [field, messages] of errors) {
        expect(messages?.length, field).toBeGreaterThan(0);
        for (const m of messages ?? []) expect(m, `the message of ${field}`).not.toMatch(ZOD_DEFAULT);
      }
    }),
    // The sweep's cases come first and count among the runs.
    { seed: SEED, numRuns: sweep.length + t.runs, examples: sweep, endOnFailure: true },
  );
}

// ---------------------------------------------------------------------------
// The targets
// ---------------------------------------------------------------------------

/** Cases per action: the loop and password hashing are slow, the rest is kept to the time the suite may take. */
const RUNS: Record<string, number> = {
  runOptimizerAction: 15,
  launchCampaignAction: 30,
  changePasswordAction: 30,
  acceptInvitationWithPasswordAction: 25,
  requestPasswordResetAction: 30,
  completePasswordResetAction: 25,
};
const DEFAULT_RUNS = 35;
const runsOf = (action: string) => RUNS[action.split('#')[1]!] ?? DEFAULT_RUNS;

/** The fields of an optional step or branch, so that the fuzz reaches them too. */
const ALSO: Record<string, (s: Side) => Input> = {
  decideRecommendationAction: () => ({ decision: 'dismiss', reason: 'other', details: 'Seasonal dip, back next week' }),
  decideManyAction: () => ({ details: 'Seasonal dip, back next week' }),
  moveAnomaliesAction: () => ({ note: 'Checked the tracking tag' }),
  launchCampaignAction: (s) => ({ ...LAUNCH_BOUNDS, ...launchAbStep(s.today) }),
};

const TENANT_TARGETS: Target[] = CASES.map((c) => ({
  action: c.action,
  runs: runsOf(c.action),
  also: ALSO[c.action.split('#')[1]!],
  base: async () => ({ userId: A[c.minRole].id, input: await c.input(A) }),
  foreign: () => c.input(B),
}));

const passwords = { newPassword: 'a fresh password of the fuzz', confirmPassword: 'a fresh password of the fuzz' };

/** Accepting or declining an invitation of A: the valid base is a fresh account, a member of nothing, signed in and invited. */
function invitationAnswer(action: string): Target {
  return {
    action,
    schema: invitationTokenSchema,
    runs: DEFAULT_RUNS,
    base: async () => {
      const invitee = await createUser(owner);
      return { userId: invitee.id, input: { token: (await make.invitation(A, invitee.email)).token } };
    },
    foreign: async () => ({ token: (await make.invitation(B)).token }),
  };
}

/** The hand-written actions that take input; each valid base is a fresh person or link. */
const HAND_TARGETS: Target[] = [
  {
    action: 'lib/tenancy/actions.ts#switchTenantAction',
    schema: switchTenantSchema,
    runs: DEFAULT_RUNS,
    base: async () => {
      const u = await make.member(A, 'viewer');
      const other = await createSide(owner, `Fuzz switch ${next()}`);
      await inTenant(owner, other.tenantId, (c) => c.query(`insert into saas.memberships (tenant_id, user_id, role) values ($1, $2, 'viewer')`, [other.tenantId, u.id]));
      return { userId: u.id, input: { tenantId: other.tenantId } };
    },
    foreign: async () => ({ tenantId: B.tenantId }),
  },
  {
    action: 'lib/account/actions.ts#changePasswordAction',
    schema: changePasswordSchema,
    runs: runsOf('#changePasswordAction'),
    base: async () => ({ userId: (await make.member(A, 'viewer')).id, input: { currentPassword: PASSWORD, ...passwords } }),
    foreign: async () => ({ currentPassword: 'not the password', ...passwords }),
  },
  {
    action: 'lib/invitations/actions.ts#acceptInvitationWithPasswordAction',
    schema: acceptInvitationSchema,
    runs: runsOf('#acceptInvitationWithPasswordAction'),
    base: async () => ({ userId: null, input: { token: (await make.invitation(A)).token, name: 'New person', ...passwords } }),
    foreign: async () => ({ token: (await make.invitation(B)).token }),
  },
  invitationAnswer('lib/invitations/actions.ts#acceptInvitationAction'),
  invitationAnswer('lib/invitations/actions.ts#declineInvitationAction'),
  {
    action: 'lib/invitations/actions.ts#requestPasswordResetAction',
    schema: forgotPasswordSchema,
    runs: DEFAULT_RUNS,
    base: async () => ({ userId: null, input: { email: (await make.member(A, 'viewer')).email } }),
    foreign: async () => ({ email: B.viewer.email }),
  },
  {
    action: 'lib/invitations/actions.ts#completePasswordResetAction',
    schema: resetPasswordSchema,
    runs: runsOf('#completePasswordResetAction'),
    base: async () => ({ userId: null, input: { token: await resetLink(), ...passwords } }),
    foreign: async () => ({ token: `${B.tenantId}.${'b'.repeat(43)}` }),
  },
];

/** A reset link of a member of A, as its mail carries it. */
async function resetLink(): Promise<string> {
  const u = await make.member(A, 'viewer');
  const request = await exported('lib/invitations/actions.ts#requestPasswordResetAction');
  await request(null, toForm({ email: u.email }));
  const token = await resetToken(owner, u.email);
  if (!token) throw new Error(`no reset link was mailed to ${u.email}`);
  return token;
}

describe('hostile input to every tenant action', () => {
  it.each(TENANT_TARGETS.map((t) => [t.action.split('#')[1], t] as const))('%s', async (_name, t) => fuzz(t), 120_000);
});

describe('hostile input to the hand-written actions', () => {
  it('covers every hand-written action that takes input', () => {
    expect(HAND_TARGETS.map((t) => t.action).sort()).toEqual([...HAND_WRITTEN].sort());
  });
  it.each(HAND_TARGETS.map((t) => [t.action.split('#')[1], t] as const))('%s', async (_name, t) => fuzz(t), 120_000);
});

// ---------------------------------------------------------------------------
// What the fuzz found, fixed: each case as it was found, kept
// ---------------------------------------------------------------------------

describe('found by the fuzz (fixed)', () => {
  const as = async (userId: string | null, action: string, input: FormData | unknown) => {
    nextjs.enter(userId, A.tenantId);
    return (await exported(action))(null, input as FormData);
  };

  it('switching tenant with a plain object (a client calling the action by hand) is answered, not a server error', async () => {
    expect(await as(A.buyer.id, 'lib/tenancy/actions.ts#switchTenantAction', { tenantId: undefined })).toMatchObject({ ok: false, message: 'Choose a tenant.' });
    expect(await as(A.buyer.id, 'lib/tenancy/actions.ts#switchTenantAction', null)).toMatchObject({ ok: false, message: 'Choose a tenant.' });
    expect(await as(A.buyer.id, 'lib/tenancy/actions.ts#switchTenantAction', { tenantId: B.tenantId })).toMatchObject({ ok: false, message: 'You are not a member of that tenant.' });
    expect(scope.cookies.size).toBe(0);
  });

  it("the settings form's version sent as a date is refused naming the version", async () => {
    const valid = await CASES.find((c) => c.action.endsWith('#savePlatformConfigAction'))!.input(A);
    const r = await as(A.buyer.id, 'lib/settings/actions.ts#savePlatformConfigAction', { ...valid, expected: new Date('1969-12-31T23:59:59.990Z') });
    expect(r).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { expected: ['Version: reload the page and try again; nothing was saved.'] } });
  });

  it('a mapping column sent as a list is refused in words, under its field', async () => {
    const valid = await CASES.find((c) => c.action.endsWith('#saveMappingAction'))!.input(A);
    const r = await as(A.buyer.id, 'lib/ingest/mapping-actions.ts#saveMappingAction', { ...valid, map_impressions: [] });
    expect(r).toMatchObject({ ok: false, fieldErrors: { map_impressions: ['A column name is the text of one header.'] } });
  });

  it('accepting a recommended budget whose amount the post left out says to reload, under the amount', async () => {
    const valid = await CASES.find((c) => c.action.endsWith('#acceptRecommendedAction'))!.input(A);
    const { recommended: _left, ...rest } = valid;
    const r = await as(A.buyer.id, 'lib/budgets/actions.ts#acceptRecommendedAction', toForm(rest));
    expect(r).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { recommended: ['Recommended budget: reload the page and try again (the amount shown is missing).'] } });
  });

  const validOf = (name: string) => CASES.find((c) => c.action.endsWith(`#${name}`))!.input(A);
  const fieldErrorsOf = (r: ActionResult<unknown>) => (r.ok ? null : r.fieldErrors);

  it("a dismissal's details holding a NUL or half of an emoji are refused naming the details (they reached PostgreSQL: a server error)", async () => {
    const one = await validOf('decideRecommendationAction');
    const many = await validOf('decideManyAction');
    const nul = await as(A.buyer.id, 'lib/recommendations/actions.ts#decideRecommendationAction', { ...one, decision: 'dismiss', reason: 'other', details: 'a\u0000b' });
    expect(fieldErrorsOf(nul)).toEqual({ details: ['Details: remove the NUL character (code 0) it contains.'] });
    const half = await as(A.buyer.id, 'lib/recommendations/actions.ts#decideManyAction', { ...many, details: 'half \ud800 emoji' });
    expect(fieldErrorsOf(half)).toEqual({ details: ['Details: it contains a broken character (half of an emoji?): type it again.'] });
  });

  it("a mapping header holding half of an emoji is refused under its field (jsonb refused it: a server error)", async () => {
    const r = await as(A.buyer.id, 'lib/ingest/mapping-actions.ts#saveMappingAction', { ...(await validOf('saveMappingAction')), map_campaign_id: 'half \ud800 emoji' });
    expect(fieldErrorsOf(r)).toEqual({ map_campaign_id: ['A column name cannot hold a broken character (half of an emoji).'] });
  });

  it('a new allocation for a campaign id holding a NUL is refused under the campaign (PostgreSQL refused it: a server error)', async () => {
    const r = await as(A.buyer.id, 'lib/budgets/actions.ts#createBudgetAction', { ...(await validOf('createBudgetAction')), campaignId: 'a\u0000b' });
    expect(fieldErrorsOf(r)).toEqual({ campaignId: ['Campaign: choose a campaign from the list.'] });
  });

  it('a launch whose campaign id holds a NUL, or whose name or A/B ids hold half of an emoji, is refused naming each field', async () => {
    const valid = await validOf('launchCampaignAction');
    const launch = (over: Input) => as(A.buyer.id, 'lib/budgets/launch-actions.ts#launchCampaignAction', { ...valid, ...ALSO.launchCampaignAction!(A), ...over });
    expect(fieldErrorsOf(await launch({ campaignId: 'a\u0000b' }))).toEqual({ 'campaign.campaignId': ['Campaign id: remove the control character or broken character (half of an emoji) it contains.'] });
    // Was "the database refused it", naming no field.
    expect(fieldErrorsOf(await launch({ campaignName: 'Name \ud800' }))).toEqual({ 'campaign.campaignName': ['Campaign name: it contains a broken character (half of an emoji?): type it again.'] });
    // Was launched, the id stored as another character than the one sent.
    expect(fieldErrorsOf(await launch({ idsB: 'x\ud800' }))).toEqual({ 'abtest.idsB': ['Variant B: “adset:x\ud800” is not a platform id (level:id).'] });
  });

  it("a new account's name holding a NUL is refused naming the name (PostgreSQL refused it: a server error)", async () => {
    const { token } = await make.invitation(A);
    const r = await as(null, 'lib/invitations/actions.ts#acceptInvitationWithPasswordAction', { token, name: 'Ann\u0000', ...passwords });
    expect(r).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { name: ['A name cannot contain control characters.'] } });
  });

  it("a new account's name sent as a number is refused naming the name", async () => {
    const { token } = await make.invitation(A);
    const r = await as(null, 'lib/invitations/actions.ts#acceptInvitationWithPasswordAction', { token, name: -2147483625, ...passwords });
    expect(r).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { name: ['Enter your name as text.'] } });
  });
});
