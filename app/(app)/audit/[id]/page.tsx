import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { PageHeader } from '@/components/ui/PageHeader';
import { getAuditEntry } from '@/lib/audit/queries';
import { formatUtc } from '@/lib/format/time';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Audit entry' };

export default async function AuditEntryPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { data: entry } = await tenantRead('viewer', (trx, { tenant }) => getAuditEntry(trx, tenant.tenantId, id));
  if (!entry) notFound();
  return (
    <>
      <p className="breadcrumb">
        <Link href="/audit">← Audit</Link>
      </p>
      <PageHeader title={`Audit entry ${entry.id}`} />
      <dl className="details">
        <dt>When</dt>
        <dd>
          <time dateTime={entry.occurredAt}>{formatUtc(entry.occurredAt)}</time>
        </dd>
        <dt>Who</dt>
        <dd>{entry.actor}</dd>
        <dt>Action</dt>
        <dd>
          <code>{entry.action}</code>
        </dd>
        <dt>Entity</dt>
        <dd>
          {entry.entityType} {entry.entityId ?? ''}
        </dd>
      </dl>
      <div className="diff">
        <section aria-labelledby="before-title">
          <h2 id="before-title">Before</h2>
          <pre>{entry.before === null ? '—' : JSON.stringify(entry.before, null, 2)}</pre>
        </section>
        <section aria-labelledby="after-title">
          <h2 id="after-title">After</h2>
          <pre>{entry.after === null ? '—' : JSON.stringify(entry.after, null, 2)}</pre>
        </section>
      </div>
    </>
  );
}
