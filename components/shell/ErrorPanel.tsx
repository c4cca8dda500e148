'use client';
// What an error boundary shows: what went wrong in plain words, a reference
// to find it in the server log, and a retry. Never a stack trace.
import { DATABASE_UNAVAILABLE_PAGE, DATABASE_UNAVAILABLE_TITLE, isDatabaseUnavailableDigest } from '@/lib/db/unavailable';

export function ErrorPanel({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  // The database is away (lib/db/pool.ts marks such errors): a passing state, not a fault to report.
  if (isDatabaseUnavailableDigest(error.digest)) {
    return (
      <section className="error-panel" role="alert">
        <h1>{DATABASE_UNAVAILABLE_TITLE}</h1>
        <p>{DATABASE_UNAVAILABLE_PAGE}</p>
        <button type="button" className="button" onClick={reset}>
          Try again
        </button>
      </section>
    );
  }
  // In production the server replaces its errors' messages with a generic one (and a digest);
  // only errors raised in the browser keep theirs, and those are safe to show.
  const serverError = Boolean(error.digest);
  return (
    <section className="error-panel" role="alert">
      <h1>Something went wrong</h1>
      <p>
        {serverError
          ? 'The server could not load this page. It may be a passing problem with the database or the network.'
          : `This page failed in your browser: ${error.message}`}
      </p>
      {error.digest ? (
        <p className="muted">
          Reference for your administrator: <code>{error.digest}</code>
        </p>
      ) : null}
      <button type="button" className="button" onClick={reset}>
        Try again
      </button>
    </section>
  );
}
