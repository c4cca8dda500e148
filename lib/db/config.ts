// Where the database is: connection strings from the environment, or the
// embedded PostgreSQL the project's scripts start when DATABASE_URL is unset.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const APP_ROLE = 'aegis_app';
export const OWNER_ROLE = 'aegis_owner';

/** Project root (this file lives in lib/db). */
export const projectRoot = path.resolve(__dirname, '..', '..');

/** The embedded server's port and secrets: written by db/tools/embedded.ts, read by the processes it serves. */
export const embeddedStateFile = path.join(projectRoot, '.data', 'embedded.json');

export interface EmbeddedState {
  port: number;
  superPassword: string;
  appPassword: string;
  database: string;
}

export function readEmbeddedState(): EmbeddedState | null {
  if (!existsSync(embeddedStateFile)) return null;
  return JSON.parse(readFileSync(embeddedStateFile, 'utf8')) as EmbeddedState;
}

export function connectionString(opts: { user: string; password: string; port: number; database: string; host?: string }): string {
  const u = encodeURIComponent(opts.user);
  const p = encodeURIComponent(opts.password);
  return `postgres://${u}:${p}@${opts.host ?? '127.0.0.1'}:${opts.port}/${encodeURIComponent(opts.database)}`;
}

/** Replace the database name of a connection string. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** Replace the user (and password) of a connection string. */
export function withCredentials(url: string, user: string, password: string | null): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = password === null ? '' : encodeURIComponent(password);
  return u.toString();
}

/** The app role's connection string, from DATABASE_URL or the embedded state. */
export function appDatabaseUrl(): string {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return fromEnv;
  const state = readEmbeddedState();
  if (!state) {
    throw new Error(
      'DATABASE_URL is not set and no embedded database has been started. Run `npm run demo` or `npm run dev`, ' +
        'or set DATABASE_URL to a connection string for the aegis_app role.',
    );
  }
  return connectionString({ user: APP_ROLE, password: state.appPassword, port: state.port, database: state.database });
}
