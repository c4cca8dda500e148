import Link from 'next/link';
import { ROLE_LABEL } from '@/lib/auth/roles';
import type { Member } from '@/lib/members/queries';

export function MembersTable({ members, canManage, selfId }: { members: Member[]; canManage: boolean; selfId: string }) {
  return (
    <table className="table">
      <caption className="visually-hidden">Members of this tenant</caption>
      <thead>
        <tr>
          <th scope="col">Email</th>
          <th scope="col">Name</th>
          <th scope="col">Role</th>
          <th scope="col">Member since</th>
          {canManage ? (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {members.map((m) => (
          <tr key={m.userId}>
            <td>
              {m.email}
              {m.userId === selfId ? <span className="muted"> (you)</span> : null}
              {m.disabled ? <span className="muted"> (disabled)</span> : null}
            </td>
            <td>{m.name ?? '—'}</td>
            <td>{ROLE_LABEL[m.role]}</td>
            <td>
              <time dateTime={m.joinedAt}>{m.joinedAt.slice(0, 10)}</time>
            </td>
            {canManage ? (
              <td>
                <Link href={`/members/${m.userId}`} aria-label={`Manage ${m.email}`}>
                  Manage
                </Link>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
