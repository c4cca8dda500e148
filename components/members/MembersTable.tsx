// The members list: plain rows for the shared data table (sorted in the
// browser; the whole list is on the page).
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import { ROLE_LABEL } from '@/lib/tenancy/roles';
import type { Member } from '@/lib/members/queries';

const BASE_COLUMNS: DataColumn[] = [
  // Addresses read in character order, as in a mail client (natural order would put a-84 before a-543).
  { key: 'email', header: 'Email', noteKey: 'emailNote', sortAs: 'text' },
  { key: 'name', header: 'Name' },
  { key: 'role', header: 'Role' },
  { key: 'joinedAt', header: 'Member since', kind: 'date' },
];
const MANAGE_COLUMN: DataColumn = { key: 'manage', header: 'Actions', kind: 'link', hrefKey: 'manageHref', labelKey: 'manageLabel', hideHeader: true };
const COLUMNS_READ = BASE_COLUMNS;
const COLUMNS_MANAGE = [...BASE_COLUMNS, MANAGE_COLUMN];

function note(m: Member, selfId: string): string | null {
  const notes = [m.userId === selfId ? '(you)' : null, m.disabled ? '(disabled)' : null, m.pendingActivation ? '(not activated yet)' : null];
  return notes.filter(Boolean).join(' ') || null;
}

export function MembersTable({ members, canManage, selfId }: { members: Member[]; canManage: boolean; selfId: string }) {
  const rows: DataRow[] = members.map((m) => ({
    id: m.userId,
    email: m.email,
    emailNote: note(m, selfId),
    name: m.name,
    role: ROLE_LABEL[m.role],
    joinedAt: m.joinedAt,
    manage: 'Manage',
    manageHref: `/members/${m.userId}`,
    manageLabel: `Manage ${m.email}`,
  }));
  return (
    <DataTable
      caption="Members of this tenant"
      columns={canManage ? COLUMNS_MANAGE : COLUMNS_READ}
      rows={rows}
      sorting={{ mode: 'client', initial: { key: 'email' } }}
    />
  );
}
