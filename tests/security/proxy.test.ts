// proxy.ts on Request objects: the page policy and its nonce, HSTS decided by
// the configured public URL only, the refusal of a client's X-Forwarded-Host
// and of cross-site writes, and the headers every answer keeps. The running
// production build is checked by e2e/security.spec.ts; HSTS needs an https
// public URL, which the e2e server (plain http on loopback) cannot have.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NextRequest } from 'next/server';
import { CROSS_SITE_REFUSED, FORWARDED_HOST_REFUSED, HSTS, MALFORMED_PATH, proxy } from '../../proxy';

const HOST = 'ads.example.com';

function request(path: string, init: { method?: string; headers?: Record<string, string> } = {}, base = `https://${HOST}`) {
  return new NextRequest(`${base}${path}`, { method: init.method ?? 'GET', headers: { host: new URL(base).host, ...init.headers } });
}

function env(publicUrl: string | undefined, nodeEnv = 'production') {
  vi.stubEnv('NEXTAUTH_URL', publicUrl);
  vi.stubEnv('NODE_ENV', nodeEnv);
}

/** The directives of a policy, by name. */
function directives(policy: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (policy ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

/** What the page renderer is given as the request's policy (the proxy's request-header override). */
function forwardedPolicy(res: Response): string | null {
  const overridden = (res.headers.get('x-middleware-override-headers') ?? '').split(',');
  return overridden.includes('content-security-policy') ? res.headers.get('x-middleware-request-content-security-policy') : null;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the page policy', () => {
  it('carries a fresh nonce, the same on the response and on the request the page renders from, and no inline script', async () => {
    env(`https://${HOST}`);
    const first = (await proxy(request('/performance')));
    const second = (await proxy(request('/performance')));
    const policy = first.headers.get('content-security-policy');
    const script = directives(policy).get('script-src') ?? [];
    const nonce = script.find((v) => v.startsWith("'nonce-"));
    expect(nonce).toMatch(/^'nonce-[A-Za-z0-9+/]{22}=='$/);
    expect(script).toEqual(["'self'", nonce, "'strict-dynamic'"]);
    expect(forwardedPolicy(first)).toBe(policy);
    expect(second.headers.get('content-security-policy')).not.toBe(policy);
    const d = directives(policy);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('style-src-elem')).toEqual(["'self'", nonce]);
    expect(d.get('style-src-attr')).toEqual(["'unsafe-inline'"]);
    expect(first.headers.get('x-middleware-next')).toBe('1');
  });

  it("lets the dev server evaluate code and open its websocket, and production neither", async () => {
    env('http://localhost:3000', 'development');
    const dev = directives((await proxy(request('/performance', {}, 'http://localhost:3000'))).headers.get('content-security-policy'));
    expect(dev.get('script-src')).toContain("'unsafe-eval'");
    expect(dev.get('connect-src')).toEqual(["'self'", 'ws:']);
    env('http://localhost:3000');
    const prod = directives((await proxy(request('/performance', {}, 'http://localhost:3000'))).headers.get('content-security-policy'));
    expect(prod.get('script-src')).not.toContain("'unsafe-eval'");
    expect(prod.get('connect-src')).toEqual(["'self'"]);
  });

  it('replaces a policy the client put in the request itself', async () => {
    env(`https://${HOST}`);
    const res = (await proxy(request('/signin', { headers: { 'content-security-policy': "script-src 'nonce-chosen-by-client'" } })));
    expect(forwardedPolicy(res)).toBe(res.headers.get('content-security-policy'));
    expect(forwardedPolicy(res)).not.toContain('chosen-by-client');
  });
});

describe('HSTS', () => {
  it('is sent when the public URL is https, on pages, API routes and refusals alike', async () => {
    env(`https://${HOST}`);
    expect((await proxy(request('/performance'))).headers.get('strict-transport-security')).toBe(HSTS);
    expect((await proxy(request('/api/v1/openapi.json'))).headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
    const refused = (await proxy(request('/signin', { headers: { 'x-forwarded-host': 'evil.example' } })));
    expect(refused.status).toBe(400);
    expect(refused.headers.get('strict-transport-security')).toBe(HSTS);
  });

  it('is never sent over http, for a loopback host, or without a public URL, whatever the client says about the scheme', async () => {
    for (const url of ['http://127.0.0.1:3000', 'http://ads.example.com', 'https://localhost:3000', 'https://127.0.0.1', undefined, 'not a url']) {
      env(url);
      const res = (await proxy(request('/performance', { headers: { 'x-forwarded-proto': 'https' } }, 'http://127.0.0.1:3000')));
      expect(res.headers.get('strict-transport-security'), String(url)).toBeNull();
      expect(res.headers.get('content-security-policy')).toContain("'strict-dynamic'");
    }
  });
});

describe('X-Forwarded-Host', () => {
  it('is refused with 400 unless it names the public host, and then the request goes through', async () => {
    env(`https://${HOST}`);
    // Host is the internal address, as behind a reverse proxy that forwards the public host in X-Forwarded-Host.
    const behindProxy = async (forwarded: string) => (await proxy(request('/settings', { headers: { 'x-forwarded-host': forwarded } }, 'http://10.0.0.5:3000')));
    for (const forwarded of ['evil.example', `evil.example, ${HOST}`, `${HOST}, evil.example`, `${HOST}:8443`, '']) {
      const res = (await behindProxy(forwarded));
      expect(res.status, forwarded).toBe(400);
      expect(await res.text()).toBe(`${FORWARDED_HOST_REFUSED}\n`);
      expect(res.headers.get('x-middleware-next')).toBeNull();
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
    for (const forwarded of [HOST, 'ADS.example.com', `${HOST}, ${HOST}`, `${HOST}, 10.0.0.5:3000`]) {
      expect((await behindProxy(forwarded)).headers.get('x-middleware-next'), forwarded).toBe('1');
    }
  });

  it('may repeat Host (next start fills it so on a direct request), with or without a public URL, and name nothing else', async () => {
    const base = 'http://10.0.0.5:3000';
    for (const url of [`https://${HOST}`, undefined]) {
      env(url);
      expect((await proxy(request('/settings', { headers: { 'x-forwarded-host': '10.0.0.5:3000' } }, base))).headers.get('x-middleware-next'), String(url)).toBe('1');
      expect((await proxy(request('/settings', { headers: { 'x-forwarded-host': 'evil.example' } }, base))).status, String(url)).toBe(400);
    }
  });
});

describe('writes from another site', () => {
  const action = { 'next-action': '7f00aa', 'content-type': 'text/plain;charset=UTF-8' };

  it('refuses a server action whose Origin or Sec-Fetch-Site is not this site, or that has no Origin', async () => {
    env(`https://${HOST}`);
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: `https://${HOST}.evil.example` },
      { origin: 'null' },
      {},
      { origin: `https://${HOST}`, 'sec-fetch-site': 'cross-site' },
      { origin: `https://${HOST}`, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of refused) {
      const res = (await proxy(request('/settings', { method: 'POST', headers: { ...action, ...headers } })));
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await res.text()).toBe(`${CROSS_SITE_REFUSED}\n`);
    }
    const same = (await proxy(request('/settings', { method: 'POST', headers: { ...action, origin: `https://${HOST}`, 'sec-fetch-site': 'same-origin' } })));
    expect(same.headers.get('x-middleware-next')).toBe('1');
  });

  it("takes the host the request was sent to as this site too (a direct address), but never a client's X-Forwarded-Host", async () => {
    env(`https://${HOST}`);
    const direct = (await proxy(request('/settings', { method: 'POST', headers: { ...action, origin: 'http://10.0.0.5:3000' } }, 'http://10.0.0.5:3000')));
    expect(direct.headers.get('x-middleware-next')).toBe('1');
    const spoofed = (await proxy(request('/settings', { method: 'POST', headers: { ...action, origin: 'https://evil.example', 'x-forwarded-host': 'evil.example' } })));
    expect(spoofed.status).toBe(400);
  });

  it('leaves reads alone, the key-only API to its key, and next-auth to its CSRF token unless the browser names another site', async () => {
    env(`https://${HOST}`);
    expect((await proxy(request('/settings', { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } }))).headers.get('x-middleware-next')).toBe('1');
    const api = (await proxy(request('/api/v1/metrics', { method: 'POST', headers: { origin: 'https://evil.example', authorization: 'Bearer x' } })));
    expect(api.headers.get('x-middleware-next')).toBe('1');
    expect((await proxy(request('/api/auth/callback/credentials', { method: 'POST' }))).headers.get('x-middleware-next')).toBe('1');
    expect((await proxy(request('/api/auth/callback/credentials', { method: 'POST', headers: { origin: 'https://evil.example' } }))).status).toBe(403);
    expect((await proxy(request('/api/imports', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } }))).status).toBe(403);
  });
});

describe('a path that cannot be decoded', () => {
  it('is not found (Next itself would answer a bare 500)', async () => {
    env(`https://${HOST}`);
    const res = (await proxy(request('/invite/%ZZ')));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe(`${MALFORMED_PATH}\n`);
    expect((await proxy(request('/invite/abc%20def'))).headers.get('x-middleware-next')).toBe('1');
  });
});
