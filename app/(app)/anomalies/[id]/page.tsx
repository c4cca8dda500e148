import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import Link from 'next/link';
import { AnomalyDetail } from '@/components/anomalies/AnomalyDetail';
import { PageHeader } from '@/components/ui/PageHeader';
import { anomalyDetail } from '@/lib/anomalies/page-data';
import { isUuid } from '@/lib/db/pool';
import { tenantStyle } from '@/lib/performance/queries';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Anomaly' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!isUuid(id)) notFound();
  const { tenant, role, data } = await tenantRead('viewer', async (trx, { tenant }) => {
    const { lastDay, timezone, currency, locale } = await tenantStyle(trx, tenant.tenantId);
    return { style: { currency, locale }, timeZone: timezone, detail: await anomalyDetail(trx, tenant.tenantId, id.toLowerCase(), {}, lastDay) };
  });
  // Another tenant's anomaly is invisible: not found, like an unknown id.
  if (!data.detail) notFound();
  return (
    <>
      <PageHeader title="Anomaly" description="One anomaly, its day in context, the engine's test and its history.">
        <Link href="/anomalies">Board</Link>
      </PageHeader>
      <AnomalyDetail detail={data.detail} style={data.style} timeZone={data.timeZone} tenantId={tenant.tenantId} canMove={hasRole(role, 'buyer')} closeHref={null} />
    </>
  );
}
