// The database away under a signed-in buyer, on a production server of this
// spec's own (the shared one keeps its database): that server reaches
// PostgreSQL through a forwarder the test closes and opens again. The page
// that meets the outage shows "temporarily unavailable" with a retry (its
// status is already decided: 500, or 200 once it streams); the pages after it
// are answered 503 with Retry-After by the proxy, without rendering, until the
// database is back; then the retry brings the page back, and the process never
// exited.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { PROBE_REUSE_MS } from '../lib/db/health';
import { DATABASE_UNAVAILABLE_PAGE, DATABASE_UNAVAILABLE_TITLE } from '../lib/db/unavailable';
import { loadMetricLines, type MetricLine } from '../tests/helpers/metrics';
import { alertOf, expect, test } from './fixtures';

const PORT = Number(process.env.E2E_PORT ?? 3210) + 7;
const BASE = `http://127.0.0.1:${PORT}`;
test.use({ baseURL: BASE });

const CAMPAIGN: MetricLine[] = [
  { platform: 'meta', id: 'C1', name: 'Meta one', fromAgo: 34, toAgo: 0, spend: 100, impressions: 10000, clicks: 200, conversions: 10, value: 400 },
];

/** A TCP forwarder to the database that can be closed (every connection cut, new ones refused) and opened again on the same port. */
class Forwarder {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(
    private readonly host: string,
    private readonly target: number,
  ) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((res) => server.listen(this.port, '127.0.0.1', res));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((res) => server.close(res));
  }
}

let forwarder: Forwarder;
let server: ChildProcess;

test.beforeAll(async () => {
  const app = new URL(process.env.AEGIS_E2E_APP_URL ?? '');
  forwarder = new Forwarder(app.hostname, Number(app.port || 5432));
  await forwarder.open();
  const via = new URL(app.toString());
  via.hostname = '127.0.0.1';
  via.port = String(forwarder.port);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    DATABASE_URL: via.toString(),
    NEXTAUTH_URL: BASE,
    NEXTAUTH_SECRET: randomBytes(32).toString('base64url'),
  };
  delete env.DATABASE_OWNER_URL;
  const root = path.resolve(__dirname, '..');
  server = spawn(path.join(root, 'node_modules', '.bin', 'next'), ['start', '-p', String(PORT), '-H', '127.0.0.1'], { cwd: root, stdio: 'ignore', env });
  const until = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`next start exited with code ${server.exitCode}`);
    const up = await fetch(`${BASE}/signin`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > until) throw new Error(`next start did not answer on ${BASE}`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

test.afterAll(async () => {
  server?.kill('SIGTERM');
  await forwarder?.close();
});

test('the database away: the page says so with a retry, the next pages are 503 with Retry-After, and the retry brings the page back', async ({ page, team, signIn, db }) => {
  test.setTimeout(90_000);
  await loadMetricLines(db.pool, team.tenantId, CAMPAIGN);
  await signIn(page, team.buyer);
  await expect(page.getByRole('heading', { name: 'Performance' })).toBeVisible();

  await forwarder.close();
  const met = await page.goto('/performance/meta/C1');
  expect([200, 500]).toContain(met?.status());
  await expect(alertOf(page)).toContainText(DATABASE_UNAVAILABLE_TITLE);

  // The outage is recorded: the proxy answers, without rendering.
  const next = await page.goto('/recommendations');
  expect(next?.status()).toBe(503);
  expect(await next?.headerValue('retry-after')).toBe('5');
  await expect(page.getByRole('heading', { level: 1, name: DATABASE_UNAVAILABLE_TITLE })).toBeVisible();
  await expect(page.getByText(DATABASE_UNAVAILABLE_PAGE)).toBeVisible();
  const api = await page.request.get('/api/v1/openapi.json');
  expect(api.status()).toBe(200);

  await forwarder.open();
  // A probe's answer serves the requests of its second (PROBE_REUSE_MS); a person retries later than that.
  await page.waitForTimeout(PROBE_REUSE_MS + 200);
  await page.getByRole('link', { name: 'Try again' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Recommendations' })).toBeVisible();
  const back = await page.goto('/performance/meta/C1');
  expect(back?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1, name: 'Meta one' })).toBeVisible();
  expect(server.exitCode).toBeNull();
});
