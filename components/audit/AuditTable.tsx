import Link from 'next/link';
import type { AuditRow } from '@/lib/audit/queries';

function when(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19) + ' UTC';
}

export function AuditTable({ rows }: { rows: AuditRow[] }) {
  return (
    <table className="table">
      <caption className="visually-hidden">Audit log entries, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Action</th>
          <th scope="col">Entity</th>
          <th scope="col">
            <span className="visually-hidden">Details</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <td>
              <time dateTime={r.occurredAt}>{when(r.occurredAt)}</time>
            </td>
            <td>{r.actor}</td>
            <td>
              <code>{r.action}</code>
            </td>
            <td>
              {r.entityType}
              {r.entityId ? <span className="muted"> {r.entityId}</span> : null}
            </td>
            <td>
              <Link href={`/audit/${r.id}`} aria-label={`Details of entry ${r.id}`}>
                Details
              </Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export { when as formatAuditTime };
