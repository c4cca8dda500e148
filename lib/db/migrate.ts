// Applies the project's SQL files, the same ones a DBA runs with psql:
// db/deploy.sql, db/media_buying_deployment.sql, then db/migrations/NNN_*.sql
// in order. Each file is one transaction and idempotent; what was applied is
// recorded in public.schema_migrations with a checksum, so a second run is a
// no-op. The two base files are re-applied when they change (their functions
// are CREATE OR REPLACE); a numbered file is frozen once applied.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from './config';

export interface SqlFile {
  name: string;
  file: string;
  checksum: string;
  sql: string;
  frozen: boolean;
}

export const dbDir = path.join(projectRoot, 'db');

export function sqlFiles(dir = dbDir): SqlFile[] {
  const load = (rel: string, frozen: boolean): SqlFile => {
    const file = path.join(dir, rel);
    const sql = readFileSync(file, 'utf8');
    return { name: rel, file, sql, frozen, checksum: createHash('sha256').update(sql).digest('hex') };
  };
  const numbered = readdirSync(path.join(dir, 'migrations'))
    .filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => load(`migrations/${f}`, true));
  return [load('deploy.sql', false), load('media_buying_deployment.sql', false), ...numbered];
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
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on('notice', () => undefined);
  await client.connect();
  const result: MigrationResult = { applied: [], skipped: [] };
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
    for (const f of sqlFiles(dir)) {
      const previous = done.get(f.name);
      if (previous === f.checksum) {
        result.skipped.push(f.name);
        continue;
      }
      if (previous && f.frozen) {
        throw new Error(
          `${f.name} was changed after it was applied (checksum ${previous.slice(0, 12)} -> ${f.checksum.slice(0, 12)}). ` +
            'Applied migrations are frozen: add a new numbered file instead.',
        );
      }
      log(`applying ${f.name}`);
      // The file carries its own BEGIN/COMMIT, exactly as psql runs it.
      await client.query(f.sql);
      await client.query(
        `insert into public.schema_migrations (name, checksum) values ($1, $2)
         on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
        [f.name, f.checksum],
      );
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
