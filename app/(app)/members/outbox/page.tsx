import type { Metadata } from 'next';
import Link from 'next/link';
import { MailServerNote } from '@/components/mail/MailServerNote';
import { OutboxTable } from '@/components/mail/OutboxTable';
import { PageHeader } from '@/components/ui/PageHeader';
import { Pagination } from '@/components/ui/Pagination';
import { listOutbox } from '@/lib/mail/queries';
import { parseOutboxFilter } from '@/lib/mail/schema';
import { mailServerStatus } from '@/lib/mail/transport';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Outbox' };

export default async function OutboxPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const filter = parseOutboxFilter(await searchParams);
  const { tenant, data: result } = await tenantRead('admin', (trx, { tenant }) => listOutbox(trx, tenant.tenantId, filter));
  return (
    <>
      <p className="breadcrumb">
        <Link href="/members">← Members</Link>
      </p>
      <PageHeader title="Outbox" description={`Mail sent for ${tenant.tenantName} (invitations): to whom, when, and whether it went.`} />
      <MailServerNote status={mailServerStatus()} />
      <p className="muted" aria-live="polite">
        {result.total} {result.total === 1 ? 'message' : 'messages'}.
      </p>
      {result.rows.length ? (
        <OutboxTable rows={result.rows} />
      ) : (
        <p className="empty-state">No mail yet. Invitations sent from the Members page appear here.</p>
      )}
      <Pagination page={result.page} pages={result.pages} basePath="/members/outbox" params={{}} />
    </>
  );
}
