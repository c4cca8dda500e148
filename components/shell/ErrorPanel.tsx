'use client';
// What an error boundary shows: what went wrong in plain words, a reference
// to find it in the server log, and a retry. Never a stack trace.
export function ErrorPanel({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
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
