// Playwright fixtures: every test gets a FRESH tenant with one admin, one buyer
// and one viewer (tests/helpers/factories.ts: written directly to the database
// as the owner, with argon2id hashes), plus helpers to sign in through the UI
// and to read the database.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test as base, type Locator, type Page } from '@playwright/test';
import pg from 'pg';
import { createTenant, factories, type CreatedUser, type Role, type Team } from '../tests/helpers/factories';

export const PASSWORD = 'e2e-password-123';

export type { Role, Team };
export type TestUser = CreatedUser;
export type MailKind = 'invitation' | 'password_reset';

const f = factories({ password: PASSWORD, emailPrefix: 'e2e', domain: 'e2e.test', namePrefix: 'Person' });

export interface Db {
  pool: pg.Pool;
  /** Insert a tenant (as the owner, who is not subject to the tenant policies). */
  createTenant(name: string, currency?: string): Promise<string>;
  createUser(opts?: { name?: string; password?: string }): Promise<TestUser>;
  addMember(tenantId: string, userId: string, role: Role): Promise<void>;
  createTeam(name?: string): Promise<Team>;
  roleOf(tenantId: string, userId: string): Promise<Role | null>;
  /** The path (`/invite/…`, `/reset-password/…`) of the link in the newest mail of this kind to this address, from saas.mail_outbox. */
  mailedLink(to: string, kind: MailKind): Promise<string>;
  /** How many mails of this kind went to this address. */
  mailCount(to: string, kind: MailKind): Promise<number>;
  auditRows(tenantId: string): Promise<{ id: number; action: string; entity_id: string | null; before: unknown; after: unknown; actor_user_id: string | null }[]>;
}

function tag(): string {
  return randomUUID().slice(0, 8);
}

export const test = base.extend<{ team: Team; signIn: (page: Page, user: TestUser, password?: string) => Promise<void> }, { db: Db }>({
  db: [
    async ({}, provide) => {
      const url = process.env.AEGIS_E2E_OWNER_URL;
      if (!url) throw new Error('AEGIS_E2E_OWNER_URL is not set: run the tests through playwright.config.ts (global setup)');
      const pool = new pg.Pool({ connectionString: url, max: 3 });
      pool.on('error', () => undefined);
      const db: Db = {
        pool,
        createTenant: (name, currency = 'EUR') => createTenant(pool, name, currency),
        createUser: (opts = {}) => f.createUser(pool, opts),
        addMember: (tenantId, userId, role) => f.addMembership(pool, tenantId, userId, role),
        createTeam: (name = `Tenant ${tag()}`) => f.createTeam(pool, name),
        async roleOf(tenantId, userId) {
          const r = await pool.query('select role from saas.memberships where tenant_id = $1 and user_id = $2', [tenantId, userId]);
          return r.rows[0]?.role ?? null;
        },
        async mailedLink(to, kind) {
          // Without SMTP_URL the outbox keeps the body; the link is on a line of its own.
          const r = await pool.query('select body_text from saas.mail_outbox where to_address = $1 and kind = $2 order by id desc limit 1', [to, kind]);
          const body: string = r.rows[0]?.body_text ?? '';
          const link = body.split('\n').find((line) => /^https?:\/\/\S+\/(invite|reset-password)\/\S+$/.test(line.trim()));
          if (!link) throw new Error(`no ${kind} mail with a link to ${to}`);
          return new URL(link.trim()).pathname;
        },
        async mailCount(to, kind) {
          const r = await pool.query('select count(*)::int as n from saas.mail_outbox where to_address = $1 and kind = $2', [to, kind]);
          return r.rows[0].n;
        },
        async auditRows(tenantId) {
          const r = await pool.query(
            'select id::int as id, action, entity_id, before, after, actor_user_id from saas.audit_log where tenant_id = $1 order by id',
            [tenantId],
          );
          return r.rows;
        },
      };
      await provide(db);
      await pool.end();
    },
    { scope: 'worker' },
  ],

  team: async ({ db }, provide) => {
    await provide(await db.createTeam());
  },

  // Each test is its own client address (as people are), so one test's failed
  // sign-ins never slow another's through the per-address limit. The app
  // trusts no proxy here (AUTH_TRUSTED_PROXY_HOPS=0), so it keys the limit on
  // this header's last entry; the addresses are from the benchmarking range,
  // never contacted.
  extraHTTPHeaders: async ({}, provide, testInfo) => {
    await provide({ 'X-Forwarded-For': testAddress(testInfo.testId) });
  },

  signIn: async ({}, provide) => {
    await provide(async (page, user, password = PASSWORD) => {
      await page.goto('/signin');
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page).toHaveURL(/\/performance$/);
    });
  },
});

/** A stable address in 198.18.0.0/15 (RFC 2544, benchmarking) for a test. */
export function testAddress(testId: string): string {
  const h = createHash('sha256').update(testId).digest();
  return `198.${18 + (h[0]! & 1)}.${h[1]}.${h[2]}`;
}

/** The row of a table (in the page, or in a part of it) that mentions this text (e.g. a member's email). */
export function rowOf(within: Page | Locator, text: string) {
  return within.getByRole('row').filter({ hasText: text });
}

/** The page's own alert (Next also keeps an empty role=alert route announcer). */
export function alertOf(page: Page) {
  return page.getByRole('alert').filter({ hasText: /\S/ });
}

export { expect };

/** Invite through the form of the open members page, and wait for its confirmation. */
export async function invite(page: Page, email: string, role: Role) {
  const form = page.getByRole('form', { name: 'Invite a member' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Role').selectOption(role);
  await form.getByRole('button', { name: 'Send invitation' }).click();
  await expect(page.getByRole('region', { name: 'Invite a member' }).getByRole('status')).toHaveText(
    `Invitation sent to ${email}. The link works for 72 hours.`,
  );
}

/** The id Next gave a server action in the production build (.next/server/server-reference-manifest.json). */
export function serverActionId(exportedName: string, file: string): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '.next', 'server', 'server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { exportedName?: string; filename?: string }>;
  };
  const found = Object.entries(manifest.node).find(([, v]) => v.exportedName === exportedName && v.filename === file);
  if (!found) throw new Error(`server action ${exportedName} of ${file} not found in the build manifest`);
  return found[0];
}

/**
 * Call a server action from inside the page (so the session cookie and Origin are the
 * browser's own), the way React does for useActionState forms: arguments
 * (previousState = null, formData). Returns the status and the raw RSC response text.
 */
export async function forgeServerAction(page: Page, path: string, actionId: string, fields: Record<string, string>) {
  return page.evaluate(
    async ({ path, actionId, fields }) => {
      const body = new FormData();
      // React's reply encoding: the form data's fields travel as parts prefixed "_1_",
      // then part "0" holds the argument list, where "$K1" stands for that form data
      // (the server reads the parts as they stream in, so the root comes last).
      for (const [k, v] of Object.entries(fields)) body.append(`_1_${k}`, v);
      body.append('0', JSON.stringify([null, '$K1']));
      const res = await fetch(path, { method: 'POST', headers: { 'Next-Action': actionId, Accept: 'text/x-component' }, body });
      return { status: res.status, text: await res.text() };
    },
    { path, actionId, fields },
  );
}
