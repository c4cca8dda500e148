// Single-use links (invitations, password resets): "<id>.<secret>". The id
// finds the row; only the SHA-256 of the 256-bit secret is stored, so a copy
// of the database opens nothing. Pure; shared by every link.
import { createHash, randomBytes } from 'node:crypto';
import { isUuid } from '@/lib/db/pool';

export interface LinkToken {
  id: string;
  /** SHA-256 of the secret: what the database keeps and compares. */
  hash: Buffer;
}

const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** A fresh secret and its hash; the link is `${id}.${secret}` once the row's id is known. */
export function newSecret(): { secret: string; hash: Buffer } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

/** The id and secret hash of a link's token, or null for anything malformed. */
export function parseLinkToken(token: unknown): LinkToken | null {
  if (typeof token !== 'string' || token.length > 100) return null;
  const [id, secret, extra] = token.split('.');
  if (extra !== undefined || !isUuid(id) || !secret || !SECRET_RE.test(secret)) return null;
  return { id: id.toLowerCase(), hash: hashSecret(secret) };
}

/** The public base URL for links in mail: NEXTAUTH_URL, else the local server. */
export function publicBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.NEXTAUTH_URL?.trim() || `http://localhost:${env.PORT ?? '3000'}`;
  return base.replace(/\/+$/, '');
}
