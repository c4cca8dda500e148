// Pages answer 503 while the database is away (lib/db/health.ts, proxy.ts):
// a request that met the outage records it (withTenant, on a database that
// refuses connections); from then on the proxy probes before each page and,
// while the probe cannot connect, answers 503 with Retry-After and a retry
// page; the first probe that connects ends it. Nothing is probed without a
// recorded outage, a burst of requests opens one probe connection, the API and
// writes are left to answer for themselves, and a configuration fault (a
// database that does not exist) is no outage. Real servers: the test server
// for "back", a port nobody listens on and a socket that hangs up for "away".
import net from 'node:net';
import { NextRequest } from 'next/server';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { freePort } from '../../db/tools/embedded';
import { clearDatabaseOutage, databaseOutageRecorded, noteDatabaseUnavailable } from '../../lib/db/health';
import { createDb, withTenant } from '../../lib/db/pool';
import { DATABASE_UNAVAILABLE_PAGE, DATABASE_UNAVAILABLE_TITLE } from '../../lib/db/unavailable';
import { proxy } from '../../proxy';

const page = (path = '/performance', method = 'GET') => new NextRequest(`http://127.0.0.1:3000${path}`, { method, headers: { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' } });
const passedThrough = (res: Response) => res.headers.get('x-middleware-next') === '1';

/** A server that takes connections and hangs up at once, counting them: a database "away" whose probes can be counted. */
async function hangUpServer(): Promise<{ url: string; accepted: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = net.createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    url: `postgres://aegis_app@127.0.0.1:${port}/aegis`,
    accepted: () => n,
    close: () => new Promise((res) => srv.close(() => res())),
  };
}

beforeEach(() => {
  clearDatabaseOutage();
  vi.stubEnv('NODE_ENV', 'production');
  vi.stubEnv('NEXTAUTH_URL', 'http://127.0.0.1:3000');
});
afterEach(() => {
  clearDatabaseOutage();
  vi.unstubAllEnvs();
});

describe('pages while the database is away', () => {
  it('a request that meets the outage records it; other failures do not', async () => {
    const away = createDb(`postgres://aegis_app@127.0.0.1:${await freePort()}/aegis`, { max: 1 });
    try {
      await expect(withTenant('00000000-0000-4000-8000-000000000001', async () => 1, {}, away.db)).rejects.toThrow();
      expect(databaseOutageRecorded()).toBe(true);
    } finally {
      await away.db.destroy();
    }
    clearDatabaseOutage();
    const up = createDb(inject('appUrl'), { max: 1 });
    try {
      // A query's own fault (here, a missing table) is no outage.
      await expect(withTenant('00000000-0000-4000-8000-000000000001', (trx) => trx.selectFrom('no_such_table' as never).selectAll().execute(), {}, up.db)).rejects.toThrow();
      expect(databaseOutageRecorded()).toBe(false);
    } finally {
      await up.db.destroy();
    }
  });

  it('nothing recorded: pages go through without a probe, even with the database away', async () => {
    const away = await hangUpServer();
    try {
      vi.stubEnv('DATABASE_URL', away.url);
      expect(passedThrough(await proxy(page()))).toBe(true);
      expect(away.accepted()).toBe(0);
    } finally {
      await away.close();
    }
  });

  it('recorded and still away: 503, Retry-After, the retry page under the policy’s nonce; one probe for a burst; API and writes go through', async () => {
    const away = await hangUpServer();
    try {
      vi.stubEnv('DATABASE_URL', away.url);
      noteDatabaseUnavailable();
      const res = await proxy(page());
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await res.text();
      expect(html).toContain(`<h1>${DATABASE_UNAVAILABLE_TITLE}</h1>`);
      expect(html).toContain(DATABASE_UNAVAILABLE_PAGE.replace(/"/g, '&quot;'));
      expect(html).toContain('<a href="">Try again</a>');
      const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
      expect(nonce).toBeTruthy();
      expect(html).toContain(`<style nonce="${nonce}">`);
      expect(html).not.toMatch(/<script/i);
      // A burst within the probe's second: one connection tried, every page 503.
      const burst = await Promise.all(Array.from({ length: 20 }, () => proxy(page('/recommendations'))));
      expect(burst.map((r) => r.status)).toEqual(Array(20).fill(503));
      expect(away.accepted()).toBe(1);
      // HEAD: the status without a body.
      const head = await proxy(page('/performance', 'HEAD'));
      expect(head.status).toBe(503);
      expect(await head.text()).toBe('');
      // The API answers its own 503 in JSON; a write (a server action) gets its own error message.
      expect(passedThrough(await proxy(page('/api/v1/metrics')))).toBe(true);
      expect(passedThrough(await proxy(page('/budgets', 'POST')))).toBe(true);
      expect(databaseOutageRecorded()).toBe(true);
    } finally {
      await away.close();
    }
  });

  it('back: the first probe that connects ends the outage, and pages render again', async () => {
    vi.stubEnv('DATABASE_URL', inject('appUrl'));
    noteDatabaseUnavailable();
    const res = await proxy(page());
    expect(res.status).toBe(200);
    expect(passedThrough(res)).toBe(true);
    expect(databaseOutageRecorded()).toBe(false);
  });

  it('a configuration fault is no outage: a database that does not exist lets the page render (and show its error)', async () => {
    const url = new URL(inject('appUrl'));
    url.pathname = '/aegis_no_such_database';
    vi.stubEnv('DATABASE_URL', url.toString());
    noteDatabaseUnavailable();
    expect(passedThrough(await proxy(page()))).toBe(true);
    expect(databaseOutageRecorded()).toBe(false);
  });
});
