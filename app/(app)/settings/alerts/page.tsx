import type { Metadata } from 'next';
import { ChannelActions } from '@/components/alerts/ChannelActions';
import { ChannelForm } from '@/components/alerts/ChannelForm';
import { DeliveryLog } from '@/components/alerts/DeliveryLog';
import { PageHeader } from '@/components/ui/PageHeader';
import { alertSettings } from '@/lib/alerts/queries';
import { SEVERITY_LABEL, TYPE_LABEL } from '@/lib/alerts/schema';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Alerts' };

export default async function Page() {
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) => alertSettings(trx, tenant.tenantId));
  const canEdit = hasRole(role, 'admin');
  return (
    <>
      <PageHeader title="Alerts" description="Where new anomalies are sent: email lists and webhooks, each with its own rules." />
      {canEdit ? null : <p className="notice notice-warn">You can read these channels; changing them needs the Admin role.</p>}
      {data.channels.length === 0 ? (
        <div className="empty-state">
          No alert channel yet: new anomalies are only on the anomaly board.{' '}
          {canEdit ? 'Add an email list or a webhook below.' : 'Ask an admin to add an email list or a webhook.'}
        </div>
      ) : (
        data.channels.map((c) => (
          <section className="card" key={c.id} aria-labelledby={`ch-${c.id}-title`}>
            <h2 id={`ch-${c.id}-title`}>
              {c.name} <span className="muted small">{c.kind === 'webhook' ? 'Webhook' : 'Email'}</span>
              {c.enabled ? null : <span className="muted small"> · disabled</span>}
            </h2>
            <p className="small">
              {c.kind === 'webhook' ? (
                <>
                  Posts to <code>{c.maskedUrl}</code>
                </>
              ) : (
                <>
                  To {[...c.members.map((m) => m.email), ...c.addresses].join(', ') || 'nobody'}
                  {c.goneMembers ? ` (${c.goneMembers} chosen member${c.goneMembers === 1 ? '' : 's'} left the tenant)` : ''}
                </>
              )}
            </p>
            <p className="small">
              {c.severities.map((s) => SEVERITY_LABEL[s]).join(', ')} · {c.types.map((t) => TYPE_LABEL[t]).join(', ')} ·{' '}
              {c.mode === 'digest' ? `daily digest at ${String(c.digestHour).padStart(2, '0')}:00 (${data.timezone})` : 'immediately'}
            </p>
            <ChannelActions tenantId={tenant.tenantId} channelId={c.id} name={c.name} kind={c.kind} enabled={c.enabled} canEdit={canEdit} />
            <h3>Recent deliveries</h3>
            <DeliveryLog name={c.name} deliveries={c.deliveries} />
            {canEdit ? (
              <details>
                <summary>Edit</summary>
                <ChannelForm tenantId={tenant.tenantId} members={data.members} channel={c} canEdit={canEdit} timezone={data.timezone} />
              </details>
            ) : null}
          </section>
        ))
      )}
      <section className="card" aria-labelledby="new-channel-title">
        <h2 id="new-channel-title">Add a channel</h2>
        <ChannelForm tenantId={tenant.tenantId} members={data.members} canEdit={canEdit} timezone={data.timezone} />
      </section>
    </>
  );
}
