// The password hash itself: argon2id, 19 MiB of memory, 2 passes, 1 lane (the
// OWASP minimum), as a PHC string. Not server-only, so that the demo seed and
// the test fixtures (plain Node processes) hash exactly as the app does.
import { hash, type Algorithm } from '@node-rs/argon2';

export const PASSWORD_PARAMS = {
  // Algorithm is a const enum that isolatedModules cannot inline; 2 is Argon2id
  // (the tests check the stored hash says $argon2id$).
  algorithm: 2 as Algorithm,
  memoryCost: 19456, // KiB = 19 MiB
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_PARAMS);
}
