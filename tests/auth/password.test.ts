// Password hashing: argon2id with 19 MiB, 2 passes, 1 lane, and a verifier that never throws.
import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, PASSWORD_PARAMS, verifyPassword } from '../../lib/auth/password';

describe('password hashing', () => {
  it('stores an argon2id PHC string with m=19456 KiB, t=2, p=1', async () => {
    const h = await hashPassword('s3cret-passphrase');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(PASSWORD_PARAMS).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('salts: the same password hashes differently twice, and both verify', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, 'same')).toBe(true);
    expect(await verifyPassword(b, 'same')).toBe(true);
  });

  it('refuses a wrong password, a missing hash and a malformed hash without throwing', async () => {
    const h = await hashPassword('right');
    expect(await verifyPassword(h, 'wrong')).toBe(false);
    expect(await verifyPassword(h, 'Right')).toBe(false);
    expect(await verifyPassword(null, 'right')).toBe(false);
    expect(await verifyPassword('not-a-hash', 'right')).toBe(false);
  });

  it('generates one-time passwords of the asked length from an unambiguous alphabet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toHaveLength(20);
      expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]+$/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    expect(generatePassword(32)).toHaveLength(32);
  });
});
