// The database a command works on: the owner and app connections from the
// environment, or the project's embedded PostgreSQL (data in .data/pg),
// started for the run when DATABASE_URL is unset. Used by the entry points
// in scripts/ (db, run-app, optimize, worker).
import { APP_ROLE, withCredentials } from '../../lib/db/config';
import { setAppPassword, startProjectEmbedded } from './embedded';
import { migrate } from './migrate';

export interface Target {
  /** Null when DATABASE_URL is set without DATABASE_OWNER_URL (the web tier need not hold the owner's password). */
  ownerUrl: string | null;
  appUrl: string;
  stop: () => Promise<void>;
}

/** Owner and app connections: from the environment, or the embedded server (started here). */
export async function openTarget(): Promise<Target> {
  if (process.env.DATABASE_URL) {
    const ownerUrl = process.env.DATABASE_OWNER_URL ?? null;
    return { ownerUrl, appUrl: process.env.DATABASE_URL, stop: async () => undefined };
  }
  const { server, state, ownerUrl } = await startProjectEmbedded();
  return {
    ownerUrl,
    appUrl: withCredentials(ownerUrl, APP_ROLE, state.appPassword),
    stop: () => server.stop(),
  };
}

/** The owner connection, or a clear error: migrations run as the schema owner, never as the app role. */
export function requireOwner(target: Target): string {
  if (!target.ownerUrl) {
    throw new Error('DATABASE_URL is set but DATABASE_OWNER_URL is not: this command runs as the schema owner, never as the app role.');
  }
  return target.ownerUrl;
}

/** Migrate, and on the embedded server give the app role its password. */
export async function prepare(target: Target, log: (l: string) => void = console.log): Promise<void> {
  const ownerUrl = requireOwner(target);
  const r = await migrate(ownerUrl, log);
  log(r.applied.length ? `migrated: ${r.applied.join(', ')}` : 'database up to date');
  if (!process.env.DATABASE_URL) {
    const password = new URL(target.appUrl).password;
    await setAppPassword(ownerUrl, decodeURIComponent(password));
  }
}
