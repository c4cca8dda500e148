// A migrated database that lives for one test run: on a temporary embedded
// cluster, or on the server an admin URL names. Used by the vitest and the
// Playwright setups; dropped (and the cluster stopped) by drop().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { APP_ROLE, withCredentials, withDatabase } from '../../lib/db/config';
import { freePort, newSecret, setAppPassword, startEmbedded } from './embedded';
import { migrate } from './migrate';

export interface ThrowawayDatabase {
  name: string;
  /** Admin URL of the server (its postgres database). */
  adminUrl: string;
  ownerUrl: string;
  appUrl: string;
  appPassword: string;
  /** e.g. "embedded PostgreSQL 18.4". */
  description: string;
  drop: () => Promise<void>;
}

/** externalAdminUrl: a server on which this may create databases and set aegis_app's password; else an embedded one. */
export async function createThrowawayDatabase(prefix: string, externalAdminUrl?: string): Promise<ThrowawayDatabase> {
  let adminUrl: string;
  let stopServer = async (): Promise<void> => undefined;
  let tmp: string | undefined;
  if (externalAdminUrl) {
    adminUrl = withDatabase(externalAdminUrl, 'postgres');
  } else {
    tmp = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    const server = await startEmbedded({ dataDir: path.join(tmp, 'pg'), port: await freePort(), superPassword: newSecret(), persistent: false });
    adminUrl = server.superUrl('postgres');
    stopServer = () => server.stop();
  }
  const name = `${prefix.replace(/-/g, '_')}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '?';
  await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  await admin.end();

  const ownerUrl = withDatabase(adminUrl, name);
  await migrate(ownerUrl);
  const appPassword = newSecret();
  await setAppPassword(ownerUrl, appPassword);
  return {
    name,
    adminUrl,
    ownerUrl,
    appUrl: withCredentials(ownerUrl, APP_ROLE, appPassword),
    appPassword,
    description: `${externalAdminUrl ? 'external' : 'embedded'} PostgreSQL ${version}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`).catch(() => undefined);
      await c.end();
      await stopServer();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}
