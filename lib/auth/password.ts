// Password hashing: argon2id, 19 MiB of memory, 2 passes, 1 lane (the OWASP
// minimum), stored as a PHC string in saas.users.password_hash.
import 'server-only';
import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

export const PASSWORD_PARAMS = {
  // Algorithm is a const enum that isolatedModules cannot inline; 2 is Argon2id
  // (the tests check the stored hash says $argon2id$).
  algorithm: 2 as Algorithm,
  memoryCost: 19456, // KiB = 19 MiB
  timeCost: 2,
  parallelism: 1,
} as const;

export { MIN_PASSWORD_LENGTH } from './account-schema';

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_PARAMS);
}

/** False for a wrong password and for a malformed or missing hash; never throws on them. */
export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (!passwordHash) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// A real hash of a random secret, verified against when the account does not
// exist, so an unknown email takes as long to refuse as a wrong password.
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
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
