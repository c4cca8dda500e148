// A channel's recent deliveries: what went (an alert, a digest, a test), its
// status, the answer's code, attempts, when, the next retry and the last error.
import type { DeliveryView } from '@/lib/alerts/queries';

const STATUS: Record<DeliveryView['status'], string> = { queued: 'Queued', failed: 'Failed', sent: 'Sent', gave_up: 'Gave up' };
const KIND: Record<DeliveryView['kind'], string> = { immediate: 'Alert', digest: 'Digest', test: 'Test' };

const when = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—');

export function DeliveryLog({ name, deliveries }: { name: string; deliveries: DeliveryView[] }) {
  if (deliveries.length === 0) {
    return <p className="muted small">Nothing sent yet. New anomalies that match the rules go out after the next engine run; “Send test” sends a sample now.</p>;
  }
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">Recent deliveries of {name}</caption>
        <thead>
          <tr>
            <th scope="col">Made</th>
            <th scope="col">What</th>
            <th scope="col">Status</th>
            <th scope="col">Code</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last attempt</th>
            <th scope="col">Next attempt / error</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={d.id}>
              <td>{when(d.createdAt)}</td>
              <td>
                {KIND[d.kind]}
                {d.kind === 'test' ? '' : ` · ${d.anomalyCount} anomal${d.anomalyCount === 1 ? 'y' : 'ies'}`}
                {d.digestDay ? ` · ${d.digestDay}` : ''}
              </td>
              <td>{STATUS[d.status]}</td>
              <td>{d.responseCode ?? '—'}</td>
              <td>
                {d.attempts} / {d.maxAttempts}
              </td>
              <td>{when(d.lastAttemptAt)}</td>
              <td className="small">
                {d.nextAttemptAt ? <div>Next: {when(d.nextAttemptAt)}</div> : null}
                {d.lastError ? <div className="muted">{d.lastError}</div> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
