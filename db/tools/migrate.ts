// Applies the project's SQL files, the same ones a DBA runs with psql:
// db/deploy.sql, db/media_buying_deployment.sql, then db/migrations/NNN_*.sql
// in order, then db/functions/*.sql. Each file is one transaction and
// idempotent; what was applied is recorded in public.schema_migrations with a
// checksum of its text as psql runs it (`\ir` includes expanded), so a second
// run is a no-op. The base files (the two guide files and functions/*.sql)
// are re-applied when they or a part they include change (their functions are
// CREATE OR REPLACE); a numbered file is frozen once applied.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../lib/db/config';

export interface SqlFile {
  name: string;
  file: string;
  checksum: string;
  sql: string;
  frozen: boolean;
}

export const dbDir = path.join(projectRoot, 'db');

/**
 * Checksums an applied numbered file may carry instead of its current one. A
 * numbered migration is frozen once applied; the one exception is a file that
 * handed its re-appliable objects (functions, triggers, grants) to a file of
 * functions/, so that its former text did all the current one does and more.
 * The migrator then records the current checksum without running the file.
 * Never list a file whose tables, columns or data changed.
 */
export const FORMER_CHECKSUMS: Readonly<Record<string, readonly string[]>> = {
  // Before its functions, triggers and function grants moved to functions/auth.sql.
  'migrations/001_auth.sql': ['f3c2a45544e92e7372c5b4a20da8b4d9a5cf3e8a7b96f22851d64739a7ae466d'],
};

const shown = (file: string): string => {
  const rel = path.relative(projectRoot, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
};

const INCLUDE = /^\\(?:ir|include_relative)\s+(?:'([^']*)'|(\S+))\s*$/;

/** Index of the first character after a quoted run that starts at `start` (a quote, or a dollar-quote tag). */
function skipQuoted(text: string, start: number, close: string, backslashEscapes: boolean): number {
  let i = start + close.length;
  for (;;) {
    const end = text.indexOf(close, i);
    if (end < 0) return -1;
    if (backslashEscapes && text.slice(i, end).match(/\\*$/)![0].length % 2 === 1) {
      i = end + 1;
      continue;
    }
    // '' inside a string and "" inside an identifier stand for the quote itself.
    if (close.length === 1 && text[end + 1] === close) {
      i = end + 2;
      continue;
    }
    return end + close.length;
  }
}

function expand(file: string, chain: string[]): string {
  const real = realpathSync(file);
  if (chain.includes(real)) throw new Error(`include cycle: ${[...chain, real].map(shown).join(' -> ')}`);
  const text = readFileSync(file, 'utf8');
  const at = (pos: number) => `${shown(file)}:${text.slice(0, pos).split('\n').length}`;
  let out = '';
  let copied = 0;
  // Whether psql's query buffer holds SQL not yet ended by a semicolon.
  let pending = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const rest = text.slice(i, i + 2);
    let end = -1;
    if (rest === '--') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
      continue;
    }
    if (rest === '/*') {
      // Block comments nest in PostgreSQL.
      let depth = 0;
      for (end = i; end < text.length; end++) {
        if (text.startsWith('/*', end)) {
          depth++;
          end++;
        } else if (text.startsWith('*/', end)) {
          depth--;
          if (depth === 0) break;
          end++;
        }
      }
      if (end >= text.length) throw new Error(`${at(i)}: unterminated /* comment`);
      i = end + 2;
      continue;
    }
    const word = /[\w$]/.test(text[i - 1] ?? '');
    if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(text[i - 1] ?? '') && !/[\w$]/.test(text[i - 2] ?? '');
      end = skipQuoted(text, i, c, escapes);
      if (end < 0) throw new Error(`${at(i)}: unterminated ${c === "'" ? 'string' : 'quoted identifier'}`);
    } else if (c === '$' && !word) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 64))?.[0];
      if (tag) {
        end = skipQuoted(text, i, tag, false);
        if (end < 0) throw new Error(`${at(i)}: unterminated ${tag} quote`);
      }
    } else if (c === '\\') {
      const eol = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
      const command = text.slice(i, eol);
      const m = INCLUDE.exec(command);
      if (!m) {
        throw new Error(
          `${at(i)}: psql command ${command.split(/\s/)[0]} is not supported: SQL files may use \\ir (include a file) and no other backslash command`,
        );
      }
      const lineStart = text.lastIndexOf('\n', i - 1) + 1;
      if (pending || text.slice(lineStart, i).trim() !== '') {
        throw new Error(`${at(i)}: \\ir must stand on its own line, after a complete statement`);
      }
      const target = path.resolve(path.dirname(file), m[1] ?? m[2]!);
      let included: string;
      try {
        included = expand(target, [...chain, real]);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw e.code === 'ENOENT' ? new Error(`${at(i)}: cannot include ${shown(target)}: no such file`) : e;
      }
      out += text.slice(copied, lineStart) + included + (included.endsWith('\n') || included === '' ? '' : '\n');
      i = copied = Math.min(eol + 1, text.length);
      continue;
    }
    if (end >= 0) {
      pending = true;
      i = end;
      continue;
    }
    if (c === ';') pending = false;
    else if (!/\s/.test(c)) pending = true;
    i++;
  }
  if (chain.length > 0 && pending) {
    throw new Error(`${shown(file)}: ends inside a statement (an included file must end with a complete statement)`);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * The text of a SQL file as psql runs it: each `\ir path` line (psql's
 * include_relative: path relative to the including file) replaced by that
 * file's text, recursively, refusing include cycles. Any other psql backslash
 * command is refused with its file and line: the migrator sends plain SQL.
 * A file without includes is returned exactly as it is on disk.
 */
export function readSqlFile(file: string): string {
  return expand(path.resolve(file), []);
}

export function sqlFiles(dir = dbDir): SqlFile[] {
  const load = (rel: string, frozen: boolean): SqlFile => {
    const file = path.join(dir, rel);
    const sql = readSqlFile(file);
    return { name: rel, file, sql, frozen, checksum: createHash('sha256').update(sql).digest('hex') };
  };
  const folder = (sub: string, pattern: RegExp, frozen: boolean): SqlFile[] =>
    existsSync(path.join(dir, sub))
      ? readdirSync(path.join(dir, sub))
          .filter((f) => pattern.test(f))
          .sort()
          .map((f) => load(`${sub}/${f}`, frozen))
      : [];
  return [
    load('deploy.sql', false),
    load('media_buying_deployment.sql', false),
    ...folder('migrations', /^\d{3,}_[a-z0-9_]+\.sql$/, true),
    ...folder('functions', /^[a-z0-9_]+\.sql$/, false),
  ];
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

/** Run as the schema owner (or a superuser), never as the app role. */
export async function migrate(
  ownerUrl: string,
  log: (line: string) => void = () => undefined,
  dir: string = dbDir,
): Promise<MigrationResult> {
  // Read (and expand) every file before touching the database.
  const files = sqlFiles(dir);
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on('notice', () => undefined);
  await client.connect();
  const result: MigrationResult = { applied: [], skipped: [] };
  const record = (f: SqlFile) =>
    client.query(
      `insert into public.schema_migrations (name, checksum) values ($1, $2)
       on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
      [f.name, f.checksum],
    );
  try {
    // One migrator at a time (several app instances may start together).
    await client.query("select pg_advisory_lock(hashtext('aegis.migrate'))");
    await client.query(`
      create table if not exists public.schema_migrations (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`);
    const done = new Map<string, string>(
      (await client.query<{ name: string; checksum: string }>('select name, checksum from public.schema_migrations')).rows.map(
        (r) => [r.name, r.checksum],
      ),
    );
    for (const f of files) {
      const previous = done.get(f.name);
      if (previous === f.checksum) {
        result.skipped.push(f.name);
        continue;
      }
      if (previous && f.frozen) {
        if (FORMER_CHECKSUMS[f.name]?.includes(previous)) {
          log(`recording the current checksum of ${f.name} (its former text, applied here, did all it does)`);
          await record(f);
          result.skipped.push(f.name);
          continue;
        }
        throw new Error(
          `${f.name} was changed after it was applied (checksum ${previous.slice(0, 12)} -> ${f.checksum.slice(0, 12)}). ` +
            'Applied migrations are frozen: add a new numbered file instead.',
        );
      }
      log(`applying ${f.name}`);
      // The file carries its own BEGIN/COMMIT, exactly as psql runs it.
      await client.query(f.sql);
      await record(f);
      result.applied.push(f.name);
    }
    await client.query("grant select on public.schema_migrations to aegis_app");
  } catch (err) {
    // A failed file leaves its transaction aborted; close it so the lock is released cleanly.
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.query("select pg_advisory_unlock(hashtext('aegis.migrate'))").catch(() => undefined);
    await client.end();
  }
  return result;
}
