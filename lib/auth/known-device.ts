// Known devices: after a successful password sign-in the browser gets an
// httpOnly cookie `aegis-device` holding a random token (32 bytes, base64url);
// the database keeps only its SHA-256, per account (saas.known_devices). A
// later attempt presenting a token known for that account is counted under
// its own key, so strangers guessing an account's password do not lock its
// owner's browser out (the device's own failures are limited all the same).
//
// The token reaches the credential check in the Cookie header next-auth hands
// to authorize(). Setting the cookie: authorize runs inside next-auth's route
// handler, which builds its own Response, so authorize offers the token
// (offerDeviceToken) and the route handler adds the Set-Cookie when next-auth's
// response signs the browser in (withDeviceCookie).
import 'server-only';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';

export const DEVICE_COOKIE = 'aegis-device';
/** How long a browser stays known without signing in again (the database forgets it after as long). */
export const DEVICE_COOKIE_MAX_AGE = 180 * 24 * 60 * 60;

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

export function deviceTokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The well-formed aegis-device token of a Cookie header, or null. Pure. */
export function deviceTokenFromCookieHeader(header: unknown): string | null {
  const text = Array.isArray(header) ? header.join('; ') : typeof header === 'string' ? header : '';
  if (!text || text.length > 16_384) return null;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== DEVICE_COOKIE) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (TOKEN_RE.test(value)) return value;
  }
  return null;
}

/** The Set-Cookie value for a device token: httpOnly, SameSite=Lax, Secure over HTTPS. */
export function deviceCookieHeader(token: string, secure: boolean): string {
  if (!TOKEN_RE.test(token)) throw new Error('deviceCookieHeader: not a device token');
  return `${DEVICE_COOKIE}=${token}; Path=/; Max-Age=${DEVICE_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

const SESSION_COOKIE_RE = /^(?:__Secure-)?next-auth\.session-token(?:\.\d+)?=[^;]/;

/** Whether the response gives the browser a session (next-auth's session-token cookie, possibly chunked). */
export function setsSessionCookie(res: Response): boolean {
  return res.headers.getSetCookie().some((c) => SESSION_COOKIE_RE.test(c));
}

const pending = new AsyncLocalStorage<{ token: string | null }>();

/** From authorize, after a successful sign-in: the token the browser should keep. */
export function offerDeviceToken(token: string): void {
  const store = pending.getStore();
  if (store) store.token = token;
}

/**
 * Runs a next-auth request; when authorize offered a device token and the
 * response signs the browser in, adds the aegis-device cookie to it.
 */
export async function withDeviceCookie(run: () => Promise<Response>, secure: boolean): Promise<Response> {
  const store = { token: null as string | null };
  const res = await pending.run(store, run);
  if (!store.token || !setsSessionCookie(res)) return res;
  const headers = new Headers(res.headers);
  headers.append('Set-Cookie', deviceCookieHeader(store.token, secure));
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
