import type { Metadata } from 'next';
import Link from 'next/link';
import { AutoApplyForm } from '@/components/settings/AutoApplyForm';
import { PlatformConfigForm } from '@/components/settings/PlatformConfigForm';
import styles from '@/components/settings/settings.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { tenantRead } from '@/lib/request/read';
import { platformSettings } from '@/lib/settings/platform-config';
import { FREQUENCY_LABEL } from '@/lib/settings/platform-config-schema';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Settings' };

export default async function Page() {
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) => platformSettings(trx, tenant.tenantId));
  const canEdit = hasRole(role, 'buyer');
  return (
    <>
      <PageHeader
        title="Settings"
        description="What the engine does on each platform you use: its thresholds, how strict its tests are, when it runs, and what it may apply by itself."
      />
      <p className="muted small">
        Scheduled runs of the account: {FREQUENCY_LABEL[data.schedule].toLowerCase()} (the most frequent choice among your platforms). Money is
        in {data.unit.style.currency}.
      </p>
      <div id="auto-apply">
        {data.platforms.length === 0 ? (
          <div className="empty-state" style={{ marginBottom: "1.25rem" }}>
            No platform yet: a platform’s settings appear here once its metrics are loaded (<Link href="/imports">Imports</Link>).
          </div>
        ) : (
          data.platforms.map((p) => (
            <section className="card" key={p.platform} id={`platform-${p.platform}`} aria-labelledby={`platform-${p.platform}-title`}>
              <div className={styles.cardHead}>
                <h2 id={`platform-${p.platform}-title`}>{p.label}</h2>
                <span className="muted small">
                  {p.exists ? `Settings saved ${p.updatedAt}` : 'No settings saved yet'}
                  {p.hasMetrics ? null : ' · no metrics loaded yet'}
                </span>
              </div>
              {p.exists ? null : (
                <p className={`notice notice-warn ${styles.status}`}>
                  {p.label} has metrics but no settings: the engine judges it on the defaults shown below (no max CPA, no target ROAS).{' '}
                  {canEdit ? `Change what you need and create settings for ${p.label}.` : 'A buyer can create its settings.'}
                </p>
              )}
              <PlatformConfigForm view={p} unit={data.unit} tenantId={tenant.tenantId} canEdit={canEdit} />
              <div className={styles.autoApply}>
                <h3>Auto-apply choices</h3>
                <p className="muted small">
                  Only changes the product makes itself can apply automatically: daily budgets and pauses (pauses never do unless ticked). The
                  largest step is the change of the daily budget against the current one (20 = at most 20 % up or down); blank is any step the
                  engine proposes (it raises by at most 50 %). Larger changes wait in the queue. Bids, creatives, audiences and timing are changed
                  on the platform by a buyer.
                </p>
                {p.autoApply ? (
                  <AutoApplyForm value={p.autoApply} tenantId={tenant.tenantId} canEdit={canEdit} embedded />
                ) : (
                  <p className="muted">Once {p.label} has settings, choose here which changes apply by themselves.</p>
                )}
              </div>
            </section>
          ))
        )}
      </div>
      <section className="card" id="alerts" aria-labelledby="alerts-title">
        <h2 id="alerts-title">Alerts</h2>
        <p className="muted">
          Send new anomalies to email lists and webhooks (Slack works as is), immediately or as a daily digest:{' '}
          <Link href="/settings/alerts">alert channels</Link>.
        </p>
      </section>
      <section className="card" id="api-keys" aria-labelledby="api-keys-title">
        <h2 id="api-keys-title">API keys</h2>
        <p className="muted">
          Let your own systems send daily metrics to the ingest API (<code>POST /api/v1/metrics</code>):{' '}
          <Link href="/settings/api-keys">API keys</Link> (admins create and revoke them).
        </p>
      </section>
    </>
  );
}
