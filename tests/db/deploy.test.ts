// Deploying the SQL files: from empty, again (idempotent, no data lost),
// atomically, in order, and through the app's migrator with checksums.
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dbDir, FORMER_CHECKSUMS, migrate, readSqlFile, sqlFiles } from '../../db/tools/migrate';
import { GUIDE_INDEXES, GUIDE_TABLES } from '../../db/tools/verify';
import { queryRows, runSql, scratchDatabase } from '../helpers/db';

const core = readSqlFile(path.join(dbDir, 'deploy.sql'));
const media = readSqlFile(path.join(dbDir, 'media_buying_deployment.sql'));
const TENANT = '12345678-1234-1234-1234-567812345678';

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of db/'s SQL (not the seed or the tools) to edit. */
function copyOfSql(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aegis-mig-'));
  tmpDirs.push(dir);
  cpSync(dbDir, dir, { recursive: true, filter: (src) => ![`${path.sep}seed`, `${path.sep}tools`].some((d) => src.startsWith(path.join(dbDir, d))) });
  return dir;
}

/** Everything a redeploy could change: relations, columns, constraints, policies, functions, grants. */
async function catalogSnapshot(url: string): Promise<string[]> {
  const rows = await queryRows<{ item: string }>(
    url,
    `select 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
            || ' acl=' || coalesce(c.relacl::text, '') || ' owner=' || pg_get_userbyid(c.relowner) as item
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('ads', 'saas', 'ads_engine')
     union all
     select 'col ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
       from information_schema.columns where table_schema in ('ads', 'saas')
     union all
     select 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
       from pg_constraint where connamespace in (select oid from pg_namespace where nspname in ('ads', 'saas'))
     union all
     select 'pol ' || polrelid::regclass::text || ' ' || polname || ' ' || coalesce(pg_get_expr(polqual, polrelid), '') || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '')
       from pg_policy
     union all
     select 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' ' || p.prosecdef || ' acl=' || coalesce(p.proacl::text, '')
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('ads', 'saas', 'ads_engine')
     union all
     select 'idx ' || schemaname || '.' || indexname || ' ' || indexdef from pg_indexes where schemaname in ('ads', 'saas')
     order by 1`,
  );
  return rows.map((r) => r.item);
}

describe('deploying with the SQL files, as psql -f does', () => {
  it('deploys on an empty database: the guide tables, indexes, policies and log rows', async () => {
    const url = await scratchDatabase('deploy');
    await runSql(url, core);
    await runSql(url, media);

    const tables = await queryRows<{ tablename: string }>(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'ads' ORDER BY tablename");
    expect(tables.map((t) => t.tablename)).toEqual([...GUIDE_TABLES]);

    const indexes = (await queryRows<{ indexname: string }>(url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'ads' ORDER BY indexname")).map(
      (r) => r.indexname,
    );
    expect(indexes.length).toBeGreaterThanOrEqual(8);
    for (const name of GUIDE_INDEXES) expect(indexes).toContain(name);

    const noRls = await queryRows(
      url,
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('ads', 'saas') and c.relkind = 'r'
         and (not c.relrowsecurity or not c.relforcerowsecurity or not exists (select 1 from pg_policy p where p.polrelid = c.oid))`,
    );
    expect(noRls).toEqual([]);

    const log = await queryRows<{ phase: string; status: string }>(
      url,
      "SELECT phase, status, message FROM public.deployment_log WHERE phase LIKE 'MEDIA%' OR phase LIKE '%BUDGET%'",
    );
    expect(log.map((r) => r.phase)).toContain('MEDIA_START');
    expect(log.map((r) => r.phase)).toContain('MEDIA_COMPLETE');
    expect(log.every((r) => r.status !== 'error')).toBe(true);

    // Every key of a tenant table includes tenant_id (Citus-ready). saas.users is global
    // (a reference table under Citus), so a foreign key to it need not.
    const keysWithoutTenant = await queryRows<{ key: string }>(
      url,
      `select con.conrelid::regclass::text || ' ' || con.conname as key
       from pg_constraint con join pg_namespace n on n.oid = con.connamespace
       where n.nspname in ('ads', 'saas') and con.contype in ('p', 'u', 'f')
         and con.conrelid::regclass::text not in ('saas.tenants', 'saas.users', 'ads.performance_benchmarks')
         and not (con.contype = 'f' and con.confrelid = 'saas.users'::regclass)
         and not exists (select 1 from pg_attribute a where a.attrelid = con.conrelid and a.attnum = any(con.conkey) and a.attname = 'tenant_id')`,
    );
    expect(keysWithoutTenant).toEqual([]);
    // Every secondary index of a tenant table leads with tenant_id.
    const indexesNotLeadingWithTenant = await queryRows<{ indexname: string }>(
      url,
      `select indexname from pg_indexes
       where schemaname = 'ads' and tablename <> 'performance_benchmarks' and indexdef not like '%(tenant_id%'`,
    );
    expect(indexesNotLeadingWithTenant).toEqual([]);
  });

  it('is idempotent: a second run of both files changes no object and loses no data', async () => {
    const url = await scratchDatabase('redeploy');
    await runSql(url, core);
    await runSql(url, media);
    await runSql(
      url,
      `begin;
       select set_config('saas.tenant_id', '${TENANT}', true);
       insert into saas.tenants (id, name) values ('${TENANT}', 'Guide tenant');
       insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value)
       values ('${TENANT}', 'meta', 'campaign', 'meta_campaign_123', current_date - 1, 150.50, 25000, 750, 25, 625.00);
       insert into ads.platform_configs (tenant_id, platform, max_cpa) values ('${TENANT}', 'meta', 40);
       commit;`,
    );
    const before = await catalogSnapshot(url);
    await runSql(url, core);
    await runSql(url, media);
    expect(await catalogSnapshot(url)).toEqual(before);
    const data = await queryRows(url, 'select platform_id, spend, roas from ads.metrics_daily');
    expect(data).toEqual([{ platform_id: 'meta_campaign_123', spend: '150.50', roas: '4.1528' }]);
    const cfg = await queryRows(url, 'select max_cpa from ads.platform_configs');
    expect(cfg).toEqual([{ max_cpa: '40.00' }]);
    const completes = await queryRows<{ n: number }>(url, "select count(*)::int as n from public.deployment_log where phase = 'MEDIA_COMPLETE'");
    expect(completes[0]!.n).toBe(2);
  });

  it('refuses the ads file before the core, and changes nothing', async () => {
    const url = await scratchDatabase('order');
    await expect(runSql(url, media)).rejects.toThrow(/run db\/deploy.sql first/);
    const schemas = await queryRows(url, "select nspname from pg_namespace where nspname in ('ads', 'saas')");
    expect(schemas).toEqual([]);
  });

  it('is atomic: a failure half-way leaves nothing behind', async () => {
    const url = await scratchDatabase('atomic');
    await runSql(url, core);
    // Break the last part it includes: everything before it, in this file and its other parts, must roll back.
    const dir = copyOfSql();
    const last = path.join(dir, 'media_buying', '120_grants.sql');
    writeFileSync(last, readSqlFile(last).replace('TO aegis_app;', 'TO aegis_no_such_role;'));
    const broken = readSqlFile(path.join(dir, 'media_buying_deployment.sql'));
    expect(broken).not.toEqual(media);
    await expect(runSql(url, broken)).rejects.toThrow();
    const left = await queryRows(url, "select nspname from pg_namespace where nspname = 'ads'");
    expect(left).toEqual([]);
    const log = await queryRows(url, "select phase from public.deployment_log where phase like 'MEDIA%'");
    expect(log).toEqual([]);
  });

  it('commits nothing when psql could not read one of its parts (psql reports it and goes on)', async () => {
    const url = await scratchDatabase('lostpart');
    await runSql(url, core);
    const dir = copyOfSql();
    const master = path.join(dir, 'media_buying_deployment.sql');
    const text = readSqlFile(master);
    // What psql sends when media_buying/070_baselines.sql is missing: the rest.
    writeFileSync(path.join(dir, 'media_buying', '070_baselines.sql'), '');
    const withoutPart = readSqlFile(master);
    expect(withoutPart.length).toBeLessThan(text.length);
    await expect(runSql(url, withoutPart)).rejects.toThrow(/media_buying\/070_baselines.sql did not run/);
    expect(await queryRows(url, "select nspname from pg_namespace where nspname = 'ads'")).toEqual([]);
  });

  it('keeps the tenant-isolation helper to the owner: its schema is not granted to the app role', async () => {
    const rows = await queryRows(
      inject('ownerUrl'),
      `select has_schema_privilege('aegis_app', 'aegis_deploy', 'USAGE') as schema_usage,
              has_function_privilege('aegis_app', 'aegis_deploy.isolate_by_tenant(regclass, name)', 'EXECUTE') as app_execute,
              has_function_privilege('public', 'aegis_deploy.isolate_by_tenant(regclass, name)', 'EXECUTE') as public_execute,
              pg_get_userbyid(p.proowner) as owner, p.proconfig as config
       from pg_proc p where p.oid = 'aegis_deploy.isolate_by_tenant(regclass, name)'::regprocedure`,
    );
    expect(rows).toEqual([{ schema_usage: false, app_execute: false, public_execute: false, owner: 'aegis_owner', config: ['search_path=pg_catalog, pg_temp'] }]);
  });
  it('turns JIT off for the app role: its connections plan without compiling', async () => {
    const [row] = await queryRows<{ jit: string }>(inject('appUrl'), "select current_setting('jit') as jit");
    expect(row).toEqual({ jit: 'off' });
    // The owner keeps the server's default: the setting is the app role's own.
    const settings = await queryRows(
      inject('ownerUrl'),
      "select s.setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = 'aegis_app' and s.setdatabase = 0",
    );
    expect(settings).toEqual([{ setconfig: ['jit=off'] }]);
  });
});

describe('the migrator (npm run db:migrate)', () => {
  it('applies the files in order once, records checksums, and a second run is a no-op', async () => {
    const url = await scratchDatabase('migrate');
    const first = await migrate(url);
    const expected = sqlFiles().map((f) => f.name);
    expect(first.applied).toEqual(expected);
    expect(first.applied.slice(0, 2)).toEqual(['deploy.sql', 'media_buying_deployment.sql']);
    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(expected);
    const recorded = await queryRows<{ name: string; checksum: string }>(url, 'select name, checksum from public.schema_migrations order by name');
    expect(new Map(recorded.map((r) => [r.name, r.checksum]))).toEqual(new Map(sqlFiles().map((f) => [f.name, f.checksum])));
  });

  it('re-applies a changed base file, applies a new numbered file, and refuses an edited applied one', async () => {
    const dir = copyOfSql();
    const url = await scratchDatabase('frozen');
    await migrate(url, () => undefined, dir);

    const extra = path.join(dir, 'migrations', '900_test_extra.sql');
    writeFileSync(extra, 'BEGIN;\nCREATE TABLE IF NOT EXISTS public.migration_probe (id int);\nCOMMIT;\n');
    writeFileSync(path.join(dir, 'deploy.sql'), `${core}\n-- a comment changes the checksum\n`);
    const r = await migrate(url, () => undefined, dir);
    expect(r.applied).toEqual(['deploy.sql', 'migrations/900_test_extra.sql']);
    expect(await queryRows(url, "select to_regclass('public.migration_probe')::text as t")).toEqual([{ t: 'migration_probe' }]);

    writeFileSync(extra, 'BEGIN;\nCREATE TABLE IF NOT EXISTS public.migration_probe2 (id int);\nCOMMIT;\n');
    await expect(migrate(url, () => undefined, dir)).rejects.toThrow(/900_test_extra.sql was changed after it was applied/);
    expect(await queryRows(url, "select to_regclass('public.migration_probe2') as t")).toEqual([{ t: null }]);
  });

  it('re-applies the master file when one of its parts changes', async () => {
    const dir = copyOfSql();
    const url = await scratchDatabase('part');
    await migrate(url, () => undefined, dir);
    const before = sqlFiles(dir).find((f) => f.name === 'media_buying_deployment.sql')!.checksum;
    appendFileSync(path.join(dir, 'media_buying', '070_baselines.sql'), '-- a comment in a part changes the checksum of its master\n');
    const after = sqlFiles(dir).find((f) => f.name === 'media_buying_deployment.sql')!.checksum;
    expect(after).not.toEqual(before);
    const r = await migrate(url, () => undefined, dir);
    expect(r.applied).toEqual(['media_buying_deployment.sql']);
    const recorded = await queryRows<{ checksum: string }>(url, "select checksum from public.schema_migrations where name = 'media_buying_deployment.sql'");
    expect(recorded).toEqual([{ checksum: after }]);
  });

  it("accepts 001_auth.sql's former checksum once (its functions moved to functions/auth.sql), and no other", async () => {
    const url = await scratchDatabase('former');
    await migrate(url);
    const [former] = FORMER_CHECKSUMS['migrations/001_auth.sql']!;
    // A database migrated before the move: the former 001 recorded, functions/auth.sql never applied.
    await runSql(
      url,
      `update public.schema_migrations set checksum = '${former}' where name = 'migrations/001_auth.sql';
       delete from public.schema_migrations where name = 'functions/auth.sql';`,
    );
    const lines: string[] = [];
    const r = await migrate(url, (l) => lines.push(l));
    expect(r.applied).toEqual(['functions/auth.sql']);
    expect(r.skipped).toContain('migrations/001_auth.sql');
    expect(lines.join('\n')).toMatch(/recording the current checksum of migrations\/001_auth.sql/);
    const current = sqlFiles().find((f) => f.name === 'migrations/001_auth.sql')!.checksum;
    const recorded = await queryRows(url, "select checksum from public.schema_migrations where name = 'migrations/001_auth.sql'");
    expect(recorded).toEqual([{ checksum: current }]);
    await runSql(url, "update public.schema_migrations set checksum = repeat('0', 64) where name = 'migrations/001_auth.sql'");
    await expect(migrate(url)).rejects.toThrow(/001_auth.sql was changed after it was applied/);
  });
});
