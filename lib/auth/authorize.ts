// next-auth's authorize() for email and password, and the single-sign-on
// refusals: what they throw becomes the sign-in page's ?error=, so they throw
// only CODES of lib/auth/sign-in-errors.ts. An unexpected error (a database
// that is down, a bug) is logged here and reported as the generic 'failed'.
import 'server-only';
import type { Db } from '@/lib/db';
import { clientAddress, type HeaderBag } from './client-address';
import { checkCredentials, type SignInResult } from './credentials';
import { deviceTokenFromCookieHeader, offerDeviceToken } from './known-device';
import { signInCodeOf, throttledCode, type SignInErrorCode } from './sign-in-errors';

/** A refusal whose message is a sign-in error code. */
export class SignInRefused extends Error {
  constructor(code: string) {
    super(code);
    this.name = 'SignInRefused';
  }
}

export function refusalCode(result: Exclude<SignInResult, { ok: true }>): string {
  return result.reason === 'throttled' ? throttledCode(result.retryAfterSeconds) : result.reason;
}

/** Logs an unexpected error with a short tag and returns the refusal to throw instead. */
export function unexpected(tag: string, err: unknown): SignInRefused {
  console.error(`[auth] ${tag}:`, err);
  return new SignInRefused('failed' satisfies SignInErrorCode);
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

export interface Authorized {
  id: string;
  email: string;
  name: string | null;
}

/**
 * The body of authorize(): credentials as posted, the request headers next-auth
 * hands over (X-Forwarded-For for the address, Cookie for the device token).
 */
export async function authorizeCredentials(
  db: () => Db,
  credentials: Record<string, unknown> | undefined,
  headers: HeaderBag,
  proxyHops: number,
): Promise<Authorized> {
  let result: SignInResult;
  try {
    result = await checkCredentials(db(), {
      email: text(credentials?.email),
      password: text(credentials?.password),
      address: clientAddress(headers, proxyHops),
      deviceToken: deviceTokenFromCookieHeader(headers?.cookie),
    });
  } catch (err) {
    throw unexpected('credentials check failed', err);
  }
  if (!result.ok) throw new SignInRefused(refusalCode(result));
  offerDeviceToken(result.deviceToken);
  return result.user;
}

/** A single-sign-on refusal (its message one of sso.ts's) as the code to throw. */
export function ssoRefusal(message: string): SignInRefused {
  return new SignInRefused(signInCodeOf(message));
}
