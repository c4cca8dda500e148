// Whether a failure means the database cannot be reached right now (stopped,
// restarting, refusing connections, or the connection cut under a query), as
// opposed to a fault of the query or its data. The first is worth a "try
// again in a moment" and an HTTP 503 with Retry-After; the second stays an
// error. No imports: the error boundaries (browser code) read the digest.

/**
 * SQLSTATEs of a server that is going away or not taking connections: class
 * 08 (connection exception) and these. A wrong password (28P01) or a missing
 * database (3D000) is a configuration fault that retrying does not cure.
 */
const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast/smart shutdown
  '57P02', // crash_shutdown: another backend crashed, the server is restarting
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '57P05', // idle_session_timeout: the server closed an idle connection
  '53300', // too_many_connections: every slot taken for the moment
]);

/** Node's socket errors while connecting or talking to the server. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** node-postgres reports a lost or never-made connection by message alone (no code). */
const DRIVER_MESSAGES = [
  /^Connection terminated unexpectedly$/,
  /^Connection terminated due to connection timeout$/,
  // A client that lost its connection earlier in the same transaction (the rollback after a killed query says this).
  /^Client has encountered a connection error and is not queryable$/,
  // The pool's connectionTimeoutMillis: no connection could be had in time.
  /^timeout exceeded when trying to connect$/,
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function unavailable(err: unknown, depth: number): boolean {
  if (depth > 4 || err === null || typeof err !== 'object') return false;
  const e = err as ErrorLike;
  if (typeof e.code === 'string') {
    if (e.code.startsWith('08') && e.code.length === 5) return true;
    if (UNAVAILABLE_STATES.has(e.code) || SOCKET_CODES.has(e.code)) return true;
  }
  if (typeof e.message === 'string' && DRIVER_MESSAGES.some((re) => re.test(e.message as string))) return true;
  // A connection to several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError of each.
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => unavailable(x, depth + 1))) return true;
  return unavailable(e.cause, depth + 1);
}

/** True when err (or its cause) says the database is unreachable or the connection was cut; false for any other failure. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return unavailable(err, 0);
}

/**
 * The digest a server error carries to the error boundary. Next keeps the
 * digest an error already has (and replaces only its message in
 * production), so the boundary can tell "the database is away" from a bug.
 */
export const DATABASE_UNAVAILABLE_DIGEST = 'AEGIS_DATABASE_UNAVAILABLE';

export function isDatabaseUnavailableDigest(digest: unknown): boolean {
  return digest === DATABASE_UNAVAILABLE_DIGEST;
}

/** Marks an unavailability error with the digest (in place) and returns it; any other error is returned untouched. */
export function markDatabaseUnavailable<E>(err: E): E {
  if (isDatabaseUnavailable(err) && err !== null && typeof err === 'object' && !Object.isFrozen(err)) {
    (err as { digest?: string }).digest = DATABASE_UNAVAILABLE_DIGEST;
  }
  return err;
}

/** Seconds a client is asked to wait before trying again (Retry-After). */
export const RETRY_AFTER_SECONDS = 5;

export const DATABASE_UNAVAILABLE_TITLE = 'Temporarily unavailable';
export const DATABASE_UNAVAILABLE_PAGE = 'AEGIS cannot reach its database at the moment, so this page could not be loaded. This is usually brief: try again in a moment.';
export const DATABASE_UNAVAILABLE_API = `The database is temporarily unavailable; nothing was written. Try again in ${RETRY_AFTER_SECONDS} seconds.`;
