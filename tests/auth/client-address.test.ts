// The per-address rate-limit key: X-Forwarded-For read with the configured
// number of trusted proxies (AUTH_TRUSTED_PROXY_HOPS), as a pure function.
import { describe, expect, it } from 'vitest';
import { clientAddress, trustedProxyHops } from '../../lib/auth/client-address';

const xff = (v: string) => ({ 'x-forwarded-for': v });

describe('clientAddress', () => {
  it('with no trusted proxy (0) uses the address Next wrote from the socket: the rightmost entry', () => {
    expect(clientAddress(xff('127.0.0.1'), 0)).toBe('127.0.0.1');
    expect(clientAddress(xff('::ffff:10.0.0.7'), 0)).toBe('::ffff:10.0.0.7');
    expect(clientAddress(xff('203.0.113.9, 10.0.0.2'), 0)).toBe('10.0.0.2');
  });

  it('with one trusted proxy uses the entry that proxy appended (the rightmost)', () => {
    expect(clientAddress(xff('198.51.100.1, 203.0.113.9'), 1)).toBe('203.0.113.9');
  });

  it('with two trusted proxies skips the nearest one: a forged leftmost entry is never used', () => {
    // Client forged "6.6.6.6"; the outer proxy appended the real client 203.0.113.9; the inner one appended the outer proxy.
    expect(clientAddress(xff('6.6.6.6, 203.0.113.9, 10.0.0.5'), 2)).toBe('203.0.113.9');
    expect(clientAddress(xff('203.0.113.9,10.0.0.5'), 2)).toBe('203.0.113.9');
  });

  it('has no address when the header has fewer entries than trusted proxies, or none at all', () => {
    expect(clientAddress(xff('10.0.0.5'), 2)).toBeNull();
    expect(clientAddress({}, 0)).toBeNull();
    expect(clientAddress(undefined, 1)).toBeNull();
    expect(clientAddress(xff(' , '), 0)).toBeNull();
  });

  it('does not fall back to X-Real-IP, which any client can send', () => {
    expect(clientAddress({ 'x-real-ip': '198.51.100.7' }, 0)).toBeNull();
  });

  it('ignores what is not an IP address (it would become a rate-limit key)', () => {
    expect(clientAddress(xff('unknown'), 0)).toBeNull();
    expect(clientAddress(xff("1.2.3.4'; drop table"), 0)).toBeNull();
    expect(clientAddress(xff(`${'a'.repeat(60)}:1`), 0)).toBeNull();
    expect(clientAddress(xff('2001:DB8::1'), 0)).toBe('2001:db8::1');
  });

  it('reads an array-valued header as one list', () => {
    expect(clientAddress({ 'x-forwarded-for': ['198.51.100.1', '203.0.113.9'] }, 1)).toBe('203.0.113.9');
  });
});

const env = (v: Record<string, string>) => v as unknown as NodeJS.ProcessEnv;

describe('trustedProxyHops', () => {
  it('is 0 when unset or empty, the number when a whole number 0..10', () => {
    expect(trustedProxyHops(env({}))).toBe(0);
    expect(trustedProxyHops(env({ AUTH_TRUSTED_PROXY_HOPS: '' }))).toBe(0);
    expect(trustedProxyHops(env({ AUTH_TRUSTED_PROXY_HOPS: ' 2 ' }))).toBe(2);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['-1', '1.5', 'one', '11']) {
      expect(() => trustedProxyHops(env({ AUTH_TRUSTED_PROXY_HOPS: bad }))).toThrow(/AUTH_TRUSTED_PROXY_HOPS must be a whole number from 0 to 10/);
    }
  });
});
