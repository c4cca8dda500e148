// The app role's Kysely handle for tests that drive the app's own code. Apart
// from db.ts on purpose: importing lib/db/pool installs pg's global type
// parsers (numeric as numbers), which the raw-SQL suites must not get.
import { afterAll, inject } from 'vitest';
import { createDb, type DbHandle } from '../../lib/db/pool';

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
