// A hostile review of invitations, resets, sessions, mail and sign-in limits:
// each test is an attack by a tenant admin, a stranger or an invitee, and
// asserts what must hold. Real database (app role and owner), no SMTP_URL.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { inviteMember } from '../../lib/members/mutations';
import { inviteMemberSchema } from '../../lib/members/schema';
import { acceptWithNewPassword, answerAsSignedIn, LINK_INVALID, OTHER_ADDRESS, SIGN_IN_TO_ACCEPT } from '../../lib/invitations/mutations';
import { completePasswordReset, requestPasswordReset, RESET_LINK_INVALID } from '../../lib/account/reset';
import { checkCredentials } from '../../lib/auth/credentials';
import { currentSessionVersion, sessionStillValid } from '../../lib/auth/session-version';
import { boundedRequest } from '../../lib/auth/bounded-request';
import { listOutbox, MASKED_SECRET } from '../../lib/mail/queries';
import { sql } from 'kysely';
import { appKysely } from '../helpers/app-db';
import { appPool, errorOf, ownerPool, rollback } from '../helpers/db';
import { count, createTeam, createUser, PASSWORD } from './fixtures';

delete process.env.SMTP_URL;
const app = appKysely(4);
const appRaw = appPool();
const owner = ownerPool();
const CHOSEN = 'a password only the invitee knows';

const act = <S extends z.ZodType, T>(schema: S, handler: ActionHandler<S, T>, userId: string, input: Record<string, string>) =>
  runTenantAction({ schema, minRole: 'admin', handler, userId, preferredTenantId: null, input, db: app.db });
const invite = (adminId: string, email: string, role = 'viewer') => act(inviteMemberSchema, inviteMember, adminId, { email, role });
const fresh = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}@attack.test`;
const roleOf = async (tenantId: string, userId: string) =>
  (await owner.query('select role from saas.memberships where tenant_id = $1 and user_id = $2', [tenantId, userId])).rows[0]?.role ?? null;
const userByEmail = async (email: string) => (await owner.query('select * from saas.users where email = $1', [email])).rows[0];
const sha = (s: string) => createHash('sha256').update(s).digest();

async function linkFrom(email: string, kind: 'invitation' | 'password_reset'): Promise<string> {
  const r = await owner.query('select body_text from saas.mail_outbox where to_address = $1 and kind = $2 order by id desc limit 1', [email, kind]);
  const m = /\/(?:invite|reset-password)\/([0-9a-f-]{36}\.[A-Za-z0-9_-]{43})/.exec(r.rows[0]?.body_text ?? '');
  if (!m) throw new Error(`no ${kind} link mailed to ${email}`);
  return m[1]!;
}
async function invitedLink(adminId: string, email: string, role = 'viewer'): Promise<string> {
  const r = await invite(adminId, email, role);
  expect(r.ok).toBe(true);
  return linkFrom(email, 'invitation');
}
const parts = (token: string) => {
  const [id, secret] = token.split('.');
  return { id: id!, hash: sha(secret!) };
};
const accept = (token: string, password = CHOSEN) => acceptWithNewPassword({ token, newPassword: password, confirmPassword: password, name: 'Taker' }, app.db);

async function setLocal(c: pg.ClientBase, tenantId: string | null, userId: string | null) {
  await c.query("select set_config('saas.tenant_id', $1, true), set_config('saas.user_id', $2, true)", [tenantId ?? '', userId ?? '']);
}

describe('the helpers of the acceptance functions are not the app role\'s', () => {
  it('aegis_app may not execute saas.invitation_open or saas.invitation_join (nor PUBLIC)', async () => {
    const r = await owner.query(`
      select p.oid::regprocedure::text as fn, has_function_privilege('aegis_app', p.oid, 'EXECUTE') as app,
             coalesce(bool_or(a.grantee = 0), false) as public
      from pg_proc p left join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a on a.privilege_type = 'EXECUTE'
      where p.pronamespace = 'saas'::regnamespace and p.proname in ('invitation_open', 'invitation_join')
      group by p.oid order by 1`);
    expect(r.rows).toEqual([
      { fn: 'saas.invitation_join(saas.invitations,uuid,boolean)', app: false, public: false },
      { fn: 'saas.invitation_open(uuid,bytea)', app: false, public: false },
    ]);
  });

  it('a direct call of invitation_join as the app role (a forged row: any tenant, any role) is refused', async () => {
    const t = await createTeam(owner, 'Forged join');
    const stranger = await createUser(owner);
    await rollback(appRaw, async (c) => {
      const err = await errorOf(
        c,
        `select saas.invitation_join(row($1::uuid, gen_random_uuid(), $2, 'admin', $3::bytea, null, now(), now(), now() + interval '1 day',
                                          null, null, null, null, null)::saas.invitations, $4::uuid, false)`,
        [t.tenantId, stranger.email, randomBytes(32), stranger.id],
      );
      expect(err).toMatch(/permission denied/);
    });
    expect(await roleOf(t.tenantId, stranger.id)).toBeNull();
  });
});

describe('the settings a SECURITY DEFINER function sets are put back', () => {
  it('accepting tenant A\'s invitation inside tenant B\'s transaction leaves the rest of it in tenant B', async () => {
    const a = await createTeam(owner, 'Leak A');
    const b = await createTeam(owner, 'Leak B');
    const token = await invitedLink(a.admin.id, b.viewer.email, 'buyer');
    const { id, hash } = parts(token);
    await rollback(appRaw, async (c) => {
      await setLocal(c, b.tenantId, b.viewer.id);
      const r = await c.query('select saas.invitation_accept_existing($1::uuid, $2) as t', [id, hash]);
      expect(r.rows[0].t).toBe(a.tenantId);
      const s = await c.query("select current_setting('saas.tenant_id', true) as t, current_setting('saas.user_id', true) as u");
      expect(s.rows[0]).toEqual({ t: b.tenantId, u: b.viewer.id });
      // Tenant A's rows stay out of reach for the rest of the transaction.
      expect((await c.query('select count(*)::int as n from saas.invitations where tenant_id = $1', [a.tenantId])).rows[0].n).toBe(0);
      expect((await c.query('select count(*)::int as n from saas.memberships where tenant_id = $1', [a.tenantId])).rows[0].n).toBe(0);
      expect((await c.query('select count(*)::int as n from saas.mail_outbox where tenant_id = $1', [a.tenantId])).rows[0].n).toBe(0);
    });
  });

  it('accept_new and decline called with no tenant set leave none set (and nothing readable)', async () => {
    const a = await createTeam(owner, 'Leak none');
    const email = fresh('none');
    const { id, hash } = parts(await invitedLink(a.admin.id, email));
    const invitee = await createUser(owner);
    const d = parts(await invitedLink(a.admin.id, invitee.email));
    const pw = (await import('../../lib/auth/password')).hashPassword;
    const hashOfPw = await pw(CHOSEN);
    await rollback(appRaw, async (c) => {
      await c.query('select * from saas.invitation_accept_new($1::uuid, $2, $3, $4)', [id, hash, hashOfPw, 'X']);
      expect((await c.query('select saas.current_tenant_id() as t, saas.current_user_id() as u')).rows[0]).toEqual({ t: null, u: null });
      await setLocal(c, null, invitee.id);
      await c.query('select saas.invitation_decline($1::uuid, $2)', [d.id, d.hash]);
      expect((await c.query('select saas.current_tenant_id() as t, saas.current_user_id() as u')).rows[0]).toEqual({ t: null, u: invitee.id });
      expect((await c.query('select count(*)::int as n from saas.invitations')).rows[0].n).toBe(0);
      expect((await c.query('select count(*)::int as n from saas.memberships')).rows[0].n).toBe(0);
      expect((await c.query('select count(*)::int as n from saas.audit_log')).rows[0].n).toBe(0);
    });
  });
});

describe('a link of tenant A', () => {
  it('joins tenant A only, with the invited role; a mix of A\'s id and B\'s secret is no link', async () => {
    const a = await createTeam(owner, 'Link A');
    const b = await createTeam(owner, 'Link B');
    const email = fresh('mix');
    const ta = await invitedLink(a.admin.id, email, 'viewer');
    const tb = await invitedLink(b.admin.id, email, 'admin');
    const [idA] = ta.split('.');
    const [, secretB] = tb.split('.');
    expect(await accept(`${idA}.${secretB}`)).toEqual({ ok: false, message: LINK_INVALID });
    const r = await accept(ta);
    expect(r).toMatchObject({ ok: true, data: { tenantId: a.tenantId, email } });
    const u = await userByEmail(email);
    expect(await roleOf(a.tenantId, u.id)).toBe('viewer');
    expect(await roleOf(b.tenantId, u.id)).toBeNull();
    // Tenant B's invitation now meets a verified account: only its owner, signed in, may accept.
    expect(await accept(tb, 'another password entirely')).toEqual({ ok: false, message: SIGN_IN_TO_ACCEPT });
  });

  it('is accepted once when two acceptances race: one account, one membership', async () => {
    const a = await createTeam(owner, 'Race same');
    const email = fresh('race');
    const token = await invitedLink(a.admin.id, email, 'buyer');
    const results = await Promise.all([accept(token, 'first racing password'), accept(token, 'second racing password')]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, message: LINK_INVALID }]);
    expect(await count(owner, 'select 1 from saas.users where email = $1', [email])).toBe(1);
    expect(await count(owner, 'select 1 from saas.memberships m join saas.users u on u.id = m.user_id where u.email = $1', [email])).toBe(1);
  });

  it('two invitations to one unproved account accepted at once: the loser does not replace the winner\'s (now verified) credentials', async () => {
    const a = await createTeam(owner, 'Race A');
    const b = await createTeam(owner, 'Race B');
    const u = await createUser(owner, { verified: false });
    const [ta, tb] = [await invitedLink(a.admin.id, u.email), await invitedLink(b.admin.id, u.email)];
    const results = await Promise.all([accept(ta, 'password of tenant A side'), accept(tb, 'password of tenant B side')]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, message: SIGN_IN_TO_ACCEPT }]);
    const winner = results[0]!.ok ? 'password of tenant A side' : 'password of tenant B side';
    const loser = results[0]!.ok ? 'password of tenant B side' : 'password of tenant A side';
    expect((await checkCredentials(app.db, { email: u.email, password: winner, address: null })).ok).toBe(true);
    expect((await checkCredentials(app.db, { email: u.email, password: loser, address: null })).ok).toBe(false);
  });

  it('never replaces a verified account\'s password, and is not accepted by another signed-in account', async () => {
    const a = await createTeam(owner, 'Verified');
    const v = await createUser(owner);
    const token = await invitedLink(a.admin.id, v.email);
    expect(await accept(token)).toEqual({ ok: false, message: SIGN_IN_TO_ACCEPT });
    expect((await checkCredentials(app.db, { email: v.email, password: PASSWORD, address: null })).ok).toBe(true);
    // The inviting admin, signed in, holding the link (as in the demo's outbox).
    expect(await answerAsSignedIn(a.admin.id, 'accept', { token }, app.db)).toEqual({ ok: false, message: OTHER_ADDRESS });
    expect(await roleOf(a.tenantId, v.id)).toBeNull();
    expect(await answerAsSignedIn(v.id, 'accept', { token }, app.db)).toMatchObject({ ok: true, data: { tenantId: a.tenantId } });
    expect(await roleOf(a.tenantId, v.id)).toBe('viewer');
  });
});

describe('tenant data of invitations and mail, as the app role', () => {
  it('tenant A reads, moves and writes none of tenant B\'s invitations or mail, and nobody reads system mail', async () => {
    const a = await createTeam(owner, 'RLS A');
    const b = await createTeam(owner, 'RLS B');
    await invitedLink(b.admin.id, fresh('b'));
    const reset = await createUser(owner);
    expect((await requestPasswordReset({ email: reset.email }, app.db)).ok).toBe(true);
    const bInv = (await owner.query('select id from saas.invitations where tenant_id = $1', [b.tenantId])).rows[0].id;
    const bMail = (await owner.query('select id from saas.mail_outbox where tenant_id = $1', [b.tenantId])).rows[0].id;
    await invitedLink(a.admin.id, fresh('a'));
    await rollback(appRaw, async (c) => {
      await setLocal(c, a.tenantId, a.admin.id);
      expect((await c.query('select count(*)::int as n from saas.invitations where tenant_id <> $1', [a.tenantId])).rows[0].n).toBe(0);
      expect((await c.query('select count(*)::int as n from saas.mail_outbox where tenant_id is distinct from $1', [a.tenantId])).rows[0].n).toBe(0);
      expect((await c.query("update saas.invitations set role = 'admin' where id = $1", [bInv])).rowCount).toBe(0);
      expect(await errorOf(c, 'update saas.invitations set tenant_id = $1 where tenant_id = $2', [b.tenantId, a.tenantId])).toMatch(/row-level security/);
      expect(
        await errorOf(c, "insert into saas.invitations (tenant_id, email, role, token_hash, expires_at) values ($1, 'x@y.test', 'admin', $2, now() + interval '1 day')", [
          b.tenantId,
          randomBytes(32),
        ]),
      ).toMatch(/row-level security/);
      expect(await errorOf(c, "insert into saas.mail_outbox (tenant_id, kind, to_address, subject, transport) values ($1, 'x', 'x@y.test', 's', 'outbox')", [b.tenantId])).toMatch(
        /row-level security/,
      );
      expect((await c.query('select saas.mail_mark($1, true, null) as m', [bMail])).rows[0].m).toBe(false);
      expect(await errorOf(c, 'update saas.mail_outbox set body_text = null')).toMatch(/permission denied/);
      expect(await errorOf(c, 'select * from saas.password_resets')).toMatch(/permission denied/);
      await setLocal(c, null, null);
      expect((await c.query('select count(*)::int as n from saas.mail_outbox')).rows[0].n).toBe(0);
    });
  });

  it('a subject or address with a line break never reaches the outbox (no header injection)', async () => {
    await rollback(appRaw, async (c) => {
      for (const [to, subject] of [
        ['victim@x.test\r\nBcc: all@x.test', 'Hi'],
        ['victim@x.test', 'Hi\r\nBcc: all@x.test'],
        ['victim@x.test, other@x.test', 'Hi'],
      ]) {
        expect(await errorOf(c, "insert into saas.mail_outbox (kind, to_address, subject, transport) values ('x', $1, $2, 'outbox')", [to, subject])).toMatch(/check constraint/);
      }
    });
  });
});

describe('password resets and sessions', () => {
  it('a reset link works once, ends the sessions of the old password, and dies with a disabled account', async () => {
    const u = await createUser(owner);
    const before = await currentSessionVersion(app.db, u.id);
    expect((await requestPasswordReset({ email: u.email }, app.db)).ok).toBe(true);
    const token = await linkFrom(u.email, 'password_reset');
    const body = { token, newPassword: CHOSEN, confirmPassword: CHOSEN };
    const both = await Promise.all([completePasswordReset(body, app.db), completePasswordReset(body, app.db)]);
    expect(both.filter((r) => r.ok)).toHaveLength(1);
    expect(sessionStillValid(before ?? undefined, await currentSessionVersion(app.db, u.id))).toBe(false);

    const d = await createUser(owner);
    expect((await requestPasswordReset({ email: d.email }, app.db)).ok).toBe(true);
    const dt = await linkFrom(d.email, 'password_reset');
    await owner.query('update saas.users set disabled_at = now() where id = $1', [d.id]);
    expect(await completePasswordReset({ token: dt, newPassword: CHOSEN, confirmPassword: CHOSEN }, app.db)).toEqual({ ok: false, message: RESET_LINK_INVALID });
  });
});

describe('sign-in limits', () => {
  it('a device known for one account counts as a stranger for another', async () => {
    const x = await createUser(owner);
    const y = await createUser(owner);
    const device = randomBytes(32);
    await owner.query('insert into saas.known_devices (user_id, token_hash) values ($1, $2)', [x.id, device]);
    const scope = async (email: string) =>
      (await appRaw.query('select scope from saas.login_attempt_begin($1, null, $2)', [email, device])).rows[0].scope;
    expect(await scope(x.email)).toBe('device');
    expect(await scope(y.email)).toBe('account');
  });

  it('an unknown email and an existing one are throttled alike (no enumeration by the limit)', async () => {
    const u = await createUser(owner);
    const unknown = fresh('nobody');
    const run = async (email: string) => {
      const out: string[] = [];
      for (let i = 0; i < 6; i++) out.push((await checkCredentials(app.db, { email, password: 'wrong guess', address: null })).ok ? 'ok' : 'no');
      const last = await checkCredentials(app.db, { email, password: 'wrong guess', address: null });
      return !last.ok && { reason: last.reason, message: last.message.replace(/\d+/g, 'N') };
    };
    expect(await run(u.email)).toEqual(await run(unknown));
  });
});

describe('the 16 KB cap', () => {
  const big = 'a'.repeat(20 * 1024);
  const req = (headers: Record<string, string>, body: BodyInit = big) =>
    new Request('http://localhost:3000/api/auth/callback/credentials', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  it('holds when the Content-Length lies (smaller than the body) or is odd', async () => {
    for (const cl of ['10', ' 10 ', '0']) {
      const r = await boundedRequest(req({ 'content-length': cl }));
      expect(r instanceof Response && r.status).toBe(413);
    }
    for (const cl of ['+10', '1e3', '-1', '0x10', '10, 10']) {
      const r = await boundedRequest(req({ 'content-length': cl }, 'a=b'));
      expect(r instanceof Response && r.status).toBe(413);
    }
  });
});

describe('found by the review (fixed)', () => {
  it('only the invitee may decline: another signed-in account holding the link cannot close it', async () => {
    const t = await createTeam(owner, 'Decline');
    const invitee = await createUser(owner);
    const token = await invitedLink(t.admin.id, invitee.email, 'buyer');
    // The inviting admin (the demo's outbox shows the link), or anyone it was forwarded to.
    expect(await answerAsSignedIn(t.admin.id, 'decline', { token }, app.db)).toEqual({ ok: false, message: OTHER_ADDRESS });
    const stranger = await createUser(owner);
    expect(await answerAsSignedIn(stranger.id, 'decline', { token }, app.db)).toEqual({ ok: false, message: OTHER_ADDRESS });
    expect(await answerAsSignedIn(invitee.id, 'accept', { token }, app.db)).toMatchObject({ ok: true });
    expect(await roleOf(t.tenantId, invitee.id)).toBe('buyer');
  });
});

describe('the outbox page does not hand an admin the invitee\'s link (no-SMTP mode)', () => {
  it('an admin listing the outbox sees the mail with the secret masked, and cannot accept with what is shown', async () => {
    const t = await createTeam(owner, 'Outbox reader');
    const victim = await createUser(owner, { verified: false });
    expect((await invite(t.admin.id, victim.email)).ok).toBe(true);
    const listed = await app.db.transaction().execute(async (trx) => {
      await sql`select set_config('saas.tenant_id', ${t.tenantId}, true), set_config('saas.user_id', ${t.admin.id}, true)`.execute(trx);
      return listOutbox(trx, t.tenantId, { page: 1 });
    });
    const body = listed.rows.find((r) => r.to === victim.email)?.body ?? '';
    expect(body).toContain(MASKED_SECRET);
    // The stored mail (server side) holds a real link; the page's text does not.
    const shown = /\/invite\/([0-9a-f-]{36}\.[A-Za-z0-9_-]{43})/.exec(body);
    expect(shown).toBeNull();
    const pathShown = /\/invite\/(\S+)/.exec(body)?.[1] ?? '';
    expect((await accept(pathShown)).ok).toBe(false);
    expect((await checkCredentials(app.db, { email: victim.email, password: CHOSEN, address: null })).ok).toBe(false);
  });
});
