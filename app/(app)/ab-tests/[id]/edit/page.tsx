import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { AbTestForm } from '@/components/abtests/AbTestForm';
import { PageHeader } from '@/components/ui/PageHeader';
import { abTestFormData } from '@/lib/abtests/form-data';
import { STATUS_LABEL } from '@/lib/abtests/schema';
import { isUuid } from '@/lib/db/pool';
import { tenantRead } from '@/lib/request/read';
import { hasRole, ROLE_LABEL } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Edit A/B test' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export default async function Page({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: SearchParams }) {
  const { id } = await params;
  if (!isUuid(id)) notFound();
  const sp = await searchParams;
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) =>
    abTestFormData(trx, tenant.tenantId, { testId: id.toLowerCase(), platform: first(sp.platform), campaign: first(sp.campaign) }),
  );
  // Another tenant's test is invisible: not found, like an unknown id.
  if (!data?.test) notFound();
  const test = data.test;
  const results = `/ab-tests/${test.id}`;
  const closed = test.status === 'completed' || test.status === 'cancelled';
  return (
    <>
      <PageHeader
        title={`Edit: ${test.name}`}
        description={
          test.status === 'draft'
            ? 'A draft: everything can change until it starts.'
            : closed
              ? undefined
              : 'Started: the name, hypothesis, variant names, end date and entered totals can change; the design is fixed.'
        }
      >
        <Link href={results}>Results</Link>
      </PageHeader>
      {!hasRole(role, 'buyer') ? (
        <p className="notice notice-warn" role="status">
          Editing a test needs the Buyer role; you are {ROLE_LABEL[role]}. Its <Link href={results}>results page</Link> shows everything about it.
        </p>
      ) : closed ? (
        <p className="notice notice-warn" role="status">
          This test is {STATUS_LABEL[test.status]}: it can no longer be edited. Its <Link href={results}>results page</Link> keeps what it found.
        </p>
      ) : (
        <AbTestForm data={data} tenantId={tenant.tenantId} />
      )}
    </>
  );
}
