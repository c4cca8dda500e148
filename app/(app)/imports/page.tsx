import type { Metadata } from 'next';
import { ImportHistory } from '@/components/imports/ImportHistory';
import { UploadForm } from '@/components/imports/UploadForm';
import { PageHeader } from '@/components/ui/PageHeader';
import { importsPageData, parseHistoryPage } from '@/lib/ingest/page-data';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Imports' };

export default async function ImportsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const page = parseHistoryPage(await searchParams);
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) => importsPageData(trx, tenant.tenantId, { page }));
  const canUpload = hasRole(role, 'buyer');
  return (
    <>
      <PageHeader
        title="Imports"
        description={`Daily metrics for ${tenant.tenantName} from each platform's CSV export: preview what a file would change, then import it. Imports through the API and the command line are listed here too.`}
      />
      {canUpload ? (
        <UploadForm tenantId={tenant.tenantId} style={data.style} yesterday={data.yesterday} savedMappings={data.savedMappings} />
      ) : (
        <p className="notice notice-warn">Viewers read the history; uploading a file needs the Buyer role.</p>
      )}
      <ImportHistory history={data.history} style={data.style} canUpload={canUpload} />
    </>
  );
}
