// The engine's contract in the catalogue: the ads schema lists exactly the
// guide's four functions, every function is commented, runs as the invoker
// (but the scheduler's one), and the app role may execute it (but the
// scheduler's one, which lists every tenant).
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerPool } from '../helpers/db';

let owner: pg.Pool;

beforeAll(() => {
  owner = ownerPool();
});

describe('engine functions in the catalogue', () => {
  it("the ads schema lists exactly the guide's four functions", async () => {
    const r = await owner.query(`SELECT routine_name FROM information_schema.routines WHERE routine_schema = 'ads' ORDER BY routine_name`);
    expect(r.rows.map((x) => x.routine_name)).toEqual(['analyze_campaign_performance', 'compute_baselines', 'detect_anomalies', 'generate_recommendations']);
    const sig = await owner.query(
      `select p.proname, pg_get_function_identity_arguments(p.oid) as args, pg_get_function_result(p.oid) as result
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'ads' order by 1`,
    );
    expect(sig.rows).toEqual([
      {
        proname: 'analyze_campaign_performance',
        args: 'tenant_id uuid, campaign_id text, platform text, days integer',
        result:
          'TABLE(metric_name text, current_value numeric, baseline_value numeric, performance_rating text, recommendation text, priority ads.priority_level)',
      },
      { proname: 'compute_baselines', args: 'tenant_id uuid, platform text, level text, window_days integer', result: 'text' },
      { proname: 'detect_anomalies', args: 'tenant_id uuid', result: 'integer' },
      { proname: 'generate_recommendations', args: 'tenant_id uuid', result: 'integer' },
    ]);
  });

  // SECURITY DEFINER only where the app must do something it has no grant for: the scheduler's list of due
  // tenants, and the rollup trigger (loads of metrics_daily write a rollup the app may only read).
  const DEFINERS = [
    'ads_engine.alert_set_secret',
    'ads_engine.alert_signing_secret',
    'ads_engine.alert_tenants',
    'ads_engine.api_key_authenticate',
    'ads_engine.record_anomaly_moves',
    'ads_engine.record_auto_application',
    'ads_engine.set_auto_apply_policy',
    'ads_engine.tenants_due',
    'ads_engine.tg_metrics_platform_daily',
    'ads_engine.undo_auto_apply',
    // saas: what happens before a tenant is known (sign-in, links), the account's own password, the mail mark, the membership triggers.
    // Sign-in has no identity yet: saas.auth_params answers every email alike (the head of its hash up to the salt, never
    // the digest; a derived head for an email without a password), and saas.auth_check's proof is the hash itself (a row
    // only for the exact stored hash, which it never returns).
    'saas.auth_check',
    'saas.auth_params',
    'saas.invitation_accept_existing',
    'saas.invitation_accept_new',
    'saas.invitation_decline',
    'saas.invitation_join',
    'saas.invitation_lookup',
    'saas.invitation_open',
    'saas.login_attempt_begin',
    'saas.login_attempt_succeeded',
    'saas.login_forgive',
    'saas.mail_mark',
    // saas.user_id's enabled account only; the head of its hash, never the digest.
    'saas.own_password_params',
    'saas.password_reset_begin',
    'saas.password_reset_complete',
    'saas.password_reset_lookup',
    'saas.replace_own_password',
    // An identity (issuer, subject) is required: the email is marked verified only with it, now (the caller has
    // checked the provider's email_verified); sso_create makes a new account, sso_link only an unlinked one of that email.
    'saas.sso_create',
    'saas.sso_link',
    'saas.sso_lookup',
    'saas.tg_memberships_forget_pending',
    'saas.tg_memberships_keep_an_admin',
    'saas.user_memberships',
  ];
  it('every ads and ads_engine function has a comment, is executable by aegis_app but tenants_due, and only the listed ones are SECURITY DEFINER', async () => {
    const r = await owner.query(`
      select n.nspname || '.' || p.proname as name, p.prosecdef as definer, obj_description(p.oid, 'pg_proc') as comment,
             has_function_privilege('aegis_app', p.oid, 'EXECUTE') as app_can, p.proconfig as config, p.provolatile as volatility
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('ads', 'ads_engine') order by 1`);
    expect(r.rows.length).toBeGreaterThan(20);
    for (const f of r.rows) {
      expect(f.comment, `${f.name} has no COMMENT`).toBeTruthy();
      expect(f.app_can, `${f.name}: executable by aegis_app`).toBe(f.name !== 'ads_engine.tenants_due');
      expect(f.definer, `${f.name} security`).toBe(DEFINERS.includes(f.name));
      if (f.definer) expect(f.config, `${f.name} search_path`).toEqual(['search_path=pg_catalog, pg_temp']);
    }
    const due = r.rows.find((f) => f.name === 'ads_engine.tenants_due');
    expect(due.config).toEqual(['search_path=pg_catalog, pg_temp']);
    const who = await owner.query(
      `select has_function_privilege('public', 'ads_engine.tenants_due(timestamptz, boolean, interval)', 'EXECUTE') as public,
              has_function_privilege('aegis_app', 'ads_engine.tenants_due(timestamptz, boolean, interval)', 'EXECUTE') as app,
              has_function_privilege('aegis_owner', 'ads_engine.tenants_due(timestamptz, boolean, interval)', 'EXECUTE') as owner`,
    );
    expect(who.rows[0]).toEqual({ public: false, app: false, owner: true });
  });

  it('every SECURITY DEFINER function of ads, ads_engine, saas and aegis_deploy is listed, sets search_path pg_catalog, pg_temp, and is not for PUBLIC', async () => {
    const r = await owner.query(`
      select n.nspname || '.' || p.proname as name, p.proconfig as config, p.prorettype = 'trigger'::regtype as trigger,
             has_function_privilege('public', p.oid, 'EXECUTE') as public_can
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('ads', 'ads_engine', 'saas', 'aegis_deploy') and p.prosecdef order by 1`);
    expect(r.rows.map((f) => f.name).filter((name) => !DEFINERS.includes(name)), 'definers missing from DEFINERS').toEqual([]);
    expect(DEFINERS.filter((name) => !r.rows.some((f) => f.name === name)), 'DEFINERS entries that are no definer').toEqual([]);
    for (const f of r.rows) {
      expect(f.config, `${f.name} search_path`).toEqual(['search_path=pg_catalog, pg_temp']);
      // Any role that can connect could otherwise act with the owner's rights; a trigger function cannot be called directly.
      if (!f.trigger) expect(f.public_can, `${f.name}: executable by PUBLIC`).toBe(false);
    }
  });

  it('the deployment logs the functions phase', async () => {
    const r = await owner.query(`select status from public.deployment_log where phase = 'MEDIA_FUNCTIONS' order by id desc limit 1`);
    expect(r.rows).toEqual([{ status: 'success' }]);
  });
});
