// Refuse to serve when the database role could bypass row-level security
// (superuser, BYPASSRLS, owner of the tables). Skipped while building.
import { appDb, assertAppRoleIsSafe } from './lib/db/pool';

if (process.env.NEXT_PHASE !== 'phase-production-build') {
  try {
    await assertAppRoleIsSafe(appDb().db);
  } catch (err) {
    console.error(`[aegis] ${(err as Error).message}`);
    process.exit(1);
  }
}
