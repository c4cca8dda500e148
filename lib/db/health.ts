// Whether the web process should answer a page with 503 because the database
// is away. A page that fails mid-render cannot change its status any more
// (500 before its first byte, 200 once it streams), so the request that meets
// the outage gets the error page with its retry, and records the outage here;
// from then on the proxy (proxy.ts) asks this module before each page, and
// while a probe connection cannot be made it answers 503 with Retry-After
// itself, without rendering. The first probe that connects clears the record:
// nothing is probed while the database has not failed, and at most one probe
// runs a second however many requests arrive.
//
// The record lives on globalThis: the proxy and the pages run in the same
// process but are bundled apart, so a module variable would be two variables.
import pg from 'pg';
import { isDatabaseUnavailable } from './unavailable';

/** A probe's answer is reused this long (ms): a burst of requests opens one connection. */
export const PROBE_REUSE_MS = 1000;
/** How long a probe may take to connect and answer (ms). */
const PROBE_TIMEOUT_MS = 1500;

interface Health {
  /** When a request last met the database away (ms since the epoch); null: no outage recorded. */
  downSince: number | null;
  probe: Promise<boolean> | null;
  probedAt: number;
}

const KEY = Symbol.for('aegis.database.health');

function health(): Health {
  const g = globalThis as { [KEY]?: Health };
  g[KEY] ??= { downSince: null, probe: null, probedAt: 0 };
  return g[KEY];
}

/** Called where a request met the database away (lib/db/pool.ts): pages probe before rendering until it is back. */
export function noteDatabaseUnavailable(now = Date.now()): void {
  const h = health();
  h.downSince ??= now;
}

/** Whether an outage is recorded (for tests and the proxy's fast path). */
export function databaseOutageRecorded(): boolean {
  return health().downSince !== null;
}

/** Forgets a recorded outage (a probe connected). */
export function clearDatabaseOutage(): void {
  const h = health();
  h.downSince = null;
  h.probe = null;
}

/**
 * True while a recorded outage goes on: a probe connection cannot be made (or
 * is cut) for a reason that waiting cures. A probe refused for any other
 * reason (a wrong password, a missing database) is no outage: the page renders
 * and shows the fault as it would. Without a recorded outage: false at once.
 */
export async function databaseStillDown(url: () => string, now = Date.now()): Promise<boolean> {
  const h = health();
  if (h.downSince === null) return false;
  if (h.probe === null || now - h.probedAt >= PROBE_REUSE_MS) {
    h.probedAt = now;
    h.probe = probe(url);
  }
  const reachable = await h.probe;
  if (reachable) clearDatabaseOutage();
  return !reachable;
}

async function probe(url: () => string): Promise<boolean> {
  let client: pg.Client | null = null;
  try {
    client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS, application_name: 'aegis-health' });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (err) {
    return !isDatabaseUnavailable(err);
  } finally {
    if (client) await client.end().catch(() => undefined);
  }
}
