// The credential check: right and wrong passwords, unknown and disabled
// accounts, input refused before any query, the database-backed rate limit
// with its message (attempts counted before the password is verified, so
// parallel guesses cannot outrun it), and known devices (the aegis-device
// cookie) that strangers' failures do not lock out. The stored hash never
// reaches the app: every attempt, whatever the email, asks for the head of a
// hash, hashes the password with it and asks the database to compare.
import { Kysely, PostgresDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { BAD_EMAIL, checkCredentials, INVALID_CREDENTIALS, TEMPORARY_PASSWORD_EXPIRED } from '../../lib/auth/credentials';
import { newDeviceToken } from '../../lib/auth/known-device';
import { MAX_FAILURES_PER_ACCOUNT, tooManyAttemptsMessage } from '../../lib/auth/rate-limit';
import { createDb, type Database } from '../../lib/db/pool';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { createUser, PASSWORD } from './fixtures';

const app = appKysely();
const owner = ownerPool();

const failures = async (key: string) =>
  (await owner.query<{ n: number }>("select count(*)::int as n from saas.login_attempts where scope = 'account' and key = $1", [key])).rows[0]!.n;

describe('checkCredentials', () => {
  it('accepts the right password (email in any case) and returns no hash', async () => {
    const u = await createUser(owner);
    const r = await checkCredentials(app.db, { email: u.email.toUpperCase(), password: PASSWORD, address: '10.1.0.1' });
    expect(r).toEqual({ ok: true, user: { id: u.id, email: u.email, name: expect.any(String) }, deviceToken: expect.stringMatching(/^[\w-]{43}$/) });
    expect(JSON.stringify(r)).not.toContain('argon2');
  });

  it('refuses a wrong password, an unknown email and a disabled account with the same message, counting each', async () => {
    const u = await createUser(owner);
    const off = await createUser(owner, { disabled: true });
    for (const [email, password] of [
      [u.email, 'wrong password'],
      ['nobody-here@auth.test', PASSWORD],
      [off.email, PASSWORD],
    ] as const) {
      expect(await checkCredentials(app.db, { email, password, address: '10.1.0.2' })).toEqual({
        ok: false,
        reason: 'invalid',
        message: INVALID_CREDENTIALS,
      });
      expect(await failures(email)).toBe(1);
    }
  });

  it('refuses a single-sign-on account by password, whatever the password, with the same message', async () => {
    const u = await createUser(owner);
    await owner.query("update saas.users set password_hash = null, sso_issuer = 'https://idp.example', sso_subject = $2 where id = $1", [u.id, `sub-${u.id}`]);
    for (const password of [PASSWORD, 'anything at all']) {
      const r = await checkCredentials(app.db, { email: u.email, password, address: '10.1.0.6' });
      expect(r).toEqual({ ok: false, reason: 'invalid', message: INVALID_CREDENTIALS });
    }
  });

  it(`blocks an account after ${MAX_FAILURES_PER_ACCOUNT} failures, even with the right password; a success before that resets it`, async () => {
    const u = await createUser(owner);
    // (Each from its own address: the per-address delay is not what this is about.)
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT - 1; i++) {
      expect((await checkCredentials(app.db, { email: u.email, password: `nope ${i}`, address: `10.1.3.${i}` })).ok).toBe(false);
    }
    expect((await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: '10.1.0.3' })).ok).toBe(true);
    expect(await failures(u.email)).toBe(0);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) {
      expect(await checkCredentials(app.db, { email: u.email, password: `nope ${i}`, address: `10.1.4.${i}` })).toMatchObject({ reason: 'invalid' });
    }
    const blocked = await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: '10.1.0.4' });
    expect(blocked).toEqual({ ok: false, reason: 'throttled', message: 'Too many attempts, try again in 15 minutes.', retryAfterSeconds: 900 });
    // A blocked attempt is not itself counted.
    expect(await failures(u.email)).toBe(MAX_FAILURES_PER_ACCOUNT);
  });

  it('a temporary password signs in until it expires; after that it is refused with its own message', async () => {
    const u = await createUser(owner);
    await owner.query("update saas.users set password_must_change = true, password_expires_at = now() + interval '1 hour' where id = $1", [u.id]);
    expect((await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: '10.1.0.5' })).ok).toBe(true);
    await owner.query("update saas.users set password_expires_at = now() - interval '1 second' where id = $1", [u.id]);
    expect(await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: '10.1.0.5' })).toEqual({
      ok: false,
      reason: 'expired',
      message: TEMPORARY_PASSWORD_EXPIRED,
    });
    // A wrong password on an expired account says nothing about the expiry.
    expect(await checkCredentials(app.db, { email: u.email, password: 'wrong password', address: '10.1.0.5' })).toEqual({
      ok: false,
      reason: 'invalid',
      message: INVALID_CREDENTIALS,
    });
  });

  it('words the wait in whole minutes, rounded up, or in seconds under a minute', () => {
    expect(tooManyAttemptsMessage(900)).toBe('Too many attempts, try again in 15 minutes.');
    expect(tooManyAttemptsMessage(61)).toBe('Too many attempts, try again in 2 minutes.');
    expect(tooManyAttemptsMessage(60)).toBe('Too many attempts, try again in 1 minute.');
    expect(tooManyAttemptsMessage(8)).toBe('Too many attempts, try again in 8 seconds.');
    expect(tooManyAttemptsMessage(1)).toBe('Too many attempts, try again in 1 second.');
  });

  it('slows an address down after five failures, whatever the accounts', async () => {
    const address = `10.1.9.${Math.floor(Math.random() * 250)}`;
    await owner.query("delete from saas.login_attempts where scope = 'address' and key = $1", [address]);
    for (let i = 0; i < 5; i++) {
      expect(await checkCredentials(app.db, { email: `stranger-${i}@auth.test`, password: 'guess', address })).toMatchObject({ reason: 'invalid' });
    }
    // The sixth must wait 2^0 = 1 second after the fifth; another address need not.
    const u = await createUser(owner);
    expect(await checkCredentials(app.db, { email: u.email, password: PASSWORD, address })).toMatchObject({ reason: 'throttled', retryAfterSeconds: 1 });
    expect((await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: '10.1.9.251' })).ok).toBe(true);
  });

  it('refuses an email with control characters, and over-long input, before any query', async () => {
    // A pool that cannot connect: touching the database would throw.
    const dead = createDb('postgres://nobody@127.0.0.1:1/none', { max: 1, onError: () => undefined });
    try {
      for (const email of ['ann\u0000@auth.test', 'ann@auth.test\u0000', 'a\nb@auth.test', 'ann\u001f@auth.test', 'ann\u007f@auth.test']) {
        expect(await checkCredentials(dead.db, { email, password: PASSWORD, address: null })).toEqual({ ok: false, reason: 'bad-email', message: BAD_EMAIL });
      }
      for (const [email, password] of [
        [`${'a'.repeat(315)}@x.test`, PASSWORD],
        ['ann@auth.test', 'p'.repeat(1025)],
        ['', PASSWORD],
        ['ann@auth.test', ''],
      ] as const) {
        expect(await checkCredentials(dead.db, { email, password, address: null })).toEqual({ ok: false, reason: 'invalid', message: INVALID_CREDENTIALS });
      }
    } finally {
      await dead.db.destroy();
    }
    // Surrounding whitespace (a pasted line break) is trimmed as before.
    const u = await createUser(owner);
    expect((await checkCredentials(app.db, { email: ` ${u.email}\n`, password: PASSWORD, address: null })).ok).toBe(true);
  });
});

describe('checkCredentials does the same work for every email, and never holds a stored hash', () => {
  // The app's own pool, with every query it sends recorded.
  const sent: { sql: string; parameters: readonly unknown[] }[] = [];
  const logged = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: app.pool }),
    log: (e) => {
      if (e.level === 'query') sent.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  const attempt = async (email: string, password: string) => {
    sent.length = 0;
    const result = await checkCredentials(logged, { email, password, address: null });
    return { result, calls: sent.map((q) => /saas\.(\w+)\(/.exec(q.sql)?.[1]), queries: [...sent] };
  };

  it('an unknown email, a single-sign-on account, a disabled one and a wrong password: one head, one hash with it, one comparison', async () => {
    const [u, off, sso] = await Promise.all([createUser(owner), createUser(owner, { disabled: true }), createUser(owner)]);
    await owner.query('update saas.users set password_hash = null where id = $1', [sso.id]);
    const stored = (await owner.query<{ h: string }>('select password_hash as h from saas.users where id = $1', [u.id])).rows[0]!.h;
    const cases = {
      unknown: await attempt(`nobody-${Date.now()}@auth.test`, PASSWORD),
      sso: await attempt(sso.email, PASSWORD),
      disabled: await attempt(off.email, PASSWORD),
      wrong: await attempt(u.email, 'not the password'),
      right: await attempt(u.email, PASSWORD),
    };
    for (const [name, c] of Object.entries(cases)) {
      expect(c.result.ok, name).toBe(name === 'right');
      expect(c.calls.slice(0, 3), name).toEqual(['login_attempt_begin', 'auth_params', 'auth_check']);
      // The candidate sent is a full hash made with the head the database gave: the same parameters for every email.
      const [head] = (await app.pool.query<{ h: string }>('select saas.auth_params($1) as h', [c.queries[1]!.parameters[0]])).rows.map((r) => r.h);
      const candidate = String(c.queries[2]!.parameters[1]);
      expect(candidate.startsWith(`${head}$`), name).toBe(true);
      expect(candidate, name).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
      // Nothing the database answered holds the stored hash's digest.
      expect(JSON.stringify(c.result), name).not.toContain(stored.slice(stored.lastIndexOf('$') + 1));
    }
    // Only the right password's candidate is the stored hash: it is the web tier's own computation, not a read.
    expect(String(cases.right.queries[2]!.parameters[1])).toBe(stored);
    expect(String(cases.wrong.queries[2]!.parameters[1])).not.toBe(stored);
  });
});

describe('checkCredentials in parallel', () => {
  // Through a pool the size of the app's (10): every attempt is counted before
  // its password is verified, in one statement that takes the account's lock.
  const wide = appKysely(10);

  it(`lets at most ${MAX_FAILURES_PER_ACCOUNT} of 50 simultaneous wrong attempts on one account be verified; the rest are throttled`, async () => {
    const u = await createUser(owner);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => checkCredentials(wide.db, { email: u.email, password: `parallel guess ${i}`, address: null })),
    );
    const reasons = results.map((r) => (r.ok ? 'ok' : r.reason));
    expect(reasons.filter((r) => r === 'invalid').length).toBeLessThanOrEqual(MAX_FAILURES_PER_ACCOUNT);
    expect(reasons.filter((r) => r !== 'invalid' && r !== 'throttled')).toEqual([]);
    expect(await failures(u.email)).toBeLessThanOrEqual(MAX_FAILURES_PER_ACCOUNT);
  });
});

describe('known devices', () => {
  const signIn = (email: string, password: string, deviceToken: string | null, address: string | null = null) =>
    checkCredentials(app.db, { email, password, address, deviceToken });
  const lockOut = async (email: string) => {
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) await signIn(email, `stranger guess ${i}`, null, `10.1.5.${i}`);
  };

  it('a browser that signed in keeps its token and is not locked out by strangers’ failures; its own are limited', async () => {
    const u = await createUser(owner);
    const first = await signIn(u.email, PASSWORD, null);
    if (!first.ok) throw new Error('sign-in failed');
    // Signing in again from that browser keeps its token.
    const again = await signIn(u.email, PASSWORD, first.deviceToken);
    expect(again).toMatchObject({ ok: true, deviceToken: first.deviceToken });
    await lockOut(u.email);
    expect(await signIn(u.email, PASSWORD, null)).toMatchObject({ reason: 'throttled' });
    // A token the account does not know is no help, and is replaced on success.
    const stranger = newDeviceToken();
    expect(await signIn(u.email, PASSWORD, stranger)).toMatchObject({ reason: 'throttled' });
    // The owner's browser still signs in.
    expect(await signIn(u.email, PASSWORD, first.deviceToken)).toMatchObject({ ok: true, deviceToken: first.deviceToken });
    // Which forgave the account: a new browser signs in too, and gets a new token.
    const other = await signIn(u.email, PASSWORD, stranger);
    expect(other).toMatchObject({ ok: true });
    expect(other.ok && other.deviceToken).not.toBe(stranger);
    // The known browser's own failures are limited to five as well.
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) expect(await signIn(u.email, `typo ${i}`, first.deviceToken)).toMatchObject({ reason: 'invalid' });
    expect(await signIn(u.email, PASSWORD, first.deviceToken)).toMatchObject({ reason: 'throttled' });
    // The database holds the hashes only.
    const rows = await owner.query<{ token_hash: Buffer }>('select token_hash from saas.known_devices where user_id = $1', [u.id]);
    expect(rows.rows.length).toBe(2);
    expect(rows.rows.map((r) => r.token_hash.length)).toEqual([32, 32]);
    expect(JSON.stringify(rows.rows)).not.toContain(first.deviceToken);
  });

  it('a token known for one account does not help against another', async () => {
    const a = await createUser(owner);
    const b = await createUser(owner);
    const first = await signIn(a.email, PASSWORD, null);
    if (!first.ok) throw new Error('sign-in failed');
    await lockOut(b.email);
    expect(await signIn(b.email, PASSWORD, first.deviceToken)).toMatchObject({ reason: 'throttled' });
  });
});
