// The password hash itself: argon2id, 19 MiB of memory, 2 passes, 1 lane (the
// OWASP minimum), as a PHC string. Not server-only, so that the demo seed and
// the test fixtures (plain Node processes) hash exactly as the app does.
//
// A stored hash never leaves the database: to check a password, the web tier
// gets the head of the stored hash (the PHC string up to its salt, from
// saas.auth_params or saas.own_password_params), hashes the password with the
// same salt and parameters (hashWithParams), and the database compares the
// result with what it keeps (saas.auth_check).
import { hash, type Algorithm, type Version } from '@node-rs/argon2';

export const PASSWORD_PARAMS = {
  // Algorithm is a const enum that isolatedModules cannot inline; 2 is Argon2id
  // (the tests check the stored hash says $argon2id$).
  algorithm: 2 as Algorithm,
  memoryCost: 19456, // KiB = 19 MiB
  timeCost: 2,
  parallelism: 1,
} as const;

/** Bytes of digest in every hash the app makes (the library's default): a hash from a head must come out as long. */
export const DIGEST_BYTES = 32;

export function hashPassword(password: string): Promise<string> {
  return hash(password, { ...PASSWORD_PARAMS, outputLen: DIGEST_BYTES });
}

/** What a head `$argon2id$v=19$m=…,t=…,p=…$<salt>` says, bounded so that no head can make hashing run away. */
export interface HashParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  salt: Buffer;
}

// The same shape saas.password_params_of accepts (db/functions/accounts.sql).
const HEAD_RE = /^\$argon2id\$v=19\$m=([1-9][0-9]{0,9}),t=([1-9][0-9]{0,9}),p=([1-9][0-9]{0,2})\$([A-Za-z0-9+/]{11,64})$/;
const LIMITS = { memoryCost: 1 << 20 /* KiB = 1 GiB */, timeCost: 64, parallelism: 16 };

/** The parameters and salt of a head, or null when it is malformed, out of bounds, or its salt not canonical base64. */
export function parseHashParams(head: string): HashParams | null {
  const m = HEAD_RE.exec(head);
  if (!m) return null;
  const [memoryCost, timeCost, parallelism] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (memoryCost > LIMITS.memoryCost || timeCost > LIMITS.timeCost || parallelism > LIMITS.parallelism) return null;
  // argon2 needs at least 8 KiB per lane.
  if (memoryCost < 8 * parallelism) return null;
  const salt = Buffer.from(m[4]!, 'base64');
  // Node's decoder forgives stray bits: the salt must encode back to itself.
  if (salt.length < 8 || salt.toString('base64').replace(/=+$/, '') !== m[4]) return null;
  return { memoryCost, timeCost, parallelism, salt };
}

/**
 * The hash of `password` with the salt and parameters of `head`: equal to the
 * stored hash the head came from exactly when the password is its password.
 * Throws on a malformed head (the database gives none).
 */
export async function hashWithParams(head: string, password: string): Promise<string> {
  const p = parseHashParams(head);
  if (!p) throw new Error('hashWithParams: not the head of an argon2id hash');
  const out = await hash(password, {
    algorithm: PASSWORD_PARAMS.algorithm,
    // A const enum too: 1 is version 0x13 (19), the v=19 of the head.
    version: 1 as Version,
    memoryCost: p.memoryCost,
    timeCost: p.timeCost,
    parallelism: p.parallelism,
    outputLen: DIGEST_BYTES,
    salt: p.salt,
  });
  if (!out.startsWith(`${head}$`)) throw new Error('hashWithParams: the hash does not start with its head');
  return out;
}
