import type { Metadata } from 'next';
import Link from 'next/link';
import { AutoApplyForm } from '@/components/settings/AutoApplyForm';
import { PageHeader } from '@/components/ui/PageHeader';
import { autoApplyPolicies } from '@/lib/recommendations/auto-apply';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Settings' };

export default async function Page() {
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) => autoApplyPolicies(trx, tenant.tenantId));
  const canEdit = hasRole(role, 'buyer');
  return (
    <>
      <PageHeader title="Settings" description="Per-platform settings of the engine." />
      <section className="card" id="auto-apply" aria-labelledby="auto-apply-title">
        <h2 id="auto-apply-title">Auto-apply</h2>
        <p className="muted">
          Which recommendations the daily loop applies without waiting for a buyer. Only changes the product makes itself can apply
          automatically: daily budgets and pauses. Pauses never do unless you tick them.
        </p>
        <p className="muted small">
          The largest step is the change of the daily budget against the current one (20 = at most 20 % up or down); blank is any step the
          engine proposes (it raises by at most 50 %). Larger changes wait in the queue. Bids, creatives, audiences and timing are changed on
          the platform by a buyer: they never apply by themselves.
        </p>
        {canEdit ? null : <p className="muted">You can read these settings; changing them needs the Buyer role.</p>}
        {data.length === 0 ? (
          <div className="empty-state">No platform has settings in this tenant yet: they appear here once a platform is configured.</div>
        ) : (
          data.map((p) => <AutoApplyForm key={p.platform} value={p} tenantId={tenant.tenantId} canEdit={canEdit} />)
        )}
      </section>
      <section className="card" id="alerts" aria-labelledby="alerts-title">
        <h2 id="alerts-title">Alerts</h2>
        <p className="muted">
          Send new anomalies to email lists and webhooks (Slack works as is), immediately or as a daily digest:{' '}
          <Link href="/settings/alerts">alert channels</Link>.
        </p>
      </section>
    </>
  );
}
