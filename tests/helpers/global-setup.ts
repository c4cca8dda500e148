// Builds the schema once per run on a throwaway database: on the embedded
// PostgreSQL (a fresh temporary cluster) unless DATABASE_URL names a server,
// in which case DATABASE_URL (or DATABASE_OWNER_URL) must be allowed to create
// databases and roles there. The database is dropped at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { APP_ROLE, withDatabase, withCredentials } from '../../lib/db/config';
import { freePort, newSecret, setAppPassword, startEmbedded } from '../../lib/db/embedded';
import { migrate } from '../../lib/db/migrate';

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
  let adminUrl: string;
  let stopServer = async () => undefined as void;
  let tmp: string | undefined;
  const external = process.env.DATABASE_OWNER_URL ?? process.env.DATABASE_URL;
  if (external) {
    adminUrl = withDatabase(external, 'postgres');
  } else {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'aegis-test-'));
    const server = await startEmbedded({
      dataDir: path.join(tmp, 'pg'),
      port: await freePort(),
      superPassword: newSecret(),
      persistent: false,
    });
    adminUrl = server.superUrl('postgres');
    stopServer = () => server.stop();
  }
  const dbName = `aegis_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '?';
  await admin.query(`create database ${admin.escapeIdentifier(dbName)}`);
  await admin.end();

  const ownerUrl = withDatabase(adminUrl, dbName);
  await migrate(ownerUrl);
  const appPassword = newSecret();
  await setAppPassword(ownerUrl, appPassword);
  const appUrl = withCredentials(ownerUrl, APP_ROLE, appPassword);

  project.provide('adminUrl', adminUrl);
  project.provide('ownerUrl', ownerUrl);
  project.provide('appUrl', appUrl);
  project.provide('appPassword', appPassword);
  project.provide('serverKind', `${external ? 'external' : 'embedded'} PostgreSQL ${version}`);
  console.log(`[tests] ${external ? 'external' : 'embedded'} PostgreSQL ${version}, database ${dbName}`);

  return async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`drop database if exists ${c.escapeIdentifier(dbName)} with (force)`).catch(() => undefined);
    await c.end();
    await stopServer();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };
}
