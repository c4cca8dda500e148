// The aegis-device cookie: read from the Cookie header next-auth hands to
// authorize (only a well-formed token), written httpOnly, SameSite=Lax and,
// over HTTPS, Secure, and only on a response that signs the browser in.
import { describe, expect, it } from 'vitest';
import {
  deviceCookieHeader,
  deviceTokenFromCookieHeader,
  deviceTokenHash,
  newDeviceToken,
  offerDeviceToken,
  setsSessionCookie,
  withDeviceCookie,
} from '../../lib/auth/known-device';

const token = newDeviceToken();

describe('deviceTokenFromCookieHeader', () => {
  it('finds the token among other cookies, quoted or not', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deviceTokenFromCookieHeader(`next-auth.csrf-token=x; aegis-device=${token}; aegis-tenant=y`)).toBe(token);
    expect(deviceTokenFromCookieHeader(`aegis-device="${token}"`)).toBe(token);
    expect(deviceTokenFromCookieHeader([`a=b`, `aegis-device=${token}`])).toBe(token);
    // A malformed first one does not hide a good second one.
    expect(deviceTokenFromCookieHeader(`aegis-device=short; aegis-device=${token}`)).toBe(token);
  });

  it('ignores anything else', () => {
    for (const header of [undefined, null, 42, '', 'aegis-device=', 'aegis-device=short', `aegis-device=${token}x`, `aegis-device=${token.slice(1)}!`, `xaegis-device=${token}`, `aegis-devices=${token}`]) {
      expect(deviceTokenFromCookieHeader(header)).toBeNull();
    }
  });

  it('hashes tokens with SHA-256', () => {
    expect(deviceTokenHash(token)).toHaveLength(32);
    expect(deviceTokenHash(token).equals(deviceTokenHash(token))).toBe(true);
    expect(newDeviceToken()).not.toBe(token);
  });
});

describe('the Set-Cookie', () => {
  it('is httpOnly and SameSite=Lax, Secure over HTTPS', () => {
    expect(deviceCookieHeader(token, false)).toBe(`aegis-device=${token}; Path=/; Max-Age=15552000; HttpOnly; SameSite=Lax`);
    expect(deviceCookieHeader(token, true)).toMatch(/; HttpOnly; SameSite=Lax; Secure$/);
    expect(() => deviceCookieHeader('a;b', false)).toThrow();
  });

  it('is added only when authorize offered a token and the response carries a session cookie', async () => {
    const signedIn = () => new Response(null, { status: 302, headers: [['set-cookie', '__Secure-next-auth.session-token.0=abc; Path=/']] });
    const withToken = await withDeviceCookie(async () => (offerDeviceToken(token), signedIn()), true);
    expect(withToken.headers.getSetCookie()).toEqual(['__Secure-next-auth.session-token.0=abc; Path=/', deviceCookieHeader(token, true)]);
    expect(withToken.status).toBe(302);
    // No token offered (a failed or an SSO sign-in): nothing added.
    expect((await withDeviceCookie(async () => signedIn(), true)).headers.getSetCookie()).toHaveLength(1);
    // A token offered but no session issued (a refusal, or sign-out clearing the cookie): nothing added.
    const cleared = new Response(null, { headers: [['set-cookie', 'next-auth.session-token=; Max-Age=0']] });
    expect(setsSessionCookie(cleared)).toBe(false);
    expect((await withDeviceCookie(async () => (offerDeviceToken(token), cleared), false)).headers.getSetCookie()).toHaveLength(1);
    // Outside withDeviceCookie, offering is harmless.
    expect(() => offerDeviceToken(token)).not.toThrow();
  });
});
