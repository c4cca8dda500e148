// A webhook's signing secret, shown once after creation or rotation: the
// server keeps it only to sign, and no page shows it again.
export function OneTimeSecret({ secret }: { secret: string }) {
  return (
    <div className="one-time" role="status">
      <p>
        <strong>Signing secret</strong> — copy it into your receiver now; it is not shown again.
      </p>
      <code className="secret">{secret}</code>
      <p className="muted small">
        Verify each request: HMAC-SHA256 with this secret over <code>{'<X-Aegis-Timestamp>.<raw body>'}</code>, compared with{' '}
        <code>X-Aegis-Signature</code> (see docs/alerts.md).
      </p>
    </div>
  );
}
