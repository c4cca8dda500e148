// The webhook signature (docs/alerts.md): HMAC-SHA256, keyed with the
// channel's secret, over "<timestamp>.<raw body>", sent as
// X-Aegis-Signature: sha256=<hex> with the timestamp (Unix seconds) in
// X-Aegis-Timestamp. Signing the timestamp with the body lets a receiver
// refuse a replayed request: an old timestamp cannot be swapped for a new one.
// Pure; not server-only (the worker signs too).
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Aegis-Signature';
export const TIMESTAMP_HEADER = 'X-Aegis-Timestamp';
export const DELIVERY_HEADER = 'X-Aegis-Delivery';
export const ATTEMPT_HEADER = 'X-Aegis-Attempt';

/** How old a timestamp a receiver should accept, in seconds (what docs/alerts.md recommends). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes, base64url, with a prefix that says what it is when it turns up somewhere. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** The X-Aegis-Signature value for a body sent at `timestampSeconds`. The key is the secret's text as UTF-8, prefix included. */
export function signBody(secret: string, timestampSeconds: number, rawBody: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`, 'utf8').digest('hex');
}
