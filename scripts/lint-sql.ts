// Source lint for the database rules that types cannot enforce (tests/db/source-lint.test.ts runs it on the tree;
// `npx tsx scripts/lint-sql.ts` prints the same findings). Pooled connections are shared and node-postgres does
// not reset them, so a setting must die with its transaction: no session-level SET, no set_config(..., false).
// Identifiers are never built from strings at run time: no Kysely sql.raw / lit / ref / id / table, and no
// sql.join over raw strings, in the app's code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export type Rule = 'session-set' | 'set-config-session' | 'dynamic-sql';

export interface Finding {
  file: string;
  line: number;
  rule: Rule;
  message: string;
}

/** Where each rule applies, relative to the repository root. */
export const SQL_SETTING_DIRS = ['lib', 'app', 'components', 'scripts', 'db/tools', 'db/seed', 'bench'];
export const DYNAMIC_SQL_DIRS = ['lib', 'app', 'components', 'scripts'];
/** The SQL files (deploy, parts, migrations, functions): their function bodies run on the app's connections too. */
export const SQL_FILE_DIRS = ['db'];

const MESSAGES: Record<Rule, string> = {
  'session-set': 'session-level SET: use SET LOCAL (or set_config(..., true)) inside the transaction',
  'set-config-session': 'set_config without true as its third argument lasts for the session: pass true',
  'dynamic-sql': 'identifier or SQL text built at run time: write the fragment out (sql`o.applied_at`) or use the typed builder',
};

// SET forms that end with their transaction, like SET LOCAL.
const TRANSACTION_SCOPED = new Set(['local', 'transaction', 'constraints']);
// plpgsql keywords after which a new statement starts without a semicolon.
const STATEMENT_STARTERS = new Set(['begin', 'then', 'else', 'loop']);
const SQL_COMMAND =
  /^\s*\(?\s*(select|insert|update|delete|with|set|reset|begin|start|commit|rollback|savepoint|release|alter|create|drop|grant|revoke|do|call|explain|copy|load|show|truncate|lock|vacuum|analyze|discard|prepare|execute)\s+\S/i;
// What follows SET in a statement that changes a setting (prose such as "set back as it was" does not match).
const SETTING = /^\s+(?:session\s+)?(?:role\b|time\s+zone\b|authorization\b|names\b|schema\b|(?:[A-Za-z_][\w$]*|\$0)(?:\.[A-Za-z_][\w$]*)?\s*(?:=|to\b))/i;

/** Whether a string reads as SQL: it opens with a command keyword written as SQL is (all lower or all upper case). */
export function looksLikeSql(text: string): boolean {
  const m = SQL_COMMAND.exec(text);
  return !!m && (m[1] === m[1]!.toLowerCase() || m[1] === m[1]!.toUpperCase());
}

interface SqlHit {
  offset: number;
  rule: Rule;
}

const isWordStart = (c: string) => /[A-Za-z_]/.test(c);
const isWordChar = (c: string) => /[A-Za-z0-9_$]/.test(c);

/** End (exclusive) of a quoted run opened at `i` by `quote`; `backslash` for E'...' strings. */
function endOfQuoted(text: string, i: number, quote: string, backslash: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    if (backslash && text[j] === '\\') j += 2;
    else if (text[j] === quote) {
      if (text[j + 1] === quote) j += 2;
      else return j + 1;
    } else j++;
  }
  return text.length;
}

/** The top-level arguments of a call whose "(" is at `open`, and the index after its ")". */
function callArguments(text: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  let j = open;
  while (j < text.length) {
    const c = text[j]!;
    if (c === "'" || c === '"') {
      j = endOfQuoted(text, j, c, false);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, j));
        return { args, end: j + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(text.slice(start, j));
      start = j + 1;
    }
    j++;
  }
  return { args, end: text.length };
}

/**
 * Session-level SET statements and set_config calls whose third argument is not true, in SQL text: comments
 * skipped, dollar-quoted bodies (functions, DO blocks) and SQL-looking string literals (dynamic SQL) read as SQL
 * themselves. SET clauses inside a statement (UPDATE ... SET, ALTER TABLE ... SET, CREATE FUNCTION ... SET) are not
 * at the start of a statement, so they pass.
 */
export function scanSql(text: string): SqlHit[] {
  const hits: SqlHit[] = [];
  let atStart = true;
  // The last two tokens (words lower-cased, or punctuation): a string literal is SQL after EXECUTE or format(.
  let last = '';
  let beforeLast = '';
  const token = (t: string) => {
    beforeLast = last;
    last = t;
  };
  let i = 0;
  const nested = (from: number, body: string) => {
    for (const h of scanSql(body)) hits.push({ offset: from + h.offset, rule: h.rule });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '-' && text[i + 1] === '-') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text.startsWith('/*', i) || text.startsWith('*/', i)) {
          depth += text[i] === '/' ? 1 : -1;
          i += 2;
        } else i++;
      }
    } else if (c === "'") {
      const escaped = i > 0 && /[eE]/.test(text[i - 1]!) && !isWordChar(text[i - 2] ?? ' ');
      const end = endOfQuoted(text, i, "'", escaped);
      const body = text.slice(i + 1, end - 1);
      if (last === 'execute' || (last === '(' && beforeLast === 'format')) nested(i + 1, body.replace(/''/g, "'"));
      token("'");
      i = end;
      atStart = false;
    } else if (c === '"') {
      i = endOfQuoted(text, i, '"', false);
      token('"');
      atStart = false;
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))![0];
      const close = text.indexOf(tag, i + tag.length);
      const end = close < 0 ? text.length : close;
      nested(i + tag.length, text.slice(i + tag.length, end));
      i = close < 0 ? text.length : close + tag.length;
      token('$');
      atStart = false;
    } else if (isWordStart(c)) {
      let j = i;
      while (j < text.length && isWordChar(text[j]!)) j++;
      const word = text.slice(i, j).toLowerCase();
      if (word === 'set' && atStart) {
        const rest = text.slice(j);
        const next = /^\s+([A-Za-z_]+)/.exec(rest);
        if (!(next && TRANSACTION_SCOPED.has(next[1]!.toLowerCase())) && SETTING.test(rest)) hits.push({ offset: i, rule: 'session-set' });
      }
      if (word === 'set_config') {
        const open = /^\s*\(/.exec(text.slice(j));
        if (open) {
          const { args } = callArguments(text, j + open[0].length - 1);
          if (args.length !== 3 || args[2]!.trim().toLowerCase() !== 'true') hits.push({ offset: i, rule: 'set-config-session' });
        }
      }
      atStart = STATEMENT_STARTERS.has(word);
      token(word);
      i = j;
    } else if (c === ';') {
      atStart = true;
      token(';');
      i++;
    } else {
      if (!/\s/.test(c)) {
        atStart = false;
        token(c);
      }
      i++;
    }
  }
  return hits;
}

const DYNAMIC = new Set(['raw', 'lit', 'ref', 'id', 'table']);

/** The text of a string or template literal, `$0` standing for each interpolation; null for anything else. */
function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => `$0${s.literal.text}`).join('');
  return null;
}

/** A literal handed to the database: a Kysely sql`...` template, or the text of a pg query(...) call. */
function inSqlPosition(node: ts.Node): boolean {
  const parent = node.parent;
  if (ts.isTaggedTemplateExpression(parent) && ts.isIdentifier(parent.tag) && parent.tag.text === 'sql') return true;
  return (
    ts.isCallExpression(parent) &&
    parent.arguments[0] === node &&
    ts.isPropertyAccessExpression(parent.expression) &&
    parent.expression.name.text === 'query'
  );
}

/** Findings in one TypeScript source; `dynamic` turns on the Kysely rule. */
export function scanTypeScript(file: string, text: string, dynamic: boolean): Finding[] {
  const out: Finding[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const add = (pos: number, rule: Rule) => out.push({ file, line: lineOf(pos), rule, message: MESSAGES[rule] });
  const visit = (node: ts.Node) => {
    const literal = literalText(node);
    if (literal !== null && (inSqlPosition(node) || looksLikeSql(literal))) {
      // Offsets in the literal's text map to lines closely enough (interpolations only shift columns).
      const start = node.getStart(source) + 1;
      for (const h of scanSql(literal)) add(start + h.offset, h.rule);
    }
    if (dynamic && ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee.expression) && callee.expression.text === 'sql') {
        const name = callee.name.text;
        const first = node.arguments[0];
        const rawStrings =
          name === 'join' && first !== undefined && ts.isArrayLiteralExpression(first) && first.elements.some((e) => literalText(e) !== null);
        if (DYNAMIC.has(name) || rawStrings) add(node.getStart(source), 'dynamic-sql');
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Findings in one SQL file. */
export function scanSqlFile(file: string, text: string): Finding[] {
  const lines = (offset: number) => text.slice(0, offset).split('\n').length;
  return scanSql(text).map((h) => ({ file, line: lines(h.offset), rule: h.rule, message: MESSAGES[h.rule] }));
}

function filesUnder(root: string, dir: string, extensions: string[]): string[] {
  const full = path.join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(full);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries.sort()) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'out') continue;
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...filesUnder(root, rel, extensions));
    else if (extensions.some((e) => name.endsWith(e))) out.push(rel);
  }
  return out;
}

/** Every finding in the tree at `root` (the repository). */
export function scanTree(root: string): Finding[] {
  const findings: Finding[] = [];
  const tsFiles = new Set(SQL_SETTING_DIRS.flatMap((d) => filesUnder(root, d, ['.ts', '.tsx'])));
  const dynamicFiles = new Set(DYNAMIC_SQL_DIRS.flatMap((d) => filesUnder(root, d, ['.ts', '.tsx'])));
  for (const f of [...new Set([...tsFiles, ...dynamicFiles])].sort()) {
    findings.push(...scanTypeScript(f, readFileSync(path.join(root, f), 'utf8'), dynamicFiles.has(f)));
  }
  for (const f of SQL_FILE_DIRS.flatMap((d) => filesUnder(root, d, ['.sql']))) {
    findings.push(...scanSqlFile(f, readFileSync(path.join(root, f), 'utf8')));
  }
  return findings;
}

export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.file}:${f.line}: ${f.message}`).join('\n');
}

// Run as a script (CommonJS under tsx); imported by the test, it only exports.
if (typeof require !== 'undefined' && require.main === module) {
  const findings = scanTree(path.resolve(__dirname, '..'));
  if (findings.length) console.error(formatFindings(findings));
  else console.log('lint-sql: no session-level setting, no SQL built from strings');
  process.exit(findings.length ? 1 : 0);
}
