// npx tsx scripts/load.ts BASE_URL [--users 50] [--duration 60] [--max-requests N] [--json FILE]
// A load test of a running production build (loopback only). It makes its
// own tenants, each with metrics sent through the ingest API (the demo
// generator's rows), and its own accounts, written through the owner
// connection (DATABASE_OWNER_URL, else the embedded server of
// .data/embedded.json); signs every virtual user in through next-auth's
// credentials flow; then, for the duration or up to the request count, has
// the users walk the main pages concurrently and each send metrics of its own
// through the ingest API with a key of its tenant. Every answer is checked:
// its status, and that a page names the caller's tenant and no other load
// tenant; at the end every user's rows must be in its own tenant. Prints
// requests, requests/s, p50/p95/p99 per page and overall and the errors, as
// text and with --json as a file; exits 1 on any error.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { connectionString, readEmbeddedState } from '../lib/db/config';
import { generateDemoData } from '../db/seed/generate';
import { utcToday } from '../db/seed/dates';
import type { MetricRow } from '../db/seed/rows';
import { createTenant, factories, type Role } from '../tests/helpers/factories';

export const PAGES = ['/performance', '/recommendations', '/anomalies', '/ab-tests', '/budgets', '/imports', '/settings', '/benchmarks'] as const;
const WRITE = 'POST /api/v1/metrics';
/** Users per tenant (at least two tenants, so that a leak between them can show). */
const USERS_PER_TENANT = 5;
/** A key may send 60 requests a minute (docs/api.md): each user writes once a round of the pages, at most every 1.5 s, with a key of its own. */
const WRITE_INTERVAL_MS = 1500;
/** Days of the demo generator's history each load tenant gets (the pages read 30 days and the 30 before). */
const DATA_DAYS = 60;
const REQUEST_TIMEOUT_MS = 30_000;
/** What the error boundaries render (components/shell/ErrorPanel.tsx): a 200 that is a failure all the same. */
const ERROR_PANEL = 'class="error-panel"';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export interface LoadOptions {
  baseUrl: string;
  ownerUrl: string;
  users: number;
  durationS: number;
  maxRequests: number;
  log?: (line: string) => void;
}

export interface Figures {
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface LoadReport {
  baseUrl: string;
  users: number;
  tenants: number;
  durationS: number;
  elapsedS: number;
  requests: number;
  requestsPerSecond: number;
  errors: number;
  /** Answers that named another load tenant, or rows written into one. */
  otherTenant: number;
  pages: Record<string, Figures>;
  overall: Figures;
  firstErrors: string[];
}

interface VirtualUser {
  index: number;
  email: string;
  tenant: LoadTenant;
  key: string;
  cookies: Map<string, string>;
  campaignId: string;
  writes: number;
}

interface LoadTenant {
  id: string;
  name: string;
}

/** The base URL, refused unless it is http(s) on this machine: a load test is not for someone else's server. */
export function loopbackBase(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`base URL: "${raw}" is not a URL (e.g. http://127.0.0.1:3000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`base URL: ${url.protocol} is not http or https`);
  if (!LOOPBACK.has(url.hostname) && !/^127\.\d+\.\d+\.\d+$/.test(url.hostname)) {
    throw new Error(`base URL: ${url.hostname} is not a loopback address; the load test only runs against this machine (localhost, 127.0.0.1, [::1])`);
  }
  return url;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function figures(latencies: number[], errors: number): Figures {
  const s = [...latencies].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { requests: latencies.length, errors, p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), p99: r(percentile(s, 99)) };
}

/** A key of the ingest API, as Settings -> API keys makes one (lib/ingest/api-keys.ts, which only the server may import). */
function newApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString('hex');
  const key = `aegis_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: createHash('sha256').update(key, 'utf8').digest('hex') };
}

function apiRow(m: MetricRow) {
  const base = {
    platform: m.platform,
    level: m.level,
    campaign_id: m.campaignId,
    campaign_name: m.campaignName,
    day: m.day,
    spend: m.spendCents / 100,
    impressions: m.impressions,
    clicks: m.clicks,
    conversions: m.conversions,
    conversion_value: m.valueCents / 100,
  };
  return m.level === 'adset' ? { ...base, adset_id: m.platformId, adset_name: m.entityName } : base;
}

function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

function keepCookies(jar: Map<string, string>, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (!pair || eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value === '' || /max-age=0\b/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
}

/** next-auth's credentials flow, as the sign-in form does it: the CSRF token (and its cookie), then the callback; the session cookie is kept. */
async function signIn(base: URL, user: VirtualUser, password: string): Promise<void> {
  const csrf = await fetch(new URL('/api/auth/csrf', base), { headers: { cookie: cookieHeader(user.cookies) } });
  keepCookies(user.cookies, csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const res = await fetch(new URL('/api/auth/callback/credentials', base), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(user.cookies), origin: base.origin },
    body: new URLSearchParams({ csrfToken, email: user.email, password, callbackUrl: new URL('/performance', base).href, json: 'true' }),
  });
  keepCookies(user.cookies, res);
  await res.arrayBuffer();
  if (![...user.cookies.keys()].some((k) => k.endsWith('next-auth.session-token'))) {
    throw new Error(`sign-in of ${user.email} got no session (HTTP ${res.status}): is NEXTAUTH_URL the base URL, and the database the server's?`);
  }
}

/** Runs tasks with at most `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const log = opts.log ?? (() => undefined);
  const base = loopbackBase(opts.baseUrl);
  if (!Number.isInteger(opts.users) || opts.users < 1) throw new Error('--users: a whole number of at least 1');
  if (!(opts.durationS > 0)) throw new Error('--duration: seconds, more than 0');
  if (!Number.isInteger(opts.maxRequests) || opts.maxRequests < opts.users) throw new Error('--max-requests: a whole number, at least one per user');

  const owner = new pg.Pool({ connectionString: opts.ownerUrl, max: 4 });
  owner.on('error', () => undefined);
  try {
    const who = await owner.query<{ ok: boolean }>('select rolsuper or rolbypassrls as ok from pg_roles where rolname = current_user');
    if (!who.rows[0]?.ok) throw new Error('DATABASE_OWNER_URL: the load test writes accounts and memberships of several tenants, which needs a superuser (or a BYPASSRLS role)');

    // Tenants and accounts of this run only, named so that no name contains another.
    const tag = randomBytes(3).toString('hex');
    const tenantCount = Math.min(opts.users, Math.max(2, Math.ceil(opts.users / USERS_PER_TENANT)));
    const width = String(tenantCount).length;
    const tenants: LoadTenant[] = [];
    for (let i = 0; i < tenantCount; i++) {
      const name = `Load ${tag} T${String(i + 1).padStart(width, '0')}`;
      tenants.push({ id: await createTenant(owner, name), name });
    }
    const password = randomBytes(12).toString('base64url');
    const f = factories({ password, emailPrefix: `load-${tag}`, domain: 'load.test', namePrefix: `Load ${tag} user` });
    const users: VirtualUser[] = [];
    for (let i = 0; i < opts.users; i++) {
      const tenant = tenants[i % tenantCount]!;
      const nth = Math.floor(i / tenantCount);
      const role: Role = nth === 0 ? 'admin' : nth % 2 === 1 ? 'buyer' : 'viewer';
      const account = await f.createUser(owner);
      await f.addMembership(owner, tenant.id, account.id, role);
      const key = newApiKey();
      await owner.query("insert into saas.api_keys (tenant_id, name, key_prefix, key_hash, role) values ($1, $2, $3, $4, 'buyer')", [
        tenant.id,
        `load ${tag} user ${i + 1}`,
        key.prefix,
        key.hash,
      ]);
      users.push({ index: i, email: account.email, tenant, key: key.key, cookies: new Map(), campaignId: `load-${tag}-u${i + 1}`, writes: 0 });
    }
    log(`made ${tenantCount} tenants (Load ${tag} T…) and ${opts.users} users`);

    // Each tenant's history through the ingest API, with the key of its first user.
    const demo = generateDemoData(utcToday());
    const lastDay = demo.tenants[0]!.metrics.map((m) => m.day).sort().at(-1)!;
    const firstDay = new Date(Date.parse(`${lastDay}T00:00:00Z`) - (DATA_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    await inBatches(tenants, 2, async (tenant) => {
      const source = demo.tenants[tenants.indexOf(tenant) % demo.tenants.length]!;
      const rows = source.metrics.filter((m) => m.day >= firstDay).map(apiRow);
      const key = users.find((u) => u.tenant === tenant)!.key;
      const res = await fetch(new URL('/api/v1/metrics', base), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rows }),
      });
      const body = (await res.json()) as { counts?: { inserted: number } };
      if (res.status !== 200 || body.counts?.inserted !== rows.length) throw new Error(`loading ${tenant.name}'s metrics: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    });
    log(`sent ${DATA_DAYS} days of metrics to each tenant`);

    await inBatches(users, 4, (u) => signIn(base, u, password));
    log(`signed in ${users.length} users`);

    // The run.
    const latencies = new Map<string, number[]>([...PAGES, WRITE].map((p) => [p, []]));
    const errorsBy = new Map<string, number>();
    const firstErrors: string[] = [];
    let otherTenant = 0;
    let started = 0;
    const fail = (what: string, detail: string) => {
      errorsBy.set(what, (errorsBy.get(what) ?? 0) + 1);
      if (firstErrors.length < 10) firstErrors.push(`${what}: ${detail}`);
    };
    const names = tenants.map((t) => t.name);

    async function timed(what: string, run: () => Promise<void>): Promise<void> {
      started++;
      const t = performance.now();
      try {
        await run();
      } catch (err) {
        fail(what, err instanceof Error ? err.message : String(err));
      }
      latencies.get(what)!.push(performance.now() - t);
    }

    const visit = (u: VirtualUser, page: string) =>
      timed(page, async () => {
        const res = await fetch(new URL(page, base), {
          headers: { cookie: cookieHeader(u.cookies) },
          redirect: 'manual',
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const html = await res.text();
        if (res.status !== 200) throw new Error(`HTTP ${res.status} for ${u.email}${res.headers.get('location') ? ` to ${res.headers.get('location')}` : ''}`);
        const others = names.filter((n) => n !== u.tenant.name && html.includes(n));
        if (others.length) {
          otherTenant++;
          throw new Error(`${u.email} (${u.tenant.name}) was shown ${others.join(', ')}`);
        }
        if (!html.includes(u.tenant.name)) throw new Error(`${u.email}'s page does not name its tenant ${u.tenant.name}`);
        if (html.includes(ERROR_PANEL)) throw new Error(`${u.email} got the error page`);
      });

    const write = (u: VirtualUser) =>
      timed(WRITE, async () => {
        // One campaign row a write, on one of the last 28 days: new rows, then updates.
        const day = new Date(Date.now() - (1 + (u.writes % 28)) * 86_400_000).toISOString().slice(0, 10);
        u.writes++;
        const row = { platform: 'meta', campaign_id: u.campaignId, campaign_name: `Load ${u.campaignId}`, day, spend: 10 + u.writes, impressions: 1000, clicks: 20, conversions: 1, conversion_value: 30 };
        const res = await fetch(new URL('/api/v1/metrics', base), {
          method: 'POST',
          headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ rows: [row] }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const body = (await res.json()) as { counts?: { inserted: number; updated: number; unchanged: number } };
        const c = body.counts;
        if (res.status !== 200 || !c || c.inserted + c.updated + c.unchanged !== 1) throw new Error(`HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      });

    // Each page once before the clock starts, so the figures are not those of the server's first requests.
    for (const page of PAGES) await fetch(new URL(page, base), { headers: { cookie: cookieHeader(users[0]!.cookies) } }).then((r) => r.arrayBuffer());

    log(`running ${opts.users} users for ${opts.durationS} s (at most ${opts.maxRequests} requests)`);
    const t0 = performance.now();
    const deadline = t0 + opts.durationS * 1000;
    const more = () => performance.now() < deadline && started < opts.maxRequests;
    await Promise.all(
      users.map(async (u) => {
        await write(u);
        let lastWrite = performance.now();
        // Users start at different pages, so every page is asked for at every moment.
        for (let i = 1; more(); i++) {
          await visit(u, PAGES[(u.index + i) % PAGES.length]!);
          if (i % PAGES.length === 0 && more() && performance.now() - lastWrite >= WRITE_INTERVAL_MS) {
            await write(u);
            lastWrite = performance.now();
          }
        }
      }),
    );
    const elapsedS = (performance.now() - t0) / 1000;

    // Every user's rows are in its own tenant, and nowhere else.
    const written = await owner.query<{ tenant_id: string; platform_id: string; n: number }>(
      "select tenant_id, platform_id, count(*)::int as n from ads.metrics_daily where platform_id like $1 and level = 'campaign' group by 1, 2",
      [`load-${tag}-u%`],
    );
    for (const u of users) {
      const mine = written.rows.filter((r) => r.platform_id === u.campaignId);
      const wrong = mine.filter((r) => r.tenant_id !== u.tenant.id);
      if (wrong.length) {
        otherTenant++;
        fail(WRITE, `${u.email}'s rows are in another tenant`);
      }
      const days = mine.filter((r) => r.tenant_id === u.tenant.id).reduce((n, r) => n + r.n, 0);
      if (days !== Math.min(u.writes, 28)) fail(WRITE, `${u.email} wrote ${Math.min(u.writes, 28)} days, its tenant has ${days}`);
    }

    const pages: Record<string, Figures> = {};
    for (const [what, l] of latencies) pages[what] = figures(l, errorsBy.get(what) ?? 0);
    const all = [...latencies.values()].flat();
    const errors = [...errorsBy.values()].reduce((a, b) => a + b, 0);
    return {
      baseUrl: base.origin,
      users: opts.users,
      tenants: tenantCount,
      durationS: opts.durationS,
      elapsedS: Math.round(elapsedS * 100) / 100,
      requests: all.length,
      requestsPerSecond: Math.round((all.length / elapsedS) * 10) / 10,
      errors,
      otherTenant,
      pages,
      overall: figures(all, errors),
      firstErrors,
    };
  } finally {
    await owner.end();
  }
}

export function formatReport(r: LoadReport): string {
  const rows = [...Object.entries(r.pages), ['all', r.overall] as const];
  const w = Math.max(...rows.map(([k]) => k.length));
  const line = (k: string, f: Figures) =>
    `${k.padEnd(w)}  ${String(f.requests).padStart(8)}  ${String(f.errors).padStart(6)}  ${f.p50.toFixed(1).padStart(8)}  ${f.p95.toFixed(1).padStart(8)}  ${f.p99.toFixed(1).padStart(8)}`;
  return [
    `${r.users} users in ${r.tenants} tenants against ${r.baseUrl}, ${r.elapsedS} s (asked ${r.durationS} s)`,
    `${'page'.padEnd(w)}  ${'requests'.padStart(8)}  ${'errors'.padStart(6)}  ${'p50 ms'.padStart(8)}  ${'p95 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}`,
    ...rows.map(([k, f]) => line(k, f)),
    `${r.requests} requests, ${r.requestsPerSecond} requests/s; ${r.errors} errors, ${r.otherTenant} naming or writing another tenant`,
    ...r.firstErrors.map((e) => `  error: ${e}`),
  ].join('\n');
}

/** Arguments of the command (and of scripts/load-ci.ts): the flags and their defaults. */
export function parseArgs(argv: string[], defaults = { users: 50, durationS: 60 }): { base: string | null; users: number; durationS: number; maxRequests: number; json: string | null } {
  const out = { base: null as string | null, users: defaults.users, durationS: defaults.durationS, maxRequests: 1_000_000, json: null as string | null };
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new Error(`${flag}: a number is needed`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--users') out.users = num(a, argv[++i]);
    else if (a === '--duration') out.durationS = num(a, argv[++i]);
    else if (a === '--max-requests') out.maxRequests = num(a, argv[++i]);
    else if (a === '--json') out.json = argv[++i] ?? null;
    else if (!a.startsWith('--') && out.base === null) out.base = a;
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

/** The owner connection: DATABASE_OWNER_URL, else the superuser of the project's embedded server (npm run demo). */
export function ownerUrlFromEnvironment(): string {
  if (process.env.DATABASE_OWNER_URL) return process.env.DATABASE_OWNER_URL;
  const state = readEmbeddedState();
  if (!state) throw new Error('DATABASE_OWNER_URL is not set and there is no embedded database (.data/embedded.json): give the owner URL of the database the server uses');
  return connectionString({ user: 'postgres', password: state.superPassword, port: state.port, database: state.database });
}

export async function report(r: LoadReport, json: string | null): Promise<number> {
  console.log(formatReport(r));
  if (json) writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  return r.errors > 0 || r.otherTenant > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const usage = 'usage: npx tsx scripts/load.ts BASE_URL [--users 50] [--duration 60] [--max-requests N] [--json FILE]';
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
    if (!args.base) throw new Error('BASE_URL is missing');
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const r = await runLoad({ baseUrl: args.base, ownerUrl: ownerUrlFromEnvironment(), users: args.users, durationS: args.durationS, maxRequests: args.maxRequests, log: (l) => console.log(`[load] ${l}`) });
  return report(r, args.json);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
