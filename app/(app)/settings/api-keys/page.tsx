import type { Metadata } from 'next';
import { ApiKeysCreateForm } from '@/components/settings/ApiKeysCreateForm';
import { ApiKeysTable } from '@/components/settings/ApiKeysTable';
import { PageHeader } from '@/components/ui/PageHeader';
import { API_KEY_NAME_MAX, API_RATE_LIMIT, listApiKeys, MAX_ACTIVE_KEYS } from '@/lib/ingest/api-keys';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'API keys' };

export default async function Page() {
  // Only admins read the keys at all: the list is theirs to manage.
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant, role }) =>
    hasRole(role, 'admin') ? listApiKeys(trx, tenant.tenantId) : Promise.resolve(null),
  );
  const header = (
    <PageHeader
      title="API keys"
      description={
        <>
          Keys let your own systems send daily metrics to <code>POST /api/v1/metrics</code>, into this tenant only (
          <a href="/api/v1/openapi.json">OpenAPI description</a>).
        </>
      }
    />
  );
  if (!data || !hasRole(role, 'admin')) {
    return (
      <>
        {header}
        <p className="notice notice-warn">API keys are managed by the tenant&rsquo;s admins. Ask an admin for a key, or to revoke one.</p>
      </>
    );
  }
  const active = data.filter((k) => !k.revokedAt).length;
  return (
    <>
      {header}
      <section className="card" aria-labelledby="new-key-title">
        <h2 id="new-key-title">Create a key</h2>
        <p className="muted small">
          A key writes metrics and nothing else (the Buyer role&rsquo;s imports, for this tenant; it cannot read, approve or change settings). It is
          shown once, when it is made; only its first characters are kept for the list. At most {API_RATE_LIMIT.max} requests a minute per key,{' '}
          {MAX_ACTIVE_KEYS} active keys per tenant ({active} now).
        </p>
        <ApiKeysCreateForm tenantId={tenant.tenantId} nameMax={API_KEY_NAME_MAX} />
      </section>
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">Keys</h2>
        {data.length === 0 ? (
          <div className="empty-state">No API key yet: create one above, then send it as <code>Authorization: Bearer &lt;key&gt;</code>.</div>
        ) : (
          <div className="table-wrap">
            <ApiKeysTable tenantId={tenant.tenantId} keys={data} />
          </div>
        )}
      </section>
    </>
  );
}
