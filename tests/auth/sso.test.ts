// Single sign-on: the decision rule (pure), then the database side — an
// identity is linked on first sign-in with a verified email, later matched by
// (issuer, subject) even when the email changes, never by email alone; the
// app role marks an email verified only with the identity that asserted it.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildAuthOptions } from '../../lib/auth/options';
import { describeSignInError } from '../../lib/auth/sign-in-errors';
import {
  decideSsoAccount,
  resolveSsoAccount,
  SSO_DISABLED,
  SSO_NO_SUBJECT,
  SSO_OTHER_IDENTITY,
  SSO_UNVERIFIED,
  ssoAccountId,
  type SsoCandidate,
} from '../../lib/auth/sso';
import { appKysely } from '../helpers/app-db';
import { appPool, errorOf, ownerPool, rollback } from '../helpers/db';
import { addMembership, createTeam, createUser } from './fixtures';

const acct = (over: Partial<SsoCandidate> = {}): SsoCandidate => ({ id: 'u1', disabled: false, linked: false, pending: false, ...over });
const verified = { sub: 'sub-1', email: 'Ann@Example.test', email_verified: true, name: ' Ann ' };

describe('decideSsoAccount', () => {
  it('refuses an email that is not verified: missing, false, or a string', () => {
    for (const email_verified of [undefined, false, 'true', 1, null]) {
      expect(decideSsoAccount({ ...verified, email_verified }, null, acct())).toEqual({ action: 'refuse', message: SSO_UNVERIFIED });
    }
    // Even when the subject is known: the rule asks for a verified email on every sign-in.
    expect(decideSsoAccount({ ...verified, email_verified: undefined }, acct(), null)).toEqual({ action: 'refuse', message: SSO_UNVERIFIED });
  });

  it('refuses without a subject or without an email', () => {
    expect(decideSsoAccount({ ...verified, sub: undefined }, null, null)).toEqual({ action: 'refuse', message: SSO_NO_SUBJECT });
    expect(decideSsoAccount({ ...verified, email: undefined }, null, null)).toEqual({ action: 'refuse', message: SSO_UNVERIFIED });
  });

  it('uses the account linked to the subject, whatever the email says', () => {
    expect(decideSsoAccount(verified, acct({ id: 'by-sub', linked: true }), acct({ id: 'by-email' }))).toEqual({ action: 'use', userId: 'by-sub' });
    expect(decideSsoAccount(verified, acct({ disabled: true, linked: true }), null)).toEqual({ action: 'refuse', message: SSO_DISABLED });
  });

  it('links the account of a verified email that has no identity yet, once', () => {
    expect(decideSsoAccount(verified, null, acct({ id: 'pw' }))).toEqual({ action: 'link', userId: 'pw', email: 'ann@example.test' });
    expect(decideSsoAccount(verified, null, acct({ id: 'pw', pending: true }))).toEqual({ action: 'link', userId: 'pw', email: 'ann@example.test' });
    // Already linked to another identity: the email alone does not open it.
    expect(decideSsoAccount(verified, null, acct({ linked: true }))).toEqual({ action: 'refuse', message: SSO_OTHER_IDENTITY });
    expect(decideSsoAccount(verified, null, acct({ disabled: true }))).toEqual({ action: 'refuse', message: SSO_DISABLED });
  });

  it('creates an account when nothing matches', () => {
    expect(decideSsoAccount(verified, null, null)).toEqual({ action: 'create', email: 'ann@example.test', name: 'Ann' });
  });
});

describe('the OIDC signIn callback', () => {
  const env = {
    NODE_ENV: 'test',
    NEXTAUTH_SECRET: 'x'.repeat(32),
    AUTH_OIDC_ISSUER: 'https://idp.example',
    AUTH_OIDC_CLIENT_ID: 'aegis',
    AUTH_OIDC_CLIENT_SECRET: 'secret',
  } as NodeJS.ProcessEnv;
  const signIn = (profile: Record<string, unknown>) =>
    buildAuthOptions(env).callbacks!.signIn!({
      user: { id: 'x' },
      account: { provider: 'oidc', type: 'oauth', providerAccountId: 'x' },
      profile,
    } as never);

  it('refuses a profile whose email_verified is missing or false, before any database work, with a code', async () => {
    // The thrown message becomes the sign-in page's ?error=: a code of sign-in-errors.ts, never text.
    await expect(signIn({ sub: 's', email: 'a@b.test' })).rejects.toThrow(/^sso-unverified$/);
    await expect(signIn({ sub: 's', email: 'a@b.test', email_verified: false })).rejects.toThrow(/^sso-unverified$/);
    await expect(signIn({ email: 'a@b.test', email_verified: true })).rejects.toThrow(/^sso-no-subject$/);
    expect(describeSignInError('sso-unverified')).toBe(SSO_UNVERIFIED);
  });

  it('lets credentials sign-ins through untouched', async () => {
    const o = buildAuthOptions(env);
    expect(await o.callbacks!.signIn!({ user: { id: 'x' }, account: { provider: 'credentials', type: 'credentials', providerAccountId: 'x' } } as never)).toBe(
      true,
    );
  });
});

describe('resolveSsoAccount on the database', () => {
  const app = appKysely();
  const owner = ownerPool();
  const ISSUER = 'https://idp.example';
  const userRow = async (id: string) =>
    (await owner.query('select email, password_hash, password_must_change, sso_issuer, sso_subject from saas.users where id = $1', [id])).rows[0];

  it('links an existing password account on the first verified sign-in, then matches by subject even after the email changes', async () => {
    const u = await createUser(owner);
    const sub = `sub-${randomUUID()}`;
    expect(await resolveSsoAccount(app.db, ISSUER, { sub, email: u.email.toUpperCase(), email_verified: true })).toEqual({ ok: true, userId: u.id });
    expect(await userRow(u.id)).toMatchObject({ sso_issuer: ISSUER, sso_subject: sub, password_hash: expect.stringMatching(/^\$argon2id\$/) });
    // The identity provider now says another email: the subject still finds the same account.
    expect(await resolveSsoAccount(app.db, ISSUER, { sub, email: `renamed-${randomUUID()}@auth.test`, email_verified: true })).toEqual({
      ok: true,
      userId: u.id,
    });
    expect(await ssoAccountId(app.db, ISSUER, sub)).toBe(u.id);
    // Same subject from another issuer is another identity.
    expect(await ssoAccountId(app.db, 'https://other-idp.example', sub)).toBeNull();
  });

  it('refuses a second identity claiming the email of a linked account', async () => {
    const u = await createUser(owner);
    await resolveSsoAccount(app.db, ISSUER, { sub: `first-${randomUUID()}`, email: u.email, email_verified: true });
    const other = `second-${randomUUID()}`;
    expect(await resolveSsoAccount(app.db, ISSUER, { sub: other, email: u.email, email_verified: true })).toEqual({ ok: false, message: SSO_OTHER_IDENTITY });
    expect(await ssoAccountId(app.db, ISSUER, other)).toBeNull();
  });

  it('an unverified email never links, even to an existing account', async () => {
    const u = await createUser(owner);
    const sub = `unverified-${randomUUID()}`;
    expect(await resolveSsoAccount(app.db, ISSUER, { sub, email: u.email })).toEqual({ ok: false, message: SSO_UNVERIFIED });
    expect(await userRow(u.id)).toMatchObject({ sso_issuer: null, sso_subject: null });
  });

  it('linking an account on a temporary password drops that password (the admin who saw it loses it)', async () => {
    const t = await createTeam(owner, 'SSO pending');
    const pending = await createUser(owner);
    await owner.query("update saas.users set password_must_change = true, password_expires_at = now() + interval '1 day' where id = $1", [pending.id]);
    await addMembership(owner, t.tenantId, pending.id, 'viewer');
    const sub = `pending-${randomUUID()}`;
    expect(await resolveSsoAccount(app.db, ISSUER, { sub, email: pending.email, email_verified: true })).toEqual({ ok: true, userId: pending.id });
    expect(await userRow(pending.id)).toMatchObject({ password_hash: null, password_must_change: false, sso_subject: sub });
  });

  it('creates an account (no password, no membership) for a new verified identity', async () => {
    const sub = `new-${randomUUID()}`;
    const email = `sso-${randomUUID().slice(0, 8)}@auth.test`;
    const r = await resolveSsoAccount(app.db, ISSUER, { sub, email, email_verified: true, name: 'Sam' });
    expect(r.ok).toBe(true);
    const id = r.ok ? r.userId : '';
    expect(await userRow(id)).toEqual({ email, password_hash: null, password_must_change: false, sso_issuer: ISSUER, sso_subject: sub });
    expect((await owner.query('select 1 from saas.memberships where user_id = $1', [id])).rowCount).toBe(0);
  });

  it('refuses a disabled account, linked or not', async () => {
    const u = await createUser(owner, { disabled: true });
    expect(await resolveSsoAccount(app.db, ISSUER, { sub: `d-${randomUUID()}`, email: u.email, email_verified: true })).toEqual({
      ok: false,
      message: SSO_DISABLED,
    });
  });
});

describe('an email is marked verified only with the identity that asserted it', () => {
  const owner = ownerPool();
  const app = appPool();
  const ISSUER = 'https://idp.example';
  const verifiedAt = async (id: string) =>
    (await owner.query<{ v: Date | null; sso_subject: string | null }>('select email_verified_at as v, sso_subject from saas.users where id = $1', [id])).rows[0]!;

  it('the app role inserts no account itself, verified or not, with or without an identity', async () => {
    await rollback(app, async (c) => {
      for (const text of [
        "insert into saas.users (id, email, email_verified_at) values (gen_random_uuid(), 'planted-a@auth.test', '2000-01-01')",
        "insert into saas.users (id, email, sso_issuer, sso_subject, email_verified_at) values (gen_random_uuid(), 'planted-b@auth.test', 'x', 'y', now())",
        "insert into saas.users (id, email) values (gen_random_uuid(), 'planted-c@auth.test')",
      ]) {
        expect(await errorOf(c, text), text).toMatch(/permission denied/);
      }
    });
  });

  it('saas.sso_create makes an account verified now, bound to its identity, and refuses one without an identity', async () => {
    const email = `created-${randomUUID().slice(0, 8)}@auth.test`;
    const sub = `created-${randomUUID()}`;
    await rollback(app, async (c) => {
      for (const [issuer, subject] of [
        [null, null],
        [ISSUER, null],
        [null, sub],
        ['', sub],
        [ISSUER, ''],
        [ISSUER, 's'.repeat(256)],
      ]) {
        expect(await errorOf(c, 'select saas.sso_create($1, $2, $3, $4)', [email, 'N', issuer, subject]), `${issuer} ${subject}`).toMatch(
          /sso_create: an identity is required/,
        );
      }
      for (const bad of [null, '', 'no-at-sign', `a\u0001@auth.test`]) {
        expect(await errorOf(c, 'select saas.sso_create($1, null, $2, $3)', [bad, ISSUER, sub]), String(bad)).toMatch(/sso_create: the email/);
      }
    });
    const before = Date.now();
    const id = (await app.query<{ id: string | null }>('select saas.sso_create($1, $2, $3, $4) as id', [` ${email.toUpperCase()}`, ' Sam ', ISSUER, sub])).rows[0]!.id;
    expect(id).toEqual(expect.any(String));
    const row = (await owner.query('select email, name, password_hash, sso_issuer, sso_subject, email_verified_at from saas.users where id = $1', [id])).rows[0];
    expect(row).toMatchObject({ email, name: 'Sam', password_hash: null, sso_issuer: ISSUER, sso_subject: sub });
    expect(Math.abs((row.email_verified_at as Date).getTime() - before)).toBeLessThan(60_000);
    // The email or the identity taken: nothing created, NULL.
    expect((await app.query('select saas.sso_create($1, null, $2, $3) as id', [email, ISSUER, `other-${sub}`])).rows).toEqual([{ id: null }]);
    expect((await app.query('select saas.sso_create($1, null, $2, $3) as id', [`other-${email}`, ISSUER, sub])).rows).toEqual([{ id: null }]);
  });

  it('saas.sso_link verifies nothing without an identity: an unverified account stays unverified and keeps its password', async () => {
    const u = await createUser(owner, { verified: false });
    const hash = (await owner.query<{ h: string }>('select password_hash as h from saas.users where id = $1', [u.id])).rows[0]!.h;
    await rollback(app, async (c) => {
      for (const [issuer, subject] of [
        [null, null],
        [ISSUER, null],
        [null, 'sub'],
      ]) {
        expect(await errorOf(c, 'select saas.sso_link($1, $2, $3, $4)', [u.id, u.email, issuer, subject]), `${issuer} ${subject}`).toMatch(
          /sso_link: an identity is required/,
        );
      }
    });
    expect(await verifiedAt(u.id)).toEqual({ v: null, sso_subject: null });
    expect((await owner.query('select password_hash as h from saas.users where id = $1', [u.id])).rows).toEqual([{ h: hash }]);
    // With an identity, for the account of that email: linked and verified together.
    const sub = `link-${randomUUID()}`;
    expect((await app.query('select saas.sso_link($1, $2, $3, $4) as ok', [u.id, u.email, ISSUER, sub])).rows).toEqual([{ ok: true }]);
    expect(await verifiedAt(u.id)).toEqual({ v: expect.any(Date), sso_subject: sub });
  });
});
