// What the sign-in page may say: only codes of a fixed list become messages
// (anything else, e.g. a sentence put in a link's ?error=, shows the generic
// one); authorize and the single-sign-on callback throw only those codes, and
// an unexpected error is logged and reported as the generic code.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { authorizeCredentials, refusalCode } from '../../lib/auth/authorize';
import { BAD_EMAIL, INVALID_CREDENTIALS, TEMPORARY_PASSWORD_EXPIRED } from '../../lib/auth/credentials';
import { describeSignInError, GENERIC_SIGN_IN_ERROR, SIGN_IN_MESSAGES, signInCodeOf, throttledCode } from '../../lib/auth/sign-in-errors';
import { SSO_DISABLED, SSO_NO_SUBJECT, SSO_OTHER_IDENTITY, SSO_RACE, SSO_UNVERIFIED } from '../../lib/auth/sso';
import { createDb } from '../../lib/db/pool';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { createUser, PASSWORD } from './fixtures';

afterEach(() => vi.restoreAllMocks());

describe('describeSignInError', () => {
  it('shows arbitrary text, and unknown codes, as the generic message', () => {
    for (const text of [
      'Your account is suspended. Call +1 555 0100 now.',
      'invalid byte sequence for encoding "UTF8": 0x00',
      'Invalid',
      'throttled:',
      'throttled:abc',
      'throttled:999999',
      'constructor',
      '__proto__',
      'toString',
      'sso-unverified ',
    ]) {
      expect(describeSignInError(text)).toBe(GENERIC_SIGN_IN_ERROR);
    }
    expect(GENERIC_SIGN_IN_ERROR).toBe('Sign-in failed. Try again.');
    expect(describeSignInError(null)).toBeNull();
    expect(describeSignInError('')).toBeNull();
  });

  it('maps each code to its message, and next-auth’s own codes too', () => {
    for (const [code, message] of Object.entries(SIGN_IN_MESSAGES)) expect(describeSignInError(code)).toBe(message);
    expect(describeSignInError('invalid')).toBe(INVALID_CREDENTIALS);
    expect(describeSignInError('expired')).toBe(TEMPORARY_PASSWORD_EXPIRED);
    expect(describeSignInError('bad-email')).toBe(BAD_EMAIL);
    expect(describeSignInError('CredentialsSignin')).toBe(INVALID_CREDENTIALS);
    expect(describeSignInError('AccessDenied')).toBe('This account cannot sign in here.');
    expect(describeSignInError('throttled')).toBe('Too many attempts, try again later.');
    expect(describeSignInError('throttled:900')).toBe('Too many attempts, try again in 15 minutes.');
    expect(describeSignInError('throttled:4')).toBe('Too many attempts, try again in 4 seconds.');
    expect(throttledCode(899.2)).toBe('throttled:900');
    expect(throttledCode(10 ** 9)).toBe('throttled:86400');
  });

  it('has a code for every single-sign-on refusal of sso.ts', () => {
    for (const message of [SSO_NO_SUBJECT, SSO_UNVERIFIED, SSO_DISABLED, SSO_OTHER_IDENTITY, SSO_RACE]) {
      const code = signInCodeOf(message);
      expect(code).not.toBe('failed');
      expect(describeSignInError(code)).toBe(message);
    }
    expect(signInCodeOf('anything else')).toBe('failed');
  });
});

describe('authorizeCredentials (next-auth’s authorize)', () => {
  const app = appKysely();
  const owner = ownerPool();
  const authorize = (credentials: Record<string, unknown>, headers: Record<string, string> = {}, db = () => app.db) =>
    authorizeCredentials(db, credentials, headers, 0);

  it('returns the user on success, and throws only codes otherwise', async () => {
    const u = await createUser(owner);
    expect(await authorize({ email: u.email, password: PASSWORD })).toEqual({ id: u.id, email: u.email, name: expect.any(String) });
    await expect(authorize({ email: u.email, password: 'wrong' })).rejects.toThrow(/^invalid$/);
    await expect(authorize({ email: 'ann\u0000@auth.test', password: PASSWORD })).rejects.toThrow(/^bad-email$/);
    // Not strings (a JSON body): refused like empty fields.
    await expect(authorize({ email: { $ne: '' }, password: ['x'] })).rejects.toThrow(/^invalid$/);
    await owner.query("update saas.users set password_must_change = true, password_expires_at = now() - interval '1 minute' where id = $1", [u.id]);
    await expect(authorize({ email: u.email, password: PASSWORD })).rejects.toThrow(/^expired$/);
    const locked = await createUser(owner);
    for (let i = 0; i < 5; i++) await expect(authorize({ email: locked.email, password: `guess ${i}` })).rejects.toThrow(/^invalid$/);
    await expect(authorize({ email: locked.email, password: PASSWORD })).rejects.toThrow(/^throttled:900$/);
  });

  it('logs an unexpected error (the database is down) and reports the generic code', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const dead = createDb('postgres://nobody@127.0.0.1:1/none', { max: 1, onError: () => undefined });
    try {
      await expect(authorize({ email: 'ann@auth.test', password: PASSWORD }, {}, () => dead.db)).rejects.toThrow(/^failed$/);
    } finally {
      await dead.db.destroy();
    }
    expect(logged).toHaveBeenCalledWith('[auth] credentials check failed:', expect.any(Error));
    expect(describeSignInError('failed')).toBe(GENERIC_SIGN_IN_ERROR);
  });

  it('codes a throttled result with its wait', () => {
    expect(refusalCode({ ok: false, reason: 'throttled', message: '', retryAfterSeconds: 61 })).toBe('throttled:61');
    expect(refusalCode({ ok: false, reason: 'bad-email', message: '' })).toBe('bad-email');
  });
});
