// Password hashing: argon2id with 19 MiB, 2 passes, 1 lane, and a verifier that never throws.
import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, hashWithParams, parseHashParams, PASSWORD_PARAMS, verifyPassword } from '../../lib/auth/password';

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

  it('hashes a candidate with the head of a stored hash: the stored hash exactly for its password, another for any other', async () => {
    const stored = await hashPassword('the right one');
    const head = stored.slice(0, stored.lastIndexOf('$'));
    expect(parseHashParams(head)).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1, salt: expect.any(Buffer) });
    expect(parseHashParams(head)!.salt).toHaveLength(16);
    expect(await hashWithParams(head, 'the right one')).toBe(stored);
    const wrong = await hashWithParams(head, 'the wrong one');
    expect(wrong).not.toBe(stored);
    expect(wrong.startsWith(`${head}$`)).toBe(true);
    // Other parameters in the head are honoured (and give another hash).
    const lighter = head.replace('m=19456,t=2,p=1', 'm=8192,t=1,p=2');
    const h = await hashWithParams(lighter, 'the right one');
    expect(h.startsWith(`${lighter}$`)).toBe(true);
    expect(await verifyPassword(h, 'the right one')).toBe(true);
  });

  it('refuses a head that is malformed, of another algorithm or version, out of bounds, or with a salt that is not canonical', async () => {
    const salt = Buffer.alloc(16, 7).toString('base64').replace(/=+$/, '');
    const ok = `$argon2id$v=19$m=19456,t=2,p=1$${salt}`;
    expect(parseHashParams(ok)).not.toBeNull();
    for (const bad of [
      '',
      `${ok}$digest`,
      ok.replace('argon2id', 'argon2i'),
      ok.replace('v=19', 'v=16'),
      ok.replace('m=19456', 'm=2097152'), // 2 GiB
      ok.replace('t=2', 't=65'),
      ok.replace('p=1', 'p=17'),
      ok.replace('m=19456,t=2,p=1', 'm=8,t=2,p=2'), // under 8 KiB a lane
      ok.replace('p=1', 'p=01'),
      `$argon2id$v=19$m=19456,t=2,p=1$${salt.slice(0, -1)}B`, // stray bits in the last character
      `$argon2id$v=19$m=19456,t=2,p=1$${'A'.repeat(10)}`, // under 8 bytes
    ]) {
      expect(parseHashParams(bad), bad).toBeNull();
      await expect(hashWithParams(bad, 'x'), bad).rejects.toThrow(/not the head of an argon2id hash/);
    }
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
