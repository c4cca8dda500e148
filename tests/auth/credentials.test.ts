// The credential check: right and wrong passwords, unknown and disabled
// accounts, and the database-backed rate limit with its message.
import { describe, expect, it } from 'vitest';
import { checkCredentials, INVALID_CREDENTIALS, TEMPORARY_PASSWORD_EXPIRED } from '../../lib/auth/credentials';
import { MAX_FAILURES_PER_ACCOUNT, tooManyAttemptsMessage } from '../../lib/auth/rate-limit';
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
    expect(r).toEqual({ ok: true, user: { id: u.id, email: u.email, name: expect.any(String) } });
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

  it(`blocks an account after ${MAX_FAILURES_PER_ACCOUNT} failures, even with the right password; a success before that resets it`, async () => {
    const u = await createUser(owner);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT - 1; i++) {
      expect((await checkCredentials(app.db, { email: u.email, password: `nope ${i}`, address: '10.1.0.3' })).ok).toBe(false);
    }
    expect((await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: '10.1.0.3' })).ok).toBe(true);
    expect(await failures(u.email)).toBe(0);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) {
      await checkCredentials(app.db, { email: u.email, password: `nope ${i}`, address: '10.1.0.3' });
    }
    const blocked = await checkCredentials(app.db, { email: u.email, password: PASSWORD, address: '10.1.0.4' });
    expect(blocked).toEqual({ ok: false, reason: 'throttled', message: 'Too many attempts, try again in 15 minutes.' });
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

  it('words the wait in whole minutes, rounded up', () => {
    expect(tooManyAttemptsMessage(900)).toBe('Too many attempts, try again in 15 minutes.');
    expect(tooManyAttemptsMessage(61)).toBe('Too many attempts, try again in 2 minutes.');
    expect(tooManyAttemptsMessage(1)).toBe('Too many attempts, try again in 1 minute.');
  });
});
