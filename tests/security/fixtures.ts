// The two tenants the security suites set against each other, each with an
// admin, a buyer and a viewer, and makers of one fresh object of each kind
// (a recommendation, an anomaly, an A/B test, a budget, an alert channel, an
// API key, a member, an invitation...), written by the owner as the engine
// or a DBA would, or through the product's own handlers. And the one
// snapshot of a tenant: every table with a tenant_id column (found in the
// catalog, so a new table is covered), as the md5 of its rows in order.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { vi } from 'vitest';
import { newSecret } from '../../lib/auth/link-token';
import type { Db } from '../../lib/db/pool';
import { AB_TEST_NOT_FOUND, NOTHING_SAVED } from '../../lib/abtests/mutations';
import { addDays } from '../../lib/abtests/schema';
import { CHANNEL_NOT_FOUND } from '../../lib/alerts/mutations';
import { ANOMALY_NOT_FOUND } from '../../lib/anomalies/mutations';
import { BUDGET_NOT_FOUND } from '../../lib/budgets/mutations';
import { API_KEY_NOT_FOUND, generateApiKey } from '../../lib/ingest/api-keys';
import { INVITATION_NOT_OPEN, MEMBER_NOT_FOUND } from '../../lib/members/mutations';
import { RECOMMENDATION_NOT_FOUND } from '../../lib/recommendations/mutations';
import { runTenantAction } from '../../lib/request/action-core';
import type { ActionResult } from '../../lib/request/result';
import { tenantActionSpec } from '../../lib/request/registry';
import { platformSettings, STALE } from '../../lib/settings/platform-config';
import type { Role } from '../../lib/tenancy/roles';
import { insertAnomaly } from '../anomalies/fixtures';
import { rolledBackAsApp } from '../helpers/app-db';
import { inTenant } from '../helpers/db';
import { factories, type CreatedUser } from '../helpers/factories';

export const PASSWORD = 'security suite password';
export const { createUser, addMembership, createTeam } = factories({ password: PASSWORD, emailPrefix: 'sec', domain: 'security.test', namePrefix: 'Member' });

/** Without SMTP_URL the mail of invitations, resets and alerts goes to the outbox and the server log: keep it out of the test output. */
export function quietMail(): () => void {
  const log = console.log.bind(console);
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[mail] ')) return;
    log(...args);
  });
  return () => spy.mockRestore();
}

/** The token of the reset link in the last password-reset mail to `email` (null: no such mail). */
export async function resetToken(owner: pg.Pool, email: string): Promise<string | null> {
  const r = await owner.query<{ body_text: string }>(`select body_text from saas.mail_outbox where to_address = $1 and kind = 'password_reset' order by id desc limit 1`, [email]);
  return /\/reset-password\/([0-9a-f-]{36}\.[A-Za-z0-9_-]{43})/.exec(r.rows[0]?.body_text ?? '')?.[1] ?? null;
}

// ---------------------------------------------------------------------------
// The snapshot
// ---------------------------------------------------------------------------

let tableList: Promise<string[]> | null = null;

/** Every table with a tenant_id column, schema-qualified, in name order. */
export function tenantTables(owner: pg.Pool): Promise<string[]> {
  tableList ??= owner
    .query<{ t: string }>(
      `select format('%I.%I', n.nspname, c.relname) as t
         from pg_attribute a
         join pg_class c on c.oid = a.attrelid
         join pg_namespace n on n.oid = c.relnamespace
        where a.attname = 'tenant_id' and not a.attisdropped and c.relkind in ('r', 'p')
          and n.nspname not in ('pg_catalog', 'information_schema')
        order by 1`,
    )
    .then((r) => r.rows.map((x) => x.t));
  return tableList;
}

export type Snapshot = Record<string, string>;

const bypass = new WeakMap<pg.Pool, Promise<boolean>>();
function bypassesRls(owner: pg.Pool): Promise<boolean> {
  let b = bypass.get(owner);
  if (!b) {
    b = owner.query<{ b: boolean }>('select rolsuper or rolbypassrls as b from pg_roles where rolname = current_user').then((r) => r.rows[0]?.b === true);
    bypass.set(owner, b);
  }
  return b;
}

/** Each tenant table's rows of the tenant (and its saas.tenants row) as count and md5, read by the owner inside the tenant. */
export async function snapshot(owner: pg.Pool, tenantId: string): Promise<Snapshot> {
  const tables = await tenantTables(owner);
  const parts = [
    `select 'saas.tenants' as t, count(*)::text || ':' || coalesce(md5(string_agg(r::text, E'\\n' order by r::text)), '') as h from saas.tenants r where r.id = $1`,
    ...tables.map(
      (t) => `select '${t}', count(*)::text || ':' || coalesce(md5(string_agg(r::text, E'\\n' order by r::text)), '') from ${t} r where r.tenant_id = $1`,
    ),
  ];
  // Prepared once per connection: the suites take thousands of snapshots. An owner that row-level security
  // binds (forced on the owner too) reads inside the tenant; one it does not bind reads in one round trip.
  const query = { name: 'tenant-snapshot', text: parts.join('\nunion all\n'), values: [tenantId] };
  const rows = (await bypassesRls(owner))
    ? (await owner.query<{ t: string; h: string }>(query)).rows
    : await inTenant(owner, tenantId, async (c) => (await c.query<{ t: string; h: string }>(query)).rows, false);
  return Object.fromEntries(rows.map((r) => [r.t, r.h]));
}

/** The tables whose rows differ between two snapshots (empty: nothing changed). */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  return Object.keys({ ...before, ...after })
    .filter((t) => before[t] !== after[t])
    .sort();
}

// ---------------------------------------------------------------------------
// A tenant and its objects
// ---------------------------------------------------------------------------

export interface Side {
  label: string;
  tenantId: string;
  admin: CreatedUser;
  buyer: CreatedUser;
  viewer: CreatedUser;
  /** The tenant's today and yesterday ('YYYY-MM-DD'), as the engine counts them. */
  today: string;
  yesterday: string;
}

/** A tenant with its three members, Meta settings, and a campaign with a week of delivery. */
export async function createSide(owner: pg.Pool, label: string): Promise<Side> {
  const team = await createTeam(owner, label);
  const t = team.tenantId;
  const days = await inTenant(owner, t, async (c) => {
    await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas, updated_at) values ($1, 'meta', 3, now() - interval '3 days')`, [t]);
    await c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
       select $1, 'meta', 'campaign', 'steady', ads_engine.tenant_yesterday($1) - g, 'Steady', 100, 20000, 200, 10, 300
       from generate_series(0, 6) g`,
      [t],
    );
    const r = await c.query<{ today: string; yesterday: string }>(
      `select to_char(ads_engine.tenant_yesterday($1) + 1, 'YYYY-MM-DD') as today, to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as yesterday`,
      [t],
    );
    return r.rows[0]!;
  });
  return { label, tenantId: t, admin: team.admin, buyer: team.buyer, viewer: team.viewer, ...days };
}

const tag = () => randomUUID().slice(0, 8);

/** A setup step through a product handler, as the side's member; its failure is the fixture's, so it throws. */
async function through<T>(db: Db, action: unknown, userId: string, input: Record<string, unknown>): Promise<T | undefined> {
  const spec = tenantActionSpec(action);
  if (!spec) throw new Error('not a tenant action');
  const r = (await runTenantAction({ ...spec, userId, preferredTenantId: null, input, db })) as ActionResult<T>;
  if (!r.ok) throw new Error(`setup step refused: ${JSON.stringify(r)}`);
  return r.data;
}

const versionOf = `to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Makers of one fresh object in a side's tenant, each returning what an action's input names it by. */
export function makers(owner: pg.Pool, db: Db) {
  const q = async <T extends pg.QueryResultRow>(s: Side, text: string, values: unknown[]) =>
    inTenant(owner, s.tenantId, async (c) => (await c.query<T>(text, values)).rows[0]!);

  return {
    /** A pending recommendation of a type the product marks applied (no budget involved). */
    recommendation: (s: Side, type = 'creative') =>
      q<{ id: string }>(
        s,
        `insert into ads.optimization_recommendations
           (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description, priority, confidence_score)
         values ($1, 'meta', 'campaign', $2, $2, $2, $3, 'Refresh the creative', 'medium', 0.8) returning id`,
        [s.tenantId, `rec-${tag()}`, type],
      ).then((r) => r.id),

    /** A change the daily loop applied by itself an hour ago (budget 100 -> 120), still undoable. */
    autoApplied: (s: Side) =>
      inTenant(owner, s.tenantId, async (c) => {
        const campaign = `auto-${tag()}`;
        const rec = await c.query<{ id: string }>(
          `insert into ads.optimization_recommendations
             (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description, current_value, recommended_value, status, applied_at)
           values ($1, 'meta', 'campaign', $2, $2, $2, 'budget_increase', 'Raise the budget', 100, 120, 'applied', now() - interval '1 hour') returning id`,
          [s.tenantId, campaign],
        );
        const bud = await c.query<{ id: string }>(
          `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, 'meta', $2, $2, 120) returning id`,
          [s.tenantId, campaign],
        );
        await c.query(
          `insert into ads_engine.auto_applications (tenant_id, recommendation_id, recommendation_type, platform, campaign_id, budget_id, applied_at, undo_until, before, after)
           values ($1, $2, 'budget_increase', 'meta', $3, $4, now() - interval '1 hour', now() + interval '23 hours',
                   '{"daily_budget": 100, "status": "active"}', '{"daily_budget": 120, "status": "active"}')`,
          [s.tenantId, rec.rows[0]!.id, campaign, bud.rows[0]!.id],
        );
        return rec.rows[0]!.id;
      }),

    /** An active anomaly of yesterday. */
    anomaly: (s: Side) => insertAnomaly(owner, s.tenantId, { entity: `anom-${tag()}`, day: s.yesterday }),

    /** The fields of a new A/B test whose variants were measured elsewhere (no data needed), as the form posts them. */
    abTestFields: (s: Side): Record<string, string> => {
      const totals = (arm: 'a' | 'b') => ({
        [`${arm}_impressions`]: '10000',
        [`${arm}_clicks`]: '400',
        [`${arm}_conversions`]: arm === 'a' ? '20' : '30',
        [`${arm}_spend`]: '500',
        [`${arm}_conversion_value`]: '2000',
      });
      return {
        name: `Headline ${tag()}`,
        type: 'creative',
        hypothesis: 'A shorter headline converts better.',
        platform: 'meta',
        campaign: '',
        variantA: 'Long headline',
        variantB: 'Short headline',
        sourceA: 'entered',
        sourceB: 'entered',
        ...totals('a'),
        ...totals('b'),
        metric: 'conversion_rate',
        shareB: '50',
        allocationUnit: 'spend',
        startDate: '',
        endDate: addDays(s.today, 28),
        mde: '10',
      };
    },

    /** A draft A/B test made through the product's create, with the version its edit form carries. */
    async abDraft(s: Side, action: unknown): Promise<{ id: string; version: string; fields: Record<string, string> }> {
      const fields = this.abTestFields(s);
      const saved = await through<{ id: string; version: string }>(db, action, s.buyer.id, fields);
      return { id: saved!.id, version: saved!.version, fields };
    },

    /** A budget allocation of 100 a day with an engine recommendation of 150, and its version. */
    budget: (s: Side) =>
      q<{ id: string; version: string }>(
        s,
        `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget, recommended_budget)
         values ($1, 'meta', $2, $2, 100, 150) returning id, ${versionOf} as version`,
        [s.tenantId, `bud-${tag()}`],
      ),

    /** A campaign that delivered yesterday and has no allocation. */
    freshCampaign: (s: Side) =>
      q<{ id: string }>(
        s,
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
         values ($1, 'meta', 'campaign', $2, $3::date, $2, 80, 8000, 90, 4, 160) returning platform_id as id`,
        [s.tenantId, `fresh-${tag()}`, s.yesterday],
      ).then((r) => r.id),

    /** The version token of a platform's settings as the settings page hands it to its form. */
    settingsToken: async (s: Side, platform: string) => {
      const page = await rolledBackAsApp(db, s.tenantId, (trx) => platformSettings(trx, s.tenantId));
      return page.platforms.find((p) => p.platform === platform)!.token;
    },

    /** An alert channel, enabled, made as the owner (a webhook's URL is never called by these suites). */
    channel: (s: Side, kind: 'email' | 'webhook' = 'email') =>
      q<{ id: string }>(
        s,
        `insert into ads_engine.alert_channels (tenant_id, name, kind, enabled, webhook_url, email_addresses, severities, anomaly_types, mode, created_by, updated_by)
         values ($1, $2, $3, true, $4, $5::text[], '{low,medium,high,critical}', '{spike,drop,tracking_loss,trend_change,outlier}', 'immediate', $6, $6)
         returning id`,
        [
          s.tenantId,
          `Channel ${tag()}`,
          kind,
          kind === 'webhook' ? `https://hooks.example.com/${tag()}` : null,
          kind === 'email' ? [`alerts-${tag()}@security.test`] : [],
          s.admin.id,
        ],
      ).then((r) => r.id),

    /** An active API key of the tenant: its id and the key itself. */
    apiKey: async (s: Side) => {
      const k = generateApiKey();
      const row = await q<{ id: string }>(
        s,
        `insert into saas.api_keys (tenant_id, name, key_prefix, key_hash, role, created_by) values ($1, $2, $3, $4, 'buyer', $5) returning id`,
        [s.tenantId, `Loader ${tag()}`, k.prefix, k.hash, s.admin.id],
      );
      return { id: row.id, key: k.key };
    },

    /** One more member of the tenant (a viewer unless told), with an account of their own. */
    member: async (s: Side, role: 'viewer' | 'buyer' | 'admin' = 'viewer') => {
      const u = await createUser(owner);
      await addMembership(owner, s.tenantId, u.id, role);
      return u;
    },

    /** An open invitation of the tenant, with the link its mail would carry. */
    invitation: async (s: Side, email = `invitee-${tag()}@security.test`) => {
      const { secret, hash } = newSecret();
      const row = await q<{ id: string }>(
        s,
        `insert into saas.invitations (tenant_id, email, role, token_hash, invited_by, expires_at) values ($1, $2, 'viewer', $3, $4, now() + interval '3 days') returning id`,
        [s.tenantId, email, hash, s.admin.id],
      );
      return { id: row.id, email, token: `${row.id}.${secret}` };
    },
  };
}

export type Makers = ReturnType<typeof makers>;

// ---------------------------------------------------------------------------
// The server actions
// ---------------------------------------------------------------------------

export const ROOT = path.resolve(import.meta.dirname, '../..');

export type Input = Record<string, unknown>;
export type Action = (previous: null, input: FormData | Input) => Promise<ActionResult<unknown>>;

/** A form as the browser posts it: a list becomes repeated fields. */
export function toForm(input: Input): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(input)) {
    for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && x !== null) f.append(k, String(x));
  }
  return f;
}

/** An exported server action, by `module#export`. */
export async function exported(action: string): Promise<Action> {
  const [file, name] = action.split('#') as [string, string];
  const mod = (await import(/* @vite-ignore */ path.join(ROOT, file))) as Record<string, unknown>;
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`${action} is not exported`);
  return fn as Action;
}

let counter = 0;
/** A number never handed out before in this process (names, amounts that must differ from the last call's). */
export const next = () => ++counter;

export interface TenantCase {
  /** The module and its export: `lib/x/actions.ts#name`. */
  action: string;
  /** The lowest role that may call it. */
  minRole: Role;
  /** A valid input naming fresh objects of the side's tenant. */
  input: (s: Side) => Promise<Input>;
  /** What the call changes, read by the owner. */
  probe: (s: Side, input: Input) => Promise<unknown>;
  /** What the probe reads after a successful call (when it can be known before). */
  want?: (input: Input) => unknown;
  /** B's input sent by A's member: refused with this message, or (an input that names nothing of a tenant) run in A only. */
  foreign: RegExp | 'runs in the caller tenant';
}

const notFound = (message: string) => new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

const mapping = (n: number) => ({
  platform: 'meta',
  map_day: `Day ${n}`,
  map_campaign_id: 'Campaign ID',
  map_campaign_name: 'Campaign name',
  map_spend: `Spend ${n}`,
  map_impressions: 'Impressions',
  map_clicks: 'Clicks',
  map_conversions: 'Conversions',
  map_conversion_value: 'Value',
});

const emailChannelEdit = (id: string) => ({
  id,
  name: `Buyers on call ${next()}`,
  kind: 'email',
  addresses: 'oncall@security.test',
  severities: ['high', 'critical'],
  types: ['spike', 'drop'],
  mode: 'immediate',
});

/** A count of the tenant's rows ($1) of a table, as `v`. */
export const count = (table: string, where: string) => `select count(*)::int as v from ${table} where tenant_id = $1 and ${where}`;

/** The value `v` of the first row of a query ($1: the tenant) run by the owner inside the side's tenant. */
export const reader =
  (owner: pg.Pool) =>
  (s: Side, text: string, values: unknown[] = []): Promise<unknown> =>
    inTenant(owner, s.tenantId, async (c) => (await c.query<{ v: unknown }>(text, [s.tenantId, ...values])).rows[0]?.v ?? null, false);

/** One row per tenant action: its export, its role, a valid input for a side, what it changes, and what B's input does in A. */
export function tenantCases(owner: pg.Pool, make: Makers): TenantCase[] {
  const read = reader(owner);
  const settingsForm = async (s: Side, maxCpa: number) => ({
    platform: 'meta',
    expected: await make.settingsToken(s, 'meta'),
    max_cpa: String(maxCpa),
    target_roas: '3',
    auto_pause_threshold: '2',
    min_spend_for_decision: '50',
    anomaly_sensitivity: '3.5',
    optimization_frequency: 'daily',
    recommendations_enabled: 'on',
    anomaly_detection_enabled: 'on',
  });
  const launchForm = async (s: Side) => ({
    platform: 'meta',
    campaignId: `launch-${next()}`,
    campaignName: 'Autumn launch',
    dailyBudget: '120',
    strategy: 'performance',
    status: 'active',
    settingsToken: await make.settingsToken(s, 'meta'),
    abtest: '',
    anomaly: 'on',
  });
  return [
  {
    action: 'lib/recommendations/actions.ts#decideRecommendationAction',
    minRole: 'buyer',
    input: async (s) => ({ id: await make.recommendation(s), decision: 'approve' }),
    probe: (s, i) => read(s, 'select status as v from ads.optimization_recommendations where tenant_id = $1 and id = $2', [i.id]),
    want: () => 'applied',
    foreign: notFound(RECOMMENDATION_NOT_FOUND),
  },
  {
    action: 'lib/recommendations/actions.ts#decideManyAction',
    minRole: 'buyer',
    input: async (s) => ({ ids: [await make.recommendation(s), await make.recommendation(s, 'timing')], decision: 'dismiss', reason: 'not_relevant' }),
    probe: (s, i) => read(s, 'select array_agg(status order by status) as v from ads.optimization_recommendations where tenant_id = $1 and id = any($2::uuid[])', [i.ids]),
    want: () => ['dismissed', 'dismissed'],
    foreign: /^Nothing was dismissed: 2 of 2 cannot be\. .*That recommendation was not found in this tenant\.$/,
  },
  {
    action: 'lib/recommendations/actions.ts#undoAutoApplyAction',
    minRole: 'buyer',
    input: async (s) => ({ id: await make.autoApplied(s) }),
    probe: (s, i) => read(s, 'select status as v from ads.optimization_recommendations where tenant_id = $1 and id = $2', [i.id]),
    want: () => 'dismissed',
    foreign: notFound('That automatic change was not found in this tenant.'),
  },
  {
    action: 'lib/recommendations/actions.ts#saveAutoApplyAction',
    minRole: 'buyer',
    input: async () => ({
      platform: 'meta',
      budget_increase_enabled: 'on',
      budget_increase_step: String(10 + (next() % 80)),
      budget_decrease_enabled: 'on',
      budget_decrease_step: '',
    }),
    probe: (s) => read(s, `select max_step::float8 as v from ads_engine.auto_apply_policies where tenant_id = $1 and platform = 'meta' and recommendation_type = 'budget_increase'`),
    want: (i) => Number(i.budget_increase_step) / 100,
    foreign: 'runs in the caller tenant',
  },
  {
    action: 'lib/anomalies/actions.ts#moveAnomaliesAction',
    minRole: 'buyer',
    input: async (s) => ({ ids: await make.anomaly(s), move: 'acknowledge', expected: 'active' }),
    probe: (s, i) => read(s, 'select status as v from ads.anomalies where tenant_id = $1 and id = $2', [i.ids]),
    want: () => 'investigating',
    foreign: notFound(ANOMALY_NOT_FOUND),
  },
  {
    action: 'lib/abtests/actions.ts#createAbTestAction',
    minRole: 'buyer',
    // On a campaign of the tenant: B's campaign is not one of A's.
    input: async (s) => ({ ...make.abTestFields(s), campaign: await make.freshCampaign(s) }),
    probe: (s, i) => read(s, count('ads.ab_tests', 'test_name = $2'), [i.name]),
    want: () => 1,
    foreign: notFound(NOTHING_SAVED),
  },
  {
    action: 'lib/abtests/actions.ts#updateAbTestAction',
    minRole: 'buyer',
    input: async (s) => {
      const d = await make.abDraft(s, await exported('lib/abtests/actions.ts#createAbTestAction'));
      return { ...d.fields, id: d.id, expectedUpdatedAt: d.version, name: `Renamed ${next()}` };
    },
    probe: (s, i) => read(s, 'select test_name as v from ads.ab_tests where tenant_id = $1 and id = $2', [i.id]),
    want: (i) => i.name,
    foreign: notFound(AB_TEST_NOT_FOUND),
  },
  {
    action: 'lib/abtests/actions.ts#moveAbTestAction',
    minRole: 'buyer',
    input: async (s) => ({ id: (await make.abDraft(s, await exported('lib/abtests/actions.ts#createAbTestAction'))).id, move: 'cancel' }),
    probe: (s, i) => read(s, 'select status as v from ads.ab_tests where tenant_id = $1 and id = $2', [i.id]),
    want: () => 'cancelled',
    foreign: notFound(AB_TEST_NOT_FOUND),
  },
  {
    action: 'lib/settings/actions.ts#savePlatformConfigAction',
    minRole: 'buyer',
    // The version token of B's settings is not the version of A's.
    input: (s) => settingsForm(s, 20 + next()),
    probe: (s) => read(s, `select max_cpa::float8 as v from ads.platform_configs where tenant_id = $1 and platform = 'meta'`),
    want: (i) => Number(i.max_cpa),
    foreign: notFound(STALE('meta')),
  },
  {
    action: 'lib/ingest/mapping-actions.ts#saveMappingAction',
    minRole: 'buyer',
    input: async () => mapping(next()),
    probe: (s) => read(s, `select mapping ->> 'spend' as v from ads_engine.import_mappings where tenant_id = $1 and platform = 'meta'`),
    want: (i) => i.map_spend,
    foreign: 'runs in the caller tenant',
  },
  {
    action: 'lib/ingest/api-key-actions.ts#createApiKeyAction',
    minRole: 'admin',
    input: async () => ({ name: `Nightly export ${next()}` }),
    probe: (s, i) => read(s, count('saas.api_keys', 'name = $2'), [i.name]),
    want: () => 1,
    foreign: 'runs in the caller tenant',
  },
  {
    action: 'lib/ingest/api-key-actions.ts#revokeApiKeyAction',
    minRole: 'admin',
    input: async (s) => ({ id: (await make.apiKey(s)).id, confirm: 'revoke' }),
    probe: (s, i) => read(s, 'select revoked_at is not null as v from saas.api_keys where tenant_id = $1 and id = $2', [i.id]),
    want: () => true,
    foreign: notFound(API_KEY_NOT_FOUND),
  },
  {
    action: 'lib/members/actions.ts#inviteMemberAction',
    minRole: 'admin',
    input: async (s) => ({ email: `guest-${next()}@${s.label.toLowerCase().replace(/\W+/g, '-')}.test`, role: 'buyer' }),
    probe: (s, i) => read(s, count('saas.invitations', 'email = $2 and accepted_at is null and revoked_at is null'), [i.email]),
    want: () => 1,
    foreign: 'runs in the caller tenant',
  },
  {
    action: 'lib/members/actions.ts#resendInvitationAction',
    minRole: 'admin',
    input: async (s) => ({ invitationId: (await make.invitation(s)).id }),
    probe: (s, i) => read(s, 'select md5(token_hash::text) as v from saas.invitations where tenant_id = $1 and id = $2', [i.invitationId]),
    foreign: notFound(INVITATION_NOT_OPEN),
  },
  {
    action: 'lib/members/actions.ts#revokeInvitationAction',
    minRole: 'admin',
    input: async (s) => ({ invitationId: (await make.invitation(s)).id }),
    probe: (s, i) => read(s, 'select revoked_at is not null as v from saas.invitations where tenant_id = $1 and id = $2', [i.invitationId]),
    want: () => true,
    foreign: notFound(INVITATION_NOT_OPEN),
  },
  {
    action: 'lib/members/actions.ts#changeMemberRoleAction',
    minRole: 'admin',
    input: async (s) => ({ userId: (await make.member(s)).id, role: 'buyer' }),
    probe: (s, i) => read(s, 'select role::text as v from saas.memberships where tenant_id = $1 and user_id = $2', [i.userId]),
    want: () => 'buyer',
    foreign: notFound(MEMBER_NOT_FOUND),
  },
  {
    action: 'lib/members/actions.ts#removeMemberAction',
    minRole: 'admin',
    input: async (s) => ({ userId: (await make.member(s)).id }),
    probe: (s, i) => read(s, count('saas.memberships', 'user_id = $2'), [i.userId]),
    want: () => 0,
    foreign: notFound(MEMBER_NOT_FOUND),
  },
  {
    action: 'lib/budgets/actions.ts#updateBudgetAction',
    minRole: 'buyer',
    input: async (s) => {
      const b = await make.budget(s);
      return { id: b.id, version: b.version, dailyBudget: '130', strategy: 'performance', status: 'active' };
    },
    probe: (s, i) => read(s, 'select daily_budget::float8 as v from ads.budget_allocation where tenant_id = $1 and id = $2', [i.id]),
    want: () => 130,
    foreign: notFound(BUDGET_NOT_FOUND),
  },
  {
    action: 'lib/budgets/actions.ts#acceptRecommendedAction',
    minRole: 'buyer',
    input: async (s) => {
      const b = await make.budget(s);
      return { id: b.id, version: b.version, recommended: '150' };
    },
    probe: (s, i) => read(s, 'select daily_budget::float8 as v from ads.budget_allocation where tenant_id = $1 and id = $2', [i.id]),
    want: () => 150,
    foreign: notFound(BUDGET_NOT_FOUND),
  },
  {
    action: 'lib/budgets/actions.ts#createBudgetAction',
    minRole: 'buyer',
    // A campaign that delivered in B only has no delivery in A: nothing to allocate.
    input: async (s) => ({ platform: 'meta', campaignId: await make.freshCampaign(s), dailyBudget: '90' }),
    probe: (s, i) => read(s, count('ads.budget_allocation', `platform = 'meta' and campaign_id = $2`), [i.campaignId]),
    want: () => 1,
    foreign: /^Campaign fresh-[0-9a-f]{8} on Meta has no campaign-level delivery in the last 30 days: nothing to allocate a budget to\.$/,
  },
  {
    action: 'lib/budgets/launch-actions.ts#launchCampaignAction',
    minRole: 'buyer',
    // B's settings version is not A's: the launch is refused before anything is written.
    input: launchForm,
    probe: (s, i) => read(s, count('ads.budget_allocation', `platform = 'meta' and campaign_id = $2`), [i.campaignId]),
    want: () => 1,
    foreign: /^Nothing was launched: 1 problem to fix \(step 2, Platform settings\)\./,
  },
  {
    action: 'lib/alerts/actions.ts#saveAlertChannelAction',
    minRole: 'admin',
    input: async (s) => emailChannelEdit(await make.channel(s)),
    probe: (s, i) => read(s, 'select name as v from ads_engine.alert_channels where tenant_id = $1 and id = $2', [i.id]),
    want: (i) => i.name,
    foreign: notFound(CHANNEL_NOT_FOUND),
  },
  {
    action: 'lib/alerts/actions.ts#setAlertChannelEnabledAction',
    minRole: 'admin',
    input: async (s) => ({ id: await make.channel(s), enabled: 'false' }),
    probe: (s, i) => read(s, 'select enabled as v from ads_engine.alert_channels where tenant_id = $1 and id = $2', [i.id]),
    want: () => false,
    foreign: notFound(CHANNEL_NOT_FOUND),
  },
  {
    action: 'lib/alerts/actions.ts#deleteAlertChannelAction',
    minRole: 'admin',
    input: async (s) => ({ id: await make.channel(s) }),
    probe: (s, i) => read(s, count('ads_engine.alert_channels', 'id = $2'), [i.id]),
    want: () => 0,
    foreign: notFound(CHANNEL_NOT_FOUND),
  },
  {
    action: 'lib/alerts/actions.ts#rotateWebhookSecretAction',
    minRole: 'admin',
    input: async (s) => ({ id: await make.channel(s, 'webhook') }),
    probe: (s, i) => read(s, 'select md5(secret) as v from ads_engine.alert_webhook_secrets where tenant_id = $1 and channel_id = $2', [i.id]),
    foreign: notFound(CHANNEL_NOT_FOUND),
  },
  {
    action: 'lib/alerts/actions.ts#sendTestAlertAction',
    minRole: 'admin',
    input: async (s) => ({ id: await make.channel(s) }),
    probe: (s, i) => read(s, count('ads_engine.alert_deliveries', `channel_id = $2 and kind = 'test'`), [i.id]),
    want: () => 1,
    foreign: notFound(CHANNEL_NOT_FOUND),
  },
  {
    action: 'lib/engine/actions.ts#runOptimizerAction',
    minRole: 'buyer',
    input: async () => ({}),
    probe: (s) => read(s, count('ads_engine.optimizer_runs', 'true')),
    foreign: 'runs in the caller tenant',
  },
];
}

/** The hand-written server actions (not tenantActions), each covered by its own describe below. */
export const HAND_WRITTEN = [
  'lib/tenancy/actions.ts#switchTenantAction',
  'lib/account/actions.ts#changePasswordAction',
  'lib/invitations/actions.ts#acceptInvitationWithPasswordAction',
  'lib/invitations/actions.ts#acceptInvitationAction',
  'lib/invitations/actions.ts#declineInvitationAction',
  'lib/invitations/actions.ts#requestPasswordResetAction',
  'lib/invitations/actions.ts#completePasswordResetAction',
];
