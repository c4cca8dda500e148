// The queue's auto-apply panel: which types apply by themselves on each
// platform (or that nothing does), and what the loop applied in the last 7
// days, each with its Undo while the 24 hours last and nobody changed it since.
import Link from 'next/link';
import { formatMoney, type NumberStyle } from '@/lib/format/number';
import { formatInZone } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import type { AutoApplication, PlatformAutoApply } from '@/lib/recommendations/auto-apply';
import { TYPE_LABEL } from '@/lib/recommendations/labels';
import { UndoAutoApplyForm } from './UndoAutoApplyForm';
import styles from './recommendations.module.css';

const pct = (f: number) => `${Math.round(f * 1000) / 10} %`;

/** "Meta: budget increases up to 20 %, budget decreases of any size; pauses wait for a buyer." */
export function policyText(p: PlatformAutoApply): string {
  const on = p.types.filter((t) => t.enabled);
  const parts = on.map((t) =>
    t.type === 'pause' ? 'pauses' : `${TYPE_LABEL[t.type]!.toLowerCase()}s ${t.maxStep !== null && t.maxStep < 1 ? `up to ${pct(t.maxStep)}` : 'of any size'}`,
  );
  const off = p.types.filter((t) => !t.enabled).map((t) => (t.type === 'pause' ? 'pauses' : `${TYPE_LABEL[t.type]!.toLowerCase()}s`));
  const head = parts.length ? `applies ${parts.join(', ')} by itself` : 'applies nothing by itself';
  return `${platformLabel(p.platform)}: ${head}${off.length ? `; ${off.join(' and ')} wait for a buyer` : ''}.`;
}

function change(a: AutoApplication, style: NumberStyle): string {
  if (a.type === 'pause') return `${a.before.status ?? '—'} → ${a.after.status ?? '—'}`;
  return `${formatMoney(a.before.dailyBudget, style)} → ${formatMoney(a.after.dailyBudget, style)} a day`;
}

export function AutoApplyPanel({
  policies,
  applied,
  style,
  timeZone,
  tenantId,
  canUndo,
}: {
  policies: PlatformAutoApply[];
  applied: AutoApplication[];
  style: NumberStyle;
  timeZone: string;
  tenantId: string;
  canUndo: boolean;
}) {
  const on = policies.filter((p) => p.switchedOn && p.types.some((t) => t.enabled));
  const when = (iso: string) => formatInZone(iso, timeZone, style.locale);
  return (
    <section className="card" aria-labelledby="auto-apply-title">
      <h2 id="auto-apply-title">Applied automatically</h2>
      {on.length === 0 ? (
        <p className="muted">
          Auto-apply is off: every recommendation waits for a decision here. <Link href="/settings#auto-apply">Settings</Link>
        </p>
      ) : (
        <>
          <ul className={styles.policies}>
            {on.map((p) => (
              <li key={p.platform}>{policyText(p)}</li>
            ))}
          </ul>
          <p className="muted small">
            Other platforms and types wait for a buyer. A change applied by itself can be undone for 24 hours.{' '}
            <Link href="/settings#auto-apply">Settings</Link>
          </p>
        </>
      )}
      {applied.length === 0 ? (
        on.length ? <p>Nothing was applied automatically in the last 7 days.</p> : null
      ) : (
        <ul className={styles.applied} aria-label="Applied automatically in the last 7 days">
          {applied.map((a) => {
            const name = a.campaignName ?? a.campaignId;
            return (
              <li key={a.recommendationId} className={styles.appliedItem}>
                <div>
                  <strong>{TYPE_LABEL[a.type]}</strong> · {name} <span className="muted">({platformLabel(a.platform)})</span>
                </div>
                <div className={styles.appliedFacts}>
                  <span>{change(a, style)}</span>
                  <span className="muted">applied {when(a.appliedAt)}</span>
                  {a.undone ? (
                    <span>
                      Undone{a.undone.by ? ` by ${a.undone.by}` : ''} {when(a.undone.at)}
                    </span>
                  ) : a.noUndo ? (
                    <span className="muted">{a.noUndo}</span>
                  ) : (
                    <span className="muted">undo until {when(a.undoUntil)}</span>
                  )}
                </div>
                {canUndo && (!a.noUndo || a.undone) ? (
                  <UndoAutoApplyForm id={a.recommendationId} tenantId={tenantId} label={`${TYPE_LABEL[a.type]} of ${name}`} available={!a.noUndo} />
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      {!canUndo && applied.some((a) => !a.noUndo) ? <p className="muted small">Undoing needs the Buyer role.</p> : null}
    </section>
  );
}
