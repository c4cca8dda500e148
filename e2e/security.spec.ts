// Web security of the production build: every page's Content-Security-Policy
// carries a nonce of its own response, which every script tag of the HTML
// carries too, and the page runs without a policy violation; the other
// headers on pages, API routes and static files; 404 statuses for addresses
// and ids that name nothing (signed in and out); a server action or cookie
// route posted from another origin refused with nothing changed; a client's
// X-Forwarded-Host refused. HSTS, which needs an https public URL, is checked
// on proxy.ts directly (tests/security/proxy.test.ts); here it must be absent.
import { randomUUID } from 'node:crypto';
import type { APIResponse, Page, Response } from '@playwright/test';
import { expect, forgeServerAction, serverActionId, test, type TestUser } from './fixtures';

const MAIN_PAGES = [
  '/performance',
  '/recommendations',
  '/recommendations/history',
  '/anomalies',
  '/ab-tests',
  '/ab-tests/new',
  '/budgets',
  '/budgets/launch',
  '/imports',
  '/settings',
  '/settings/alerts',
  '/settings/api-keys',
  '/benchmarks',
  '/members',
  '/audit',
  '/account/password',
];

const SIGNED_OUT_PAGES = ['/signin', '/', '/forgot-password'];

type Headers = Record<string, string>;

/** The policy's directives by name. */
function directives(policy: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (policy ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

/** The nonce of a page policy, after checking the policy allows no inline script. */
function pageNonce(headers: Headers, where: string): string {
  const scripts = directives(headers['content-security-policy']).get('script-src') ?? [];
  expect(scripts, where).toContain("'strict-dynamic'");
  expect(scripts, where).not.toContain("'unsafe-inline'");
  expect(scripts, where).not.toContain("'unsafe-eval'");
  const nonce = scripts.find((s) => s.startsWith("'nonce-"))?.slice(7, -1);
  expect(nonce, where).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  return nonce!;
}

function expectCommonHeaders(headers: Headers, where: string) {
  expect(headers['x-frame-options'], where).toBe('DENY');
  expect(headers['x-content-type-options'], where).toBe('nosniff');
  expect(headers['referrer-policy'], where).toBe('strict-origin-when-cross-origin');
  expect(headers['permissions-policy'], where).toBe('camera=(), microphone=(), geolocation=()');
  expect(directives(headers['content-security-policy']).get('frame-ancestors'), where).toEqual(["'none'"]);
  // Plain http on loopback: never HSTS.
  expect(headers['strict-transport-security'], where).toBeUndefined();
}

/** Every script and style element of the HTML carries the nonce; there are inline scripts to carry it. */
function expectNoncedHtml(html: string, nonce: string, where: string) {
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  const inline = scripts.filter((tag) => !/\ssrc=/.test(tag));
  expect(inline.length, `${where}: inline scripts`).toBeGreaterThan(0);
  for (const tag of [...scripts, ...(html.match(/<style\b[^>]*>/g) ?? [])]) expect(tag, where).toContain(` nonce="${nonce}"`);
}

/** Collects the policy violations the page reports, from its first script on. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

async function violations(page: Page, logged: string[]): Promise<string[]> {
  return [...logged, ...(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations))];
}

/** Opens a page as the browser does and checks its policy, its HTML and that it ran (Next's client started) without a violation. */
async function checkPage(page: Page, logged: string[], path: string, expectedStatus = 200): Promise<string> {
  const res = (await page.goto(path)) as Response;
  expect(res.status(), path).toBe(expectedStatus);
  const headers = res.headers();
  expectCommonHeaders(headers, path);
  const nonce = pageNonce(headers, path);
  expectNoncedHtml(await res.text(), nonce, path);
  await page.waitForLoadState('networkidle');
  await expect.poll(() => page.evaluate(() => typeof (window as unknown as { next?: { version?: string } }).next?.version), { message: `${path}: Next's client ran` }).toBe('string');
  expect(await violations(page, logged), path).toEqual([]);
  return nonce;
}

async function nonceOf(res: APIResponse): Promise<string> {
  return pageNonce(res.headers(), res.url());
}

test.describe('the Content-Security-Policy', () => {
  test('signed out: the sign-in page, the home page, the reset form and a 404 carry a nonce of their own and run without a violation', async ({ page }) => {
    const logged = await watchViolations(page);
    for (const path of SIGNED_OUT_PAGES) await checkPage(page, logged, path);
    await checkPage(page, logged, `/no-such-page-${randomUUID()}`, 404);
    const [a, b] = [await nonceOf(await page.request.get('/signin')), await nonceOf(await page.request.get('/signin'))];
    expect(a).not.toBe(b);
  });

  for (const role of ['admin', 'buyer', 'viewer'] as const) {
    test(`signed in as ${role}: every main page carries a fresh nonce on each script and runs without a violation`, async ({ page, team, signIn }) => {
      test.setTimeout(120_000);
      const logged = await watchViolations(page);
      const user: TestUser = team[role];
      await signIn(page, user);
      const nonces = new Set<string>();
      for (const path of MAIN_PAGES) nonces.add(await checkPage(page, logged, path));
      if (role === 'admin') nonces.add(await checkPage(page, logged, '/members/outbox'));
      else await checkPage(page, logged, '/members/outbox', 404);
      expect(nonces.size).toBe(MAIN_PAGES.length + (role === 'admin' ? 1 : 0));
      const [a, b] = [await nonceOf(await page.request.get('/performance')), await nonceOf(await page.request.get('/performance'))];
      expect(a).not.toBe(b);

      // Moving around in the app loads its scripts through the trusted ones ('strict-dynamic'): still no violation.
      const nav = page.getByRole('navigation', { name: 'Main' });
      for (const name of ['Performance', 'Anomalies', 'Budgets', 'Settings']) {
        await nav.getByRole('link', { name }).click();
        await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
      }
      expect(await violations(page, logged)).toEqual([]);
    });
  }

  test('API routes and static files keep the other headers', async ({ page }) => {
    const api = await page.request.get('/api/v1/openapi.json');
    expect(api.status()).toBe(200);
    expectCommonHeaders(api.headers(), '/api/v1/openapi.json');
    const csrf = await page.request.get('/api/auth/csrf');
    expectCommonHeaders(csrf.headers(), '/api/auth/csrf');

    const html = await (await page.request.get('/signin')).text();
    const chunk = /<script\b[^>]*\ssrc="(\/_next\/static\/[^"]+)"/.exec(html)?.[1];
    expect(chunk).toBeTruthy();
    const file = await page.request.get(chunk!);
    expect(file.status()).toBe(200);
    expectCommonHeaders(file.headers(), chunk!);
    expect(directives(file.headers()['content-security-policy']).get('default-src')).toEqual(["'none'"]);
    const icon = await page.request.get('/icon.svg');
    expect(icon.status()).toBe(200);
    expectCommonHeaders(icon.headers(), '/icon.svg');
  });
});

test.describe('not found is a 404', () => {
  const uuid = () => randomUUID();

  test('signed in: unknown paths, unknown and malformed ids, another tenant\'s records', async ({ page, team, db, signIn }) => {
    const other = await db.createTeam(`Other ${team.name}`);
    const otherAudit = await db.pool.query<{ id: string }>(
      "insert into saas.audit_log (tenant_id, action, entity_type, entity_id) values ($1, 'member.add', 'membership', $2) returning id::text",
      [other.tenantId, other.viewer.id],
    );
    await signIn(page, team.admin);
    const missing = [
      `/no-such-page-${uuid()}`,
      '/settings/no-such-tab',
      '/performance/meta',
      `/anomalies/${uuid()}`,
      '/anomalies/not-an-id',
      `/ab-tests/${uuid()}`,
      '/ab-tests/not-an-id',
      `/ab-tests/${uuid()}/edit`,
      '/audit/999999999',
      '/audit/not-an-id',
      `/audit/${otherAudit.rows[0]!.id}`,
      `/members/${uuid()}`,
      '/members/not-an-id',
      `/members/${other.admin.id}`,
      '/performance/meta/no-such-campaign',
      '/performance/not-a-platform/123',
      '/performance/meta/~?id=no-such-campaign',
      '/performance/meta/%ZZ',
      `/invite/${uuid()}`,
      '/invite/%ZZ',
      `/reset-password/${uuid()}`,
    ];
    for (const path of missing) {
      const res = await page.request.get(path, { maxRedirects: 0 });
      expect(res.status(), path).toBe(404);
    }
    // The same routes answer 200 for what exists, so the 404s are not broken pages.
    expect((await page.request.get(`/members/${team.buyer.id}`)).status()).toBe(200);
    expect((await page.request.get('/members/outbox')).status()).toBe(200);

    // What the browser shows with the status: the section's "not found" inside the app.
    const res = (await page.goto(`/anomalies/${uuid()}`)) as Response;
    expect(res.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Not found', level: 1 })).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  });

  test('a role below the page: 404 for a viewer on the admin pages', async ({ page, team, signIn }) => {
    await signIn(page, team.viewer);
    for (const path of ['/members/outbox', `/members/${team.buyer.id}`]) {
      expect((await page.request.get(path, { maxRedirects: 0 })).status(), path).toBe(404);
    }
  });

  test('signed out: unknown paths and links 404, the app\'s pages send to sign-in', async ({ page }) => {
    for (const path of [`/no-such-page-${uuid()}`, `/invite/${uuid()}`, `/reset-password/${uuid()}`, '/invite/%ZZ']) {
      expect((await page.request.get(path, { maxRedirects: 0 })).status(), path).toBe(404);
    }
    for (const path of [`/anomalies/${uuid()}`, '/members/not-an-id']) {
      const res = await page.request.get(path, { maxRedirects: 0 });
      expect(res.status(), path).toBe(307);
      expect(res.headers()['location'], path).toMatch(/\/signin/);
    }
    const res = (await page.goto(`/invite/${uuid()}`)) as Response;
    expect(res.status()).toBe(404);
    await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toHaveText('This invitation link is not valid. Check that you opened the whole link from the mail.');
  });
});

test.describe('requests from elsewhere', () => {
  test('a server action posted from another origin, or with no origin, is refused and changes nothing; from the page it works', async ({ page, team, db, signIn }) => {
    await signIn(page, team.admin);
    const change = serverActionId('changeMemberRoleAction', 'lib/members/actions.ts');
    const fields = { _tenant: team.tenantId, userId: team.buyer.id, role: 'viewer' };
    // React's encoding of (previousState, formData), as e2e/fixtures.ts forgeServerAction sends it.
    const multipart: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) multipart[`_1_${k}`] = v;
    multipart['0'] = JSON.stringify([null, '$K1']);
    const auditBefore = await db.auditRows(team.tenantId);

    const attempts: [Record<string, string>, number][] = [
      [{ Origin: 'https://evil.example' }, 403],
      [{ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }, 403],
      // Next's own check would compare Origin with this header: it is refused before.
      [{ Origin: 'https://evil.example', 'X-Forwarded-Host': 'evil.example' }, 400],
      // Next lets an action without Origin through; this application does not.
      [{}, 403],
    ];
    for (const [headers, status] of attempts) {
      const res = await page.request.post(`/members/${team.buyer.id}`, {
        headers: { 'Next-Action': change, Accept: 'text/x-component', ...headers },
        multipart,
        maxRedirects: 0,
      });
      expect(res.status(), JSON.stringify(headers)).toBe(status);
      expect(await res.text()).not.toContain('Role changed');
    }
    expect(await db.roleOf(team.tenantId, team.buyer.id)).toBe('buyer');
    expect(await db.auditRows(team.tenantId)).toEqual(auditBefore);

    // The same call from the application's own page goes through, so the refusals above are not a broken call.
    const ok = await forgeServerAction(page, `/members/${team.buyer.id}`, change, fields);
    expect(ok.status).toBe(200);
    expect(await db.roleOf(team.tenantId, team.buyer.id)).toBe('viewer');
    expect((await db.auditRows(team.tenantId)).length).toBe(auditBefore.length + 1);
  });

  test('cookie routes refuse another origin: the upload and sign-out', async ({ page, team, signIn }) => {
    await signIn(page, team.buyer);
    const upload = await page.request.post('/api/imports?dryRun=1', {
      headers: { Origin: 'https://evil.example', 'Content-Type': 'text/csv' },
      data: 'Day,Campaign name,Amount spent\n',
    });
    expect(upload.status()).toBe(403);
    const csrf = ((await (await page.request.get('/api/auth/csrf')).json()) as { csrfToken: string }).csrfToken;
    const signOut = await page.request.post('/api/auth/signout', {
      headers: { Origin: 'https://evil.example' },
      form: { csrfToken: csrf, callbackUrl: '/' },
      maxRedirects: 0,
    });
    expect(signOut.status()).toBe(403);
    // Still signed in.
    expect((await page.request.get('/performance', { maxRedirects: 0 })).status()).toBe(200);
  });

  test("a client's X-Forwarded-Host is refused unless it names the public host", async ({ page, baseURL }) => {
    const spoofed = await page.request.get('/signin', { headers: { 'X-Forwarded-Host': 'evil.example' } });
    expect(spoofed.status()).toBe(400);
    expect(await spoofed.text()).toContain('X-Forwarded-Host');
    expectCommonHeaders(spoofed.headers(), 'refusal');
    const own = await page.request.get('/signin', { headers: { 'X-Forwarded-Host': new URL(baseURL!).host } });
    expect(own.status()).toBe(200);
  });
});
