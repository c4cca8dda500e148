// Builds the schema once per run on a throwaway database: on the embedded
// PostgreSQL (a fresh temporary cluster) unless DATABASE_URL names a server,
// in which case DATABASE_URL (or DATABASE_OWNER_URL) must be allowed to create
// databases and roles there. The database is dropped at the end.
import type { TestProject } from 'vitest/node';
import { createThrowawayDatabase } from '../../db/tools/throwaway';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser/admin URL of the server (its postgres database). */
    adminUrl: string;
    /** Owner (migration) URL of the test database. */
    ownerUrl: string;
    /** App-role URL of the test database. */
    appUrl: string;
    appPassword: string;
    serverKind: string;
  }
}

export default async function setup(project: TestProject) {
  const db = await createThrowawayDatabase('aegis-test', process.env.DATABASE_OWNER_URL ?? process.env.DATABASE_URL);
  project.provide('adminUrl', db.adminUrl);
  project.provide('ownerUrl', db.ownerUrl);
  project.provide('appUrl', db.appUrl);
  project.provide('appPassword', db.appPassword);
  project.provide('serverKind', db.description);
  console.log(`[tests] ${db.description}, database ${db.name}`);
  return () => db.drop();
}
