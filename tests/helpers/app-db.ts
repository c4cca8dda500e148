// The app role's Kysely handle for tests that drive the app's own code. Apart
// from db.ts on purpose: importing lib/db/pool installs pg's global type
// parsers (numeric as numbers), which the raw-SQL suites must not get.
import { afterAll, inject } from 'vitest';
import { createDb, withTenant, type Db, type DbHandle, type Tx } from '../../lib/db/pool';

const handles: DbHandle[] = [];

afterAll(async () => {
  await Promise.all(handles.splice(0).map((h) => h.db.destroy()));
});

/** Made as the app makes it (createDb), on the test database, with `max` connections; closed after the file. */
export function appKysely(max = 2): DbHandle {
  const h = createDb(inject('appUrl'), { max });
  handles.push(h);
  return h;
}

class Rollback {
  constructor(readonly value: unknown) {}
}

/** fn through the app's own withTenant (app role, tenant set first), then rolled back: reads that write (the guide's analysis) leave nothing. */
export async function rolledBackAsApp<T>(db: Db, tenant: string, fn: (trx: Tx) => Promise<T>): Promise<T> {
  try {
    await withTenant(tenant, async (trx) => {
      throw new Rollback(await fn(trx));
    }, {}, db);
  } catch (e) {
    if (e instanceof Rollback) return e.value as T;
    throw e;
  }
  throw new Error('unreachable');
}
