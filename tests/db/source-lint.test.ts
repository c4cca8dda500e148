// The source lint (scripts/lint-sql.ts): the tree has no session-level SET, no set_config(..., false) and, in the
// app's code, no Kysely SQL built from strings; and the scanner does catch each of them in planted code, while
// SET LOCAL, the SET of UPDATE or CREATE FUNCTION, typed fragments and prose pass.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFindings, scanSqlFile, scanTree, scanTypeScript, type Rule } from '../../scripts/lint-sql';

const root = path.resolve(__dirname, '..', '..');
const rulesOf = (code: string, dynamic = true) => scanTypeScript('planted.ts', code, dynamic).map((f) => f.rule);
const sqlRulesOf = (text: string) => scanSqlFile('planted.sql', text).map((f) => f.rule);

describe('the tree', () => {
  it('is clean', () => {
    const findings = scanTree(root);
    expect(formatFindings(findings)).toBe('');
  });
});

describe('TypeScript', () => {
  const bad: [string, string, Rule][] = [
    ['a session SET through pg', "await c.query('set search_path = public, pg_catalog');", 'session-set'],
    ['SET ROLE', 'await pool.query("SET ROLE aegis_owner");', 'session-set'],
    ['SET SESSION', "await c.query('set session statement_timeout = 0');", 'session-set'],
    ['a SET after another statement', "await c.query(\"begin; set work_mem = '1GB'; select 1\");", 'session-set'],
    ['SET TIME ZONE', "await c.query('set time zone utc');", 'session-set'],
    ['a SET in a Kysely template', 'await sql`set statement_timeout = ${ms}`.execute(db);', 'session-set'],
    ['a SET in a constant', "const PREPARE = 'set application_name = aegis';", 'session-set'],
    ['set_config(..., false)', "await sql`select set_config('saas.tenant_id', ${tenant}, false)`.execute(trx);", 'set-config-session'],
    ['set_config with a bound third argument', "await c.query(\"select set_config('saas.tenant_id', $1, $2)\", [t, false]);", 'set-config-session'],
    ['set_config with two arguments', "await c.query(\"select set_config('saas.tenant_id', $1)\", [t]);", 'set-config-session'],
    ['sql.raw', 'const q = sql`select ${sql.raw(column)} from ads.metrics_daily`;', 'dynamic-sql'],
    ['sql.ref', 'const at = sql.ref(`o.${column}`);', 'dynamic-sql'],
    ['sql.lit', 'const v = sql.lit(value);', 'dynamic-sql'],
    ['sql.id', 'const s = sql.id(schema, table);', 'dynamic-sql'],
    ['sql.table', 'const t = sql.table(name);', 'dynamic-sql'],
    ['sql.join of raw strings', "const cols = sql.join(['spend', 'clicks']);", 'dynamic-sql'],
  ];
  it.each(bad)('catches %s', (_label, code, rule) => {
    expect(rulesOf(code)).toEqual([rule]);
  });

  const good: [string, string][] = [
    ['SET LOCAL', "await c.query('set local role aegis_app');"],
    ['set_config(..., true)', "await sql`select set_config('saas.tenant_id', ${tenant}, true), set_config('saas.user_id', ${user ?? ''}, true)`.execute(trx);"],
    ['SET TRANSACTION', "await c.query('set transaction isolation level serializable');"],
    ['SET CONSTRAINTS', "await c.query('set constraints all deferred');"],
    ['the SET of an UPDATE', "await c.query('update saas.users set name = $1 where id = $2', [n, id]);"],
    ['the SET of an upsert', 'await sql`insert into t (k, v) values (1, 2) on conflict (k) do update set v = excluded.v`.execute(db);'],
    ['the SET of ALTER TABLE', "await c.query('alter table ads_engine.import_staging_load set (fillfactor = 90)');"],
    ['a SET clause of CREATE FUNCTION', "await c.query('create function f() returns int language sql set search_path = pg_catalog, pg_temp as $$ select 1 $$');"],
    ['prose', "const hint = 'Set DATABASE_URL to the aegis_app role; set it once.'; const label = 'Set my password';"],
    ['a set_config pattern in a regular expression', "const isTenant = (s: string) => /set_config\\('saas\\.tenant_id', \\$1, false\\)/.test(s);"],
    ['sql.join of fragments', 'const f = sql.join([sql`a`, sql`b`], sql`, `);'],
    ['typed references', "const q = db.selectFrom('ads.metrics_daily as m').select((eb) => eb.ref('m.spend'));"],
    ['a comment', "// c.query('set search_path = public') would leak to the next user of the connection\nconst x = 1;"],
  ];
  it.each(good)('lets %s pass', (_label, code) => {
    expect(rulesOf(code)).toEqual([]);
  });

  it('keeps the Kysely rule to the app code (bench and tools may build their own statements)', () => {
    expect(rulesOf('const q = sql.raw(text);', false)).toEqual([]);
    expect(rulesOf("await c.query('set search_path = public');", false)).toEqual(['session-set']);
  });

  it('names the file and line', () => {
    const [finding] = scanTypeScript('lib/planted.ts', "const a = 1;\n\nawait c.query('set role aegis_owner');\n", true);
    expect(finding).toMatchObject({ file: 'lib/planted.ts', line: 3, rule: 'session-set' });
    expect(formatFindings([finding!])).toMatch(/^lib\/planted\.ts:3: session-level SET/);
  });
});

describe('SQL files', () => {
  const bad: [string, string, Rule][] = [
    ['a session SET', 'SET search_path = public;', 'session-set'],
    ['a SET in a function body', 'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  SET search_path = public;\nEND\n$$;', 'session-set'],
    ['a SET after THEN', "DO $do$ BEGIN IF true THEN SET aegis.flag = 'on'; END IF; END $do$;", 'session-set'],
    ['a SET in dynamic SQL', "DO $$ BEGIN EXECUTE 'SET ROLE aegis_owner'; END $$;", 'session-set'],
    ['a SET built by format', "DO $$ BEGIN EXECUTE format('SET search_path = %I', 'public'); END $$;", 'session-set'],
    ['set_config(..., false) in a function', "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM set_config('saas.tenant_id', '', false);\nEND\n$$;", 'set-config-session'],
  ];
  it.each(bad)('catches %s', (_label, text, rule) => {
    expect(sqlRulesOf(text)).toEqual([rule]);
  });

  const good: [string, string][] = [
    ['SET LOCAL', 'SET LOCAL ROLE aegis_owner;\nSET LOCAL aegis.media_part_060_helpers = \'done\';'],
    ['a function header', 'CREATE OR REPLACE FUNCTION f() RETURNS int\nLANGUAGE sql IMMUTABLE\n-- fixed\nSET search_path = pg_catalog, pg_temp\nSET jit = off\nAS $$ SELECT 1 $$;'],
    ['ALTER FUNCTION ... SET', 'ALTER FUNCTION f() SET search_path = pg_catalog, pg_temp;'],
    ['UPDATE ... SET in a body', "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  UPDATE t SET a = 1;\n  PERFORM set_config('saas.tenant_id', '', true);\nEND\n$$;"],
    ['prose in a comment string', "COMMENT ON FUNCTION f() IS 'The budget, '\n  'set back as it was; SET x = 1 is only text here.';"],
    ['comments', '-- SET search_path = public;\n/* SET role x; /* nested */ SET y = 1; */\nSELECT 1;'],
  ];
  it.each(good)('lets %s pass', (_label, text) => {
    expect(sqlRulesOf(text)).toEqual([]);
  });

  it('names the line', () => {
    expect(scanSqlFile('db/planted.sql', 'BEGIN;\nSELECT 1;\nSET search_path = public;\nCOMMIT;\n')).toEqual([
      expect.objectContaining({ file: 'db/planted.sql', line: 3, rule: 'session-set' }),
    ]);
  });
});
