// Passwords for the app: hashing (see password-hash.ts: a new hash, and the
// hash of a candidate with the salt and parameters of a stored one),
// verification of a hash in hand that never throws, and generated passwords.
// (The decoy for unknown accounts is the database's: saas.auth_params answers
// every email with a head of the same shape.)
import 'server-only';
import { randomBytes } from 'node:crypto';
import { verify } from '@node-rs/argon2';

export { hashPassword, hashWithParams, parseHashParams, PASSWORD_PARAMS, type HashParams } from './password-hash';
export { MIN_PASSWORD_LENGTH } from '@/lib/account/schema';

/** False for a wrong password and for a malformed or missing hash; never throws on them. */
export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (!passwordHash) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// No look-alike characters (0/O, 1/l/I), so it can be read out or typed from a screen.
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password of `length` characters (about 5.8 bits each), for new accounts. */
export function generatePassword(length = 20): string {
  const out: string[] = [];
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // Rejection sampling keeps every character equally likely.
      if (b < 256 - (256 % ALPHABET.length) && out.length < length) out.push(ALPHABET[b % ALPHABET.length]!);
    }
  }
  return out.join('');
}
