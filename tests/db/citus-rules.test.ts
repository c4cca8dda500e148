// The schema stays distributable by tenant with Citus (db/CITUS.md). The page
// is the one list of what goes where: its statements, the tables it keeps off
// the distribution, the cross-tenant look-ups and the triggers are read from
// it and held against the migrated catalog, with the rules Citus enforces
// when it distributes a table. Then the app's queries and the SQL functions'
// bodies must name the tenant of every distributed table they touch, so each
// can be routed to one node. Planted violations show each check bites.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/db/config';
import { createTenant, ownerPool, rollback } from '../helpers/db';
import { loadMetricLines } from '../helpers/metrics';

const DOC = path.join(projectRoot, 'db', 'CITUS.md');
const ANCHOR = 'ads.metrics_daily';
// Schemas that are not the product's: the system's, and the scheduler's queue (created by graphile-worker itself).
const FOREIGN_SCHEMAS = ['pg_catalog', 'information_schema', 'graphile_worker'];

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

interface Plan {
  /** Tables in the order the statements name them (reference and distributed). */
  order: string[];
  reference: Set<string>;
  distributed: Map<string, { column: string; colocateWith: string }>;
  functions: { signature: string; arg: string; colocateWith: string; forceDelegation: boolean }[];
  /** Tables without tenant_id: table -> placement (reference | coordinator). */
  withoutTenant: Map<string, string>;
  /** Tables with tenant_id kept off the distribution, or distributed without a primary key. */
  tenantExceptions: Map<string, string>;
  indexExceptions: Set<string>;
  crossTenantFunctions: Set<string>;
  /** `table function()`: what the triggers of each table run. */
  triggers: Set<string>;
}

/** The rows of the Markdown table under `### heading`, cells without backticks; each must give its reason. */
function tableRows(md: string, heading: string): string[][] {
  const lines = md.split('\n');
  const start = lines.indexOf(`### ${heading}`);
  if (start < 0) throw new Error(`db/CITUS.md has no section "### ${heading}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    rows.push(line.slice(1, -1).split('|').map((c) => c.trim().replace(/`/g, '')));
  }
  const [, ...body] = rows; // the header
  for (const r of body) if (r.length < 2 || !r[r.length - 1]) throw new Error(`db/CITUS.md, "${heading}": row ${r[0]} gives no reason`);
  return body;
}

function readPlan(md: string): Plan {
  const from = md.indexOf('## The statements');
  const block = /```sql\n([\s\S]*?)```/.exec(md.slice(from));
  if (from < 0 || !block) throw new Error('db/CITUS.md: no sql block under "## The statements"');
  const script = block[1]!.replace(/--[^\n]*/g, '');
  const plan: Plan = {
    order: [],
    reference: new Set(),
    distributed: new Map(),
    functions: [],
    withoutTenant: new Map(tableRows(md, 'Tables without tenant_id').map((r) => [r[0]!, r[1]!])),
    tenantExceptions: new Map(tableRows(md, 'Tables with tenant_id that are not distributed, or have no primary key').map((r) => [r[0]!, r[1]!])),
    indexExceptions: new Set(tableRows(md, 'Indexes that do not lead with tenant_id').map((r) => r[0]!)),
    crossTenantFunctions: new Set(tableRows(md, 'Functions that read several tenants').map((r) => r[0]!)),
    triggers: new Set(tableRows(md, 'Triggers on distributed and reference tables').flatMap((r) => r[0]!.split(/,\s*/).map((t) => `${t} ${r[1]}`))),
  };
  const calls = /create_reference_table\('([^']+)'\)|create_distributed_table\('([^']+)',\s*'([^']+)'(?:,\s*colocate_with\s*=>\s*'([^']+)')?\)|create_distributed_function\('([^']+)',\s*'([^']+)',\s*colocate_with\s*=>\s*'([^']+)'(?:,\s*force_delegation\s*=>\s*(true|false))?\)/g;
  for (const m of script.matchAll(calls)) {
    if (m[1]) {
      plan.reference.add(m[1]);
      plan.order.push(m[1]);
    } else if (m[2]) {
      plan.distributed.set(m[2], { column: m[3]!, colocateWith: m[4] ?? 'default' });
      plan.order.push(m[2]);
    } else {
      plan.functions.push({ signature: m[5]!, arg: m[6]!, colocateWith: m[7]!, forceDelegation: m[8] === 'true' });
    }
  }
  return plan;
}

// ---------------------------------------------------------------------------
// SQL text: every use of a distributed table compares its tenant_id
// ---------------------------------------------------------------------------

const NOT_AN_ALIAS = new Set(
  ('where join left right inner full cross natural on set using group order limit union returning values select and or ' +
    'lateral window having offset fetch for except intersect default as with when then else end from into loop').split(' '),
);
const esc = (s: string) => s.replace(/[.$]/g, '\\$&');

const TABLE_REF = /\b(from|join|update|using)\s+((?:ads|ads_engine|saas)\.[a-z_]+)\b(?!\s*\()(?:\s+(?:as\s+)?([a-z_][a-z0-9_]*))?/gi;

/**
 * What keeps one SQL text from being routed to one tenant: per statement, each use of a distributed table must
 * compare its tenant_id (`keyword table alias` otherwise), and at least one of those comparisons must be with
 * something other than a column of a table of the statement (a parameter, a variable, a function): joins on
 * tenant_id alone, or with saas.tenants, name no tenant.
 */
function untenantedSql(text: string, tables: ReadonlySet<string>): string[] {
  const clean = text
    .replace(/'(?:[^']|'')*'/g, "''") // string constants (messages) name no table
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
  const out: string[] = [];
  for (const statement of clean.split(';')) {
    const names = new Set<string>(); // every table's alias (or name) in the statement
    const uses = new Map<string, string[]>(); // distributed table's alias (or name) -> its uses
    for (const m of statement.matchAll(TABLE_REF)) {
      const table = m[2]!.toLowerCase();
      const alias = m[3] && !NOT_AN_ALIAS.has(m[3].toLowerCase()) ? m[3].toLowerCase() : '';
      for (const n of alias ? [alias] : [table, table.split('.')[1]!]) names.add(n);
      if (!tables.has(table)) continue;
      const key = alias || table;
      uses.set(key, [...(uses.get(key) ?? []), `${m[1]!.toLowerCase()} ${table}${alias ? ` ${alias}` : ''}`]);
    }
    if (uses.size === 0) continue;
    const isColumn = (operand: string | undefined) => !!operand && /^[a-z_]\w*\.[a-z_]\w*$/i.test(operand) && names.has(operand.split('.')[0]!.toLowerCase());
    let named = false;
    let missing = 0;
    for (const [key, list] of uses) {
      const qualifiers = key.includes('.') ? ['', `${esc(key)}\\.`, `${esc(key.split('.')[1]!)}\\.`] : [`${esc(key)}\\.`];
      const column = `(?:${qualifiers.join('|')})tenant_id`;
      const compared = new RegExp(`(?<![\\w.])${column}\\s*(?:=\\s*([\\w.$]*)|\\bin\\b)|([\\w.$]+)\\s*=\\s*${column}\\b|\\bin\\s*\\(\\s*${column}\\b`, 'gi');
      let found = 0;
      for (const c of statement.matchAll(compared)) {
        found++;
        if (!isColumn(c[1] ?? c[2])) named = true;
      }
      missing += Math.max(0, list.length - found);
      if (found < list.length) out.push(...list.slice(found).map((u) => `${u} without a tenant_id comparison`));
    }
    if (!named && missing === 0) out.push(`${[...uses.values()].flat().join(', ')} joined on tenant_id but compared with no tenant`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// TypeScript modules: Kysely chains and SQL texts
// ---------------------------------------------------------------------------

const CHAIN_STARTS = new Set(['selectFrom', 'updateTable', 'deleteFrom']);
const JOINS = new Set(['innerJoin', 'leftJoin', 'rightJoin', 'fullJoin', 'innerJoinLateral', 'leftJoinLateral']);

function literalText(n: ts.Node): string | null {
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  if (ts.isTemplateExpression(n)) return n.head.text + n.templateSpans.map((s) => ` $x ${s.literal.text}`).join('');
  return null;
}
const methodOf = (c: ts.CallExpression) => (ts.isPropertyAccessExpression(c.expression) ? c.expression.name.text : null);

/** The last call of the chain `call` starts (`trx.selectFrom(...).where(...).select(...)`). */
function chainEnd(call: ts.CallExpression): ts.CallExpression {
  let n = call;
  while (ts.isPropertyAccessExpression(n.parent) && n.parent.expression === n && ts.isCallExpression(n.parent.parent) && n.parent.parent.expression === n.parent) {
    n = n.parent.parent;
  }
  return n;
}

/** The calls of a chain from its start to `end`. */
function chainCalls(start: ts.CallExpression, end: ts.CallExpression): ts.CallExpression[] {
  const calls: ts.CallExpression[] = [];
  let n: ts.Node = end;
  while (ts.isCallExpression(n)) {
    calls.unshift(n);
    if (n === start || !ts.isPropertyAccessExpression(n.expression)) break;
    n = n.expression.expression;
  }
  return calls;
}

/** The query-builder call a chain of calls starts with (`eb.selectFrom(...)` of `eb.selectFrom(...).where(...)`), if any. */
function chainStart(call: ts.CallExpression): ts.CallExpression | null {
  let n: ts.Expression = call;
  while (ts.isCallExpression(n)) {
    if (CHAIN_STARTS.has(methodOf(n) ?? '')) return n;
    if (!ts.isPropertyAccessExpression(n.expression)) return null;
    n = n.expression.expression;
  }
  return null;
}

/** The literal texts under nodes, leaving out the chains of sub-queries (checked on their own). */
function textsUnder(nodes: readonly ts.Node[], self: ts.CallExpression): string {
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && chainStart(n) && chainStart(n) !== self) return;
    const t = literalText(n);
    if (t !== null) out.push(t);
    if (t === null || ts.isTemplateExpression(n)) ts.forEachChild(n, visit);
  };
  nodes.forEach(visit);
  return out.join('\n');
}

/** Whether the chain `start` begins sits inside another query-builder chain (a sub-query or a CTE of it). */
function isSubquery(start: ts.CallExpression): boolean {
  for (let p: ts.Node | undefined = chainEnd(start).parent; p; p = p.parent) {
    if (ts.isCallExpression(p) && chainStart(p) && chainStart(p) !== start) return true;
  }
  return false;
}

function tableOf(text: string): { table: string; alias: string } | null {
  const m = /^\s*([a-z_]+\.[a-z_]+)(?:\s+as\s+([a-z_][a-z0-9_]*))?\s*$/i.exec(text);
  return m ? { table: m[1]!.toLowerCase(), alias: (m[2] ?? '').toLowerCase() } : null;
}

/** Whether the texts name the tenant_id of `t` (by its alias, or bare / by its name when it has none). */
function namesTenant(texts: string, t: { table: string; alias: string }): boolean {
  const qualifiers = t.alias ? [`${esc(t.alias)}\\.`] : ['', `${esc(t.table)}\\.`, `${esc(t.table.split('.')[1]!)}\\.`];
  return new RegExp(`(?<![\\w.])(?:${qualifiers.join('|')})tenant_id\\b`, 'i').test(texts);
}

interface Finding {
  file: string;
  line: number;
  what: string;
}

/** The statements of one module on distributed tables that name no tenant, and how many it checked. */
function scanModule(file: string, source: string, tables: ReadonlySet<string>): { findings: Finding[]; chains: number; texts: number } {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const findings: Finding[] = [];
  let chains = 0;
  let texts = 0;
  // A call's line is its method's (a chain's calls span several lines).
  const lineOf = (n: ts.Node) => {
    const at = ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) ? n.expression.name : n;
    return sf.getLineAndCharacterOfPosition(at.getStart(sf)).line + 1;
  };
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && CHAIN_STARTS.has(methodOf(n) ?? '') && n.arguments[0]) {
      const root = tableOf(literalText(n.arguments[0]) ?? '');
      if (root && tables.has(root.table)) {
        chains++;
        const calls = chainCalls(n, chainEnd(n));
        const rest = calls.filter((c) => c !== n).flatMap((c) => [...c.arguments]);
        const rootNamed = namesTenant(textsUnder(rest, n), root);
        if (!rootNamed) findings.push({ file, line: lineOf(n), what: `${methodOf(n)}('${root.table}') without a tenant_id filter` });
        const distributed = [root];
        for (const c of calls) {
          const joined = JOINS.has(methodOf(c) ?? '') && c.arguments[0] ? tableOf(literalText(c.arguments[0]) ?? '') : null;
          if (!joined || !tables.has(joined.table)) continue;
          distributed.push(joined);
          if (!namesTenant(textsUnder(c.arguments.slice(1), n), joined)) findings.push({ file, line: lineOf(c), what: `${methodOf(c)}('${joined.table}') not joined on tenant_id` });
        }
        // A statement of its own (not a sub-query, which may follow its outer query's tenant) needs a where on a tenant_id.
        const filters = textsUnder(calls.filter((c) => ['where', 'having'].includes(methodOf(c) ?? '')).flatMap((c) => [...c.arguments]), n);
        if (rootNamed && !isSubquery(n) && !distributed.some((t) => namesTenant(filters, t))) {
          findings.push({ file, line: lineOf(n), what: `${methodOf(n)}('${root.table}') joined on tenant_id but filtered by no tenant` });
        }
      }
    }
    const text = literalText(n);
    if (text !== null && /\b(select|update|delete|insert)\b/i.test(text) && /\b(from|join|update|using)\s+(ads|ads_engine|saas)\./i.test(text)) {
      texts++;
      for (const problem of untenantedSql(text, tables)) findings.push({ file, line: lineOf(n), what: `SQL: ${problem}` });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { findings, chains, texts };
}

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return modules(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * Queries deliberately tenant-wide, relying on row-level security alone: `file: finding` -> why. None today;
 * on Citus such a query reaches every shard, so an entry needs its reason.
 */
const TENANT_WIDE: ReadonlyMap<string, string> = new Map();

// ---------------------------------------------------------------------------
// The catalog against the rules
// ---------------------------------------------------------------------------

interface TableRow {
  name: string;
  tenant: boolean;
  pk: string[] | null;
}
interface IndexRow {
  table_name: string;
  index_name: string;
  unique_like: boolean;
  cols: (string | null)[];
}
interface FkRow {
  name: string;
  src: string;
  dst: string;
  cols: string[];
  refcols: string[];
  on_delete: string;
  on_update: string;
}

const productTables = `
  select n.nspname || '.' || c.relname as name,
         exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as tenant,
         (select array_agg(a.attname::text order by u.ord)
          from pg_constraint k cross join lateral unnest(k.conkey) with ordinality u(attnum, ord)
          join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum
          where k.conrelid = c.oid and k.contype = 'p') as pk
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p') and not c.relispartition
    and n.nspname <> all ($1::text[]) and n.nspname !~ '^pg_'`;

/** Every way the catalog breaks the rules of db/CITUS.md; empty when it keeps them. */
async function violations(c: pg.ClientBase, plan: Plan): Promise<string[]> {
  const out: string[] = [];
  const tables = new Map((await c.query<TableRow>(productTables, [FOREIGN_SCHEMAS])).rows.map((t) => [t.name, t]));
  const placed = (name: string) => (plan.distributed.has(name) ? 'distributed' : plan.reference.has(name) ? 'reference' : 'coordinator');

  // Every table has its place, and the page names only tables that exist as it says.
  for (const t of tables.values()) {
    const exception = plan.tenantExceptions.get(t.name);
    if (t.tenant && !plan.distributed.has(t.name) && !(exception && placed(t.name) === exception)) {
      out.push(`${t.name} has tenant_id but db/CITUS.md neither distributes it nor lists it with its placement`);
    }
    if (!t.tenant && !plan.withoutTenant.has(t.name)) out.push(`${t.name} has no tenant_id and is not listed in db/CITUS.md (Tables without tenant_id)`);
  }
  for (const [name, placement] of plan.withoutTenant) {
    const t = tables.get(name);
    if (!t || t.tenant) out.push(`db/CITUS.md lists ${name} as a table without tenant_id, but ${t ? 'it has one' : 'there is no such table'}`);
    if (placement !== placed(name)) out.push(`db/CITUS.md places ${name} on "${placement}" but its statements make it ${placed(name)}`);
  }
  for (const [name, placement] of plan.tenantExceptions) {
    if (!tables.get(name)?.tenant) out.push(`db/CITUS.md lists ${name} among the tables with tenant_id, but ${tables.has(name) ? 'it has none' : 'there is no such table'}`);
    if (!placement.startsWith(placed(name))) out.push(`db/CITUS.md places ${name} on "${placement}" but its statements make it ${placed(name)}`);
  }
  for (const [name, d] of plan.distributed) {
    if (!tables.get(name)?.tenant) out.push(`db/CITUS.md distributes ${name}, which ${tables.has(name) ? 'has no tenant_id' : 'does not exist'}`);
    if (d.column !== 'tenant_id') out.push(`db/CITUS.md distributes ${name} by ${d.column}, not tenant_id`);
    const expected = name === ANCHOR ? 'none' : ANCHOR;
    if (d.colocateWith !== expected) out.push(`db/CITUS.md distributes ${name} with colocate_with '${d.colocateWith}', not '${expected}'`);
  }
  const firstDistributed = plan.order.find((t) => plan.distributed.has(t));
  if (firstDistributed !== ANCHOR) out.push(`db/CITUS.md must distribute ${ANCHOR} before the tables co-located with it (first: ${firstDistributed})`);

  // Keys and indexes of every table outside the coordinator that has tenant_id.
  const keyed = (name: string) => tables.get(name)?.tenant === true && placed(name) !== 'coordinator';
  for (const t of tables.values()) {
    if (!keyed(t.name)) continue;
    const keyless = plan.tenantExceptions.get(t.name)?.includes('no primary key') ?? false;
    if (!t.pk && !keyless) out.push(`${t.name} has no primary key (db/CITUS.md does not list it as keyless)`);
    if (t.pk && keyless) out.push(`${t.name} has a primary key, but db/CITUS.md lists it as keyless`);
    if (t.pk && !t.pk.includes('tenant_id')) out.push(`${t.name}: primary key (${t.pk.join(', ')}) without tenant_id`);
  }
  const indexes = await c.query<IndexRow>(
    `select n.nspname || '.' || t.relname as table_name, n.nspname || '.' || ic.relname as index_name,
            i.indisunique or i.indisexclusion as unique_like,
            (select array_agg(a.attname::text order by k.ord) from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
               left join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
             where k.ord <= i.indnkeyatts) as cols
     from pg_index i join pg_class t on t.oid = i.indrelid join pg_class ic on ic.oid = i.indexrelid join pg_namespace n on n.oid = t.relnamespace
     where not t.relispartition`,
  );
  const indexNames = new Set(indexes.rows.map((i) => i.index_name));
  for (const i of indexes.rows) {
    if (!keyed(i.table_name)) continue;
    if (i.unique_like && !i.cols.includes('tenant_id')) out.push(`${i.index_name} on ${i.table_name} is unique without tenant_id (${i.cols.join(', ')})`);
    if (i.cols[0] !== 'tenant_id' && !plan.indexExceptions.has(i.index_name)) {
      out.push(`${i.index_name} on ${i.table_name} leads with ${i.cols[0] ?? 'an expression'}, not tenant_id (and db/CITUS.md does not list it)`);
    }
  }
  for (const name of plan.indexExceptions) if (!indexNames.has(name)) out.push(`db/CITUS.md lists the index ${name}, which does not exist`);

  // Foreign keys: what Citus accepts, and the order of the statements.
  const fks = await c.query<FkRow>(
    `select k.conname as name, sn.nspname || '.' || s.relname as src, dn.nspname || '.' || d.relname as dst,
            (select array_agg(a.attname::text order by u.ord) from unnest(k.conkey) with ordinality u(attnum, ord)
               join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum) as cols,
            (select array_agg(a.attname::text order by u.ord) from unnest(k.confkey) with ordinality u(attnum, ord)
               join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum) as refcols,
            k.confdeltype as on_delete, k.confupdtype as on_update
     from pg_constraint k join pg_class s on s.oid = k.conrelid join pg_namespace sn on sn.oid = s.relnamespace
     join pg_class d on d.oid = k.confrelid join pg_namespace dn on dn.oid = d.relnamespace
     where k.contype = 'f' and k.conparentid = 0`,
  );
  for (const f of fks.rows) {
    if (!tables.has(f.src)) continue;
    const from = placed(f.src);
    const to = placed(f.dst);
    const fk = `${f.name} (${f.src} -> ${f.dst})`;
    if (from === 'distributed' && to === 'distributed') {
      const at = f.cols.indexOf('tenant_id');
      if (at < 0 || f.refcols[at] !== 'tenant_id') out.push(`${fk}: between tenant tables without tenant_id on both sides at the same position`);
    }
    if (from === 'distributed' && to === 'coordinator') out.push(`${fk} points at a table db/CITUS.md does not list as a reference table`);
    if (from !== 'distributed' && to === 'distributed') out.push(`${fk}: a ${from} table may not reference a distributed one`);
    if (from === 'reference' && to !== 'reference') out.push(`${fk}: a reference table may reference reference tables only`);
    if (from === 'distributed' && f.cols.includes('tenant_id') && (['n', 'd'].includes(f.on_delete) || ['n', 'd', 'c'].includes(f.on_update))) {
      out.push(`${fk} sets or cascades tenant_id (on delete ${f.on_delete}, on update ${f.on_update}), which Citus refuses`);
    }
    const a = plan.order.indexOf(f.src);
    const b = plan.order.indexOf(f.dst);
    if (a >= 0 && b >= 0 && f.src !== f.dst && b > a) out.push(`${fk}: db/CITUS.md names ${f.dst} after ${f.src}, which references it`);
  }

  // Triggers on the tables Citus manages: what each runs is in the page, with what it does on the shards.
  const triggers = await c.query<{ t: string }>(
    `select distinct n.nspname || '.' || c.relname || ' ' || g.tgfoid::regprocedure::text as t
     from pg_trigger g join pg_class c on c.oid = g.tgrelid join pg_namespace n on n.oid = c.relnamespace
     where not g.tgisinternal and g.tgparentid = 0`,
  );
  const managed = new Set(triggers.rows.map((r) => r.t).filter((t) => placed(t.split(' ')[0]!) !== 'coordinator'));
  for (const t of managed) if (!plan.triggers.has(t)) out.push(`trigger ${t} is not in db/CITUS.md (Triggers on distributed and reference tables)`);
  for (const t of plan.triggers) if (!managed.has(t)) out.push(`db/CITUS.md lists the trigger ${t}, which no distributed or reference table has`);

  // The routed functions: their signature, their tenant argument, their group.
  for (const f of plan.functions) {
    const args = await c.query<{ name: string | null; type: string }>(
      `select u.name, format_type(u.type, null) as type
       from pg_proc p, unnest(p.proargnames, coalesce(p.proallargtypes, p.proargtypes::oid[])) as u(name, type)
       where p.oid = to_regprocedure($1)`,
      [f.signature],
    );
    const arg = args.rows.find((a) => a.name === f.arg);
    if (args.rows.length === 0) out.push(`db/CITUS.md distributes ${f.signature}, which does not exist (or has no named arguments)`);
    else if (arg?.type !== 'uuid') out.push(`${f.signature}: its tenant argument ${f.arg} is ${arg ? `a ${arg.type}` : 'not one of its arguments'}, not a uuid`);
    if (f.colocateWith !== ANCHOR) out.push(`${f.signature} is co-located with ${f.colocateWith}, not ${ANCHOR}`);
    if (!f.forceDelegation) out.push(`${f.signature}: without force_delegation Citus does not route it inside the app's tenant transaction`);
  }

  // The SQL functions' statements on distributed tables name their tenant.
  const bodies = await c.query<{ f: string; src: string }>(
    `select p.oid::regprocedure::text as f, p.prosrc as src
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
     where n.nspname in ('saas', 'ads', 'ads_engine') and l.lanname in ('sql', 'plpgsql')`,
  );
  const distributed = new Set(plan.distributed.keys());
  const crossTenant = new Set<string>();
  for (const b of bodies.rows) {
    const uses = untenantedSql(b.src, distributed);
    if (uses.length && !plan.crossTenantFunctions.has(b.f)) out.push(`${b.f}: ${uses.join('; ')} (and db/CITUS.md does not list it)`);
    if (uses.length) crossTenant.add(b.f);
  }
  for (const f of plan.crossTenantFunctions) if (!crossTenant.has(f)) out.push(`db/CITUS.md lists ${f} as reading several tenants, but every statement of it names its tenant (or it does not exist)`);
  return out;
}

// ---------------------------------------------------------------------------

let owner: pg.Pool;
let plan: Plan;

beforeAll(() => {
  owner = ownerPool();
  plan = readPlan(readFileSync(DOC, 'utf8'));
});

describe('db/CITUS.md against the catalog', () => {
  it('places every table: distributed by tenant_id, copied to every node, or kept on the coordinator, each with its reason', () => {
    expect(plan.distributed.size).toBeGreaterThan(30);
    const listedAsReference = [...plan.withoutTenant, ...plan.tenantExceptions].filter(([, p]) => p === 'reference').map(([t]) => t);
    expect([...plan.reference].sort()).toEqual(listedAsReference.sort());
    expect(plan.functions.map((f) => f.signature)).toContain('ads_engine.run_daily_loop(uuid, date, text)');
  });

  it('the migrated schema keeps every rule the page states', async () => {
    await rollback(owner, async (c) => {
      expect(await violations(c, plan)).toEqual([]);
    });
  });

  it('fails on planted violations: keys, indexes, foreign keys, unplaced tables, triggers, functions', async () => {
    await rollback(owner, async (c) => {
      await c.query(`
        create table ads_engine.citus_probe (tenant_id uuid not null, id uuid not null, code text, primary key (id));
        create unique index citus_probe_code_key on ads_engine.citus_probe (tenant_id) include (code) where code is not null;
        create unique index citus_probe_plain_key on ads_engine.citus_probe (code);
        create table ads_engine.citus_probe_global (code text primary key);
        create table ads_engine.citus_probe_child (
          tenant_id uuid not null references saas.tenants (id) on delete cascade,
          probe_id uuid not null references ads_engine.citus_probe (id),
          code text references ads_engine.citus_probe_global (code),
          primary key (tenant_id, probe_id));
        create index citus_probe_child_probe_idx on ads_engine.citus_probe_child (probe_id);
        create function ads_engine.citus_probe_touch() returns trigger language plpgsql as 'begin return new; end';
        create trigger citus_probe_touch before update on ads.baselines for each row execute function ads_engine.citus_probe_touch();
        create function ads_engine.citus_probe_count() returns bigint language sql
          as 'select count(*) from ads.anomalies a where a.status = ''active''';
        create function ads_engine.citus_probe_run(p_tenant text) returns void language sql as 'select';`);

      // With the page as it is: three tables nobody placed, a trigger and a function body it does not know.
      const unplaced = await violations(c, plan);
      expect(unplaced).toEqual(
        expect.arrayContaining([
          'ads_engine.citus_probe has tenant_id but db/CITUS.md neither distributes it nor lists it with its placement',
          'ads_engine.citus_probe_child has tenant_id but db/CITUS.md neither distributes it nor lists it with its placement',
          'ads_engine.citus_probe_global has no tenant_id and is not listed in db/CITUS.md (Tables without tenant_id)',
          'trigger ads.baselines ads_engine.citus_probe_touch() is not in db/CITUS.md (Triggers on distributed and reference tables)',
          'ads_engine.citus_probe_count(): from ads.anomalies a without a tenant_id comparison (and db/CITUS.md does not list it)',
        ]),
      );

      // A page that distributes the new tables (as a careless change would): each broken rule is named.
      const careless: Plan = {
        ...plan,
        order: [...plan.order, 'ads_engine.citus_probe_child', 'ads_engine.citus_probe'],
        distributed: new Map([
          ...plan.distributed,
          ['ads_engine.citus_probe_child', { column: 'tenant_id', colocateWith: ANCHOR }],
          ['ads_engine.citus_probe', { column: 'id', colocateWith: 'default' }],
        ]),
        functions: [
          ...plan.functions,
          { signature: 'ads_engine.citus_probe_run(text)', arg: 'p_tenant', colocateWith: ANCHOR, forceDelegation: true },
          { signature: 'ads_engine.run_daily_loop(uuid, date, text)', arg: 'p_trigger', colocateWith: ANCHOR, forceDelegation: true },
          { signature: 'ads_engine.no_such_loop(uuid)', arg: 'p_tenant', colocateWith: ANCHOR, forceDelegation: false },
        ],
      };
      const found = await violations(c, careless);
      expect(found).toEqual(
        expect.arrayContaining([
          'db/CITUS.md distributes ads_engine.citus_probe by id, not tenant_id',
          "db/CITUS.md distributes ads_engine.citus_probe with colocate_with 'default', not 'ads.metrics_daily'",
          'ads_engine.citus_probe: primary key (id) without tenant_id',
          'ads_engine.citus_probe_pkey on ads_engine.citus_probe is unique without tenant_id (id)',
          'ads_engine.citus_probe_pkey on ads_engine.citus_probe leads with id, not tenant_id (and db/CITUS.md does not list it)',
          'ads_engine.citus_probe_plain_key on ads_engine.citus_probe is unique without tenant_id (code)',
          'ads_engine.citus_probe_child_probe_idx on ads_engine.citus_probe_child leads with probe_id, not tenant_id (and db/CITUS.md does not list it)',
          'citus_probe_child_probe_id_fkey (ads_engine.citus_probe_child -> ads_engine.citus_probe): between tenant tables without tenant_id on both sides at the same position',
          'citus_probe_child_probe_id_fkey (ads_engine.citus_probe_child -> ads_engine.citus_probe): db/CITUS.md names ads_engine.citus_probe after ads_engine.citus_probe_child, which references it',
          'citus_probe_child_code_fkey (ads_engine.citus_probe_child -> ads_engine.citus_probe_global) points at a table db/CITUS.md does not list as a reference table',
          'ads_engine.citus_probe_run(text): its tenant argument p_tenant is a text, not a uuid',
          'ads_engine.run_daily_loop(uuid, date, text): its tenant argument p_trigger is a text, not a uuid',
          'db/CITUS.md distributes ads_engine.no_such_loop(uuid), which does not exist (or has no named arguments)',
          'ads_engine.no_such_loop(uuid): without force_delegation Citus does not route it inside the app\'s tenant transaction',
        ]),
      );
      // The partial unique index that holds tenant_id passes; nothing else was reported for it.
      expect(found.filter((v) => v.includes('citus_probe_code_key'))).toEqual([]);
    });
  });

  it('a foreign key that sets tenant_id to NULL, and a stale page, are named too', async () => {
    await rollback(owner, async (c) => {
      await c.query(`
        alter table ads_engine.anomaly_snoozes drop constraint anomaly_snoozes_anomaly_fkey;
        alter table ads_engine.anomaly_snoozes add constraint anomaly_snoozes_anomaly_fkey
          foreign key (tenant_id, anomaly_id) references ads.anomalies (tenant_id, id) on delete set null;
        drop index saas.invitations_id_idx;`);
      expect(await violations(c, plan)).toEqual([
        'db/CITUS.md lists the index saas.invitations_id_idx, which does not exist',
        'anomaly_snoozes_anomaly_fkey (ads_engine.anomaly_snoozes -> ads.anomalies) sets or cascades tenant_id (on delete n, on update a), which Citus refuses',
      ]);
    });
  });

  it('the routed functions run to the end with a search_path that names none of the product schemas', async () => {
    // Citus does not carry the caller's search_path to the node that runs a routed call.
    const calls: Record<string, string> = {
      'ads_engine.run_daily_loop(uuid, date, text)': `select ads_engine.run_daily_loop($1, null, 'cli')`,
      'ads.compute_baselines(uuid, text, text, integer)': `select ads.compute_baselines($1, 'meta', 'campaign', 7)`,
      'ads.analyze_campaign_performance(uuid, text, text, integer)': `select * from ads.analyze_campaign_performance($1, 'cmp-a', 'meta', 7)`,
      'ads.generate_recommendations(uuid)': 'select ads.generate_recommendations($1)',
      'ads.detect_anomalies(uuid)': 'select ads.detect_anomalies($1)',
    };
    expect(Object.keys(calls).sort()).toEqual(plan.functions.map((f) => f.signature).sort());
    const tenant = await createTenant(owner, 'Citus routed functions');
    const line = { platform: 'meta', fromAgo: 27, toAgo: 0, impressions: 10_000, clicks: 200 };
    await loadMetricLines(owner, tenant, [
      { ...line, id: 'cmp-a', name: 'Campaign A', spend: 100, conversions: 5, value: 400 },
      { ...line, id: 'cmp-b', name: 'Campaign B', spend: 80, conversions: 6, value: 300 },
    ]);
    await rollback(owner, async (c) => {
      await c.query('set local search_path = pg_catalog, pg_temp');
      await c.query("select pg_catalog.set_config('saas.tenant_id', $1, true)", [tenant]);
      for (const text of Object.values(calls)) await c.query(text, [tenant]);
      const runs = await c.query('select count(*)::int as n from ads_engine.optimizer_runs where tenant_id = $1', [tenant]);
      expect(runs.rows).toEqual([{ n: 1 }]);
    });
  });
});

describe("the app's queries name their tenant", () => {
  it('every Kysely chain and SQL text in lib/ and app/ on a distributed table filters or joins it by tenant_id', () => {
    const tables = new Set(plan.distributed.keys());
    let chains = 0;
    let texts = 0;
    const findings: Finding[] = [];
    for (const dir of ['lib', 'app']) {
      for (const file of modules(path.join(projectRoot, dir))) {
        const r = scanModule(path.relative(projectRoot, file), readFileSync(file, 'utf8'), tables);
        chains += r.chains;
        texts += r.texts;
        findings.push(...r.findings.filter((f) => !TENANT_WIDE.has(`${f.file}: ${f.what}`)));
      }
    }
    // The scan found the code it is about (the figures of db/CITUS.md, give or take later changes).
    expect(chains).toBeGreaterThan(40);
    expect(texts).toBeGreaterThan(80);
    expect(findings.map((f) => `${f.file}:${f.line} ${f.what}`)).toEqual([]);
  });

  it('reports planted queries without a tenant filter, and passes their filtered twins', () => {
    const source = `
      export async function planted(trx: Tx, tenantId: string, ids: string[]) {
        await trx.selectFrom('ads.anomalies as a').select('a.id').where('a.status', '=', 'active').execute();
        await trx.selectFrom('ads.anomalies as a').select('a.id').where('a.tenant_id', '=', tenantId).execute();
        await trx.selectFrom('ads.anomalies as a')
          .innerJoin('ads_engine.anomaly_snoozes as s', 's.anomaly_id', 'a.id')
          .where('a.tenant_id', '=', tenantId).execute();
        await trx.selectFrom('ads.anomalies as a')
          .innerJoin('ads_engine.anomaly_snoozes as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.anomaly_id', '=', 'a.id'))
          .where('a.tenant_id', '=', tenantId).execute();
        await trx.updateTable('ads.anomalies').set({ status: 'dismissed' }).where('id', 'in', ids).execute();
        await trx.deleteFrom('ads.anomalies').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
        await trx.selectFrom('ads.ab_tests').where('id', 'in', (eb) =>
          eb.selectFrom('ads_engine.ab_test_variants').select('test_id').where('tenant_id', '=', tenantId)).selectAll().execute();
        await trx.selectFrom('saas.tenants').selectAll().execute();
        await sql\`select count(*) from ads.metrics_daily m where m.day > now() - interval '7 days'\`.execute(trx);
        await sql\`select m.tenant_id, m.spend from ads.metrics_daily m where m.platform = \${'meta'}\`.execute(trx);
        await sql\`select 1 from ads.metrics_daily m where m.tenant_id = \${tenantId}
                   and exists (select 1 from ads.metrics_daily m where m.day = current_date)\`.execute(trx);
        await sql\`select 1 from ads.metrics_daily where tenant_id = \${tenantId}\`.execute(trx);
        await client.query('delete from ads_engine.import_staging s where s.run_id = $1', [ids[0]]);
        await trx.selectFrom('ads.anomalies as a')
          .innerJoin('ads_engine.anomaly_snoozes as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.anomaly_id', '=', 'a.id'))
          .where('s.snoozed_until', '>', new Date()).selectAll().execute();
        await sql\`select i.email from saas.invitations i join saas.tenants t on t.id = i.tenant_id where i.id = \${ids[0]}\`.execute(trx);
      }`;
    const r = scanModule('lib/planted/queries.ts', source, new Set(plan.distributed.keys()));
    expect(r.findings.map((f) => `${f.line} ${f.what}`)).toEqual([
      "3 selectFrom('ads.anomalies') without a tenant_id filter",
      "6 innerJoin('ads_engine.anomaly_snoozes') not joined on tenant_id",
      "11 updateTable('ads.anomalies') without a tenant_id filter",
      "13 selectFrom('ads.ab_tests') without a tenant_id filter",
      '16 SQL: from ads.metrics_daily m without a tenant_id comparison',
      '17 SQL: from ads.metrics_daily m without a tenant_id comparison',
      '18 SQL: from ads.metrics_daily m without a tenant_id comparison',
      '21 SQL: from ads_engine.import_staging s without a tenant_id comparison',
      "22 selectFrom('ads.anomalies') joined on tenant_id but filtered by no tenant",
      '25 SQL: from saas.invitations i joined on tenant_id but compared with no tenant',
    ]);
    expect(r.chains).toBe(9);
  });
});
