// Refuse to serve when the database role could bypass row-level security
// (superuser, BYPASSRLS, owner of the tables or member of the owner role).
import { appDb, assertAppRoleIsSafe, type Db } from './lib/db/pool';

export async function refuseUnsafeRole(db: Db = appDb().db, exit: (code: number) => void = (c) => process.exit(c)): Promise<void> {
  try {
    await assertAppRoleIsSafe(db);
  } catch (err) {
    console.error(`[aegis] ${(err as Error).message}`);
    exit(1);
  }
}
