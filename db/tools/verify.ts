// The guide's post-deployment validation, as a report: tables, functions,
// indexes, row-level security and the deployment log.
import pg from 'pg';

export const GUIDE_TABLES = [
  'ab_tests',
  'anomalies',
  'baselines',
  'budget_allocation',
  'campaign_performance',
  'metrics_daily',
  'optimization_recommendations',
  'performance_benchmarks',
  'platform_configs',
] as const;

export const GUIDE_FUNCTIONS = [
  'analyze_campaign_performance',
  'compute_baselines',
  'detect_anomalies',
  'generate_recommendations',
] as const;

export const GUIDE_INDEXES = [
  'idx_anomalies_active',
  'idx_campaign_perf_lookup',
  'idx_campaign_perf_tenant',
  'idx_metrics_daily_lookup',
  'idx_metrics_daily_platform',
  'idx_metrics_daily_tenant_day',
  'idx_metrics_optimization',
  'idx_recommendations_action',
] as const;

export const CORE_TABLES = ['tenants', 'users', 'memberships', 'audit_log', 'api_keys'] as const;

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function missing(expected: readonly string[], found: Set<string>): string[] {
  return expected.filter((e) => !found.has(e));
}

export async function verify(connectionString: string): Promise<Check[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  try {
    const names = async (q: string) => new Set((await client.query<{ n: string }>(q)).rows.map((r) => r.n));

    const tables = await names("select tablename as n from pg_tables where schemaname = 'ads'");
    const tMissing = missing(GUIDE_TABLES, tables);
    add('ads tables', tMissing.length === 0, tMissing.length ? `missing: ${tMissing.join(', ')}` : `${GUIDE_TABLES.length} guide tables present`);

    const core = await names("select tablename as n from pg_tables where schemaname = 'saas'");
    const cMissing = missing(CORE_TABLES, core);
    add('core tables', cMissing.length === 0, cMissing.length ? `missing: saas.${cMissing.join(', saas.')}` : 'saas core tables present');

    const fns = await names("select routine_name as n from information_schema.routines where routine_schema = 'ads'");
    const fMissing = missing(GUIDE_FUNCTIONS, fns);
    add('ads functions', fMissing.length === 0, fMissing.length ? `missing: ${fMissing.join(', ')}` : 'the four optimisation functions present');

    const idx = await names("select indexname as n from pg_indexes where schemaname = 'ads'");
    const iMissing = missing(GUIDE_INDEXES, idx);
    add('ads indexes', iMissing.length === 0, iMissing.length ? `missing: ${iMissing.join(', ')}` : `${idx.size} indexes, the guide's eight included`);

    const rls = await client.query<{ schema: string; table: string; enabled: boolean; forced: boolean; policies: number }>(`
      select n.nspname as schema, c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('ads', 'saas') and c.relkind in ('r', 'p')
      order by 1, 2`);
    const weak = rls.rows.filter((r) => !r.enabled || !r.forced || r.policies === 0).map((r) => `${r.schema}.${r.table}`);
    add('row-level security', weak.length === 0, weak.length ? `not enabled, not forced or without policy: ${weak.join(', ')}` : `enabled, forced and with a policy on ${rls.rowCount} tables`);

    const app = await client.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
      "select rolsuper, rolbypassrls from pg_roles where rolname = 'aegis_app'",
    );
    const appRole = app.rows[0];
    add(
      'app role',
      !!appRole && !appRole.rolsuper && !appRole.rolbypassrls,
      appRole ? (appRole.rolsuper || appRole.rolbypassrls ? 'aegis_app can bypass row-level security' : 'aegis_app is not superuser and not BYPASSRLS') : 'role aegis_app missing',
    );

    const log = await client.query<{ phase: string; status: string }>(
      "select phase, status from public.deployment_log where phase like 'MEDIA%' or phase like 'CORE%' order by id desc limit 200",
    );
    const media = log.rows.some((r) => r.phase === 'MEDIA_COMPLETE' && r.status === 'success');
    const coreDone = log.rows.some((r) => r.phase === 'CORE_COMPLETE' && r.status === 'success');
    add('deployment log', media && coreDone, `CORE_COMPLETE ${coreDone ? 'logged' : 'missing'}, MEDIA_COMPLETE ${media ? 'logged' : 'missing'}`);
  } catch (err) {
    add('connection', false, (err as Error).message);
  } finally {
    await client.end().catch(() => undefined);
  }
  return checks;
}

export function formatReport(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed ? `${failed} check(s) failed` : 'all checks passed');
  return lines.join('\n');
}
