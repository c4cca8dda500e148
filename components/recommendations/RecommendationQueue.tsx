'use client';
// The approval queue: each pending recommendation with its evidence in plain
// words, Approve and Dismiss (with a reason), and a bulk decision over the
// ticked ones. One action state per kind of decision lives here, above the
// rows, so its message survives the row leaving the queue once decided.
import Link from 'next/link';
import { useActionState, useEffect, useRef, useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import type { NumberStyle } from '@/lib/format/number';
import type { ActionResult } from '@/lib/request/result';
import { formatMetric } from '@/lib/format/number';
import { platformLabel } from '@/lib/performance/metrics';
import { decideManyAction, decideRecommendationAction } from '@/lib/recommendations/actions';
import { evidenceFigures, testInWords } from '@/lib/recommendations/evidence';
import { impactText, timeLeft, TYPE_LABEL } from '@/lib/recommendations/labels';
import type { PendingRecommendation } from '@/lib/recommendations/queries';
import { DISMISS_REASON_LABEL, DISMISS_REASONS } from '@/lib/recommendations/schema';
import type { EvidenceChartData } from '@/lib/recommendations/evidence-series';
import { EvidenceChart } from './EvidenceChart';
import styles from './recommendations.module.css';

export interface QueueRow extends PendingRecommendation {
  /** The target's performance page, or null (a recommendation without a campaign). */
  href: string | null;
  /** The evidence chart (lib/recommendations/evidence-series.ts); absent where the page did not read it. */
  chart?: EvidenceChartData | null;
  /** Points (0..1) it would add to the optimization score (lib/recommendations/score.ts). */
  uplift?: number | null;
}

/** What current and recommended values measure, by type (db/media_buying/090: bid and timing in money per result). */
const VALUE_METRIC: Readonly<Record<string, 'cpa' | 'ctr' | 'cpm'>> = { bid_adjustment: 'cpa', creative: 'ctr', audience: 'cpm', timing: 'cpa' };

/** Score points as the pages write them: "3.2 pts", "0.4 pts", "< 0.1 pts". */
export function formatUplift(points: number): string {
  const p = points * 100;
  if (!Number.isFinite(p) || p <= 0) return '0 pts';
  if (p < 0.1) return '< 0.1 pts';
  return `${p < 10 ? p.toFixed(1) : Math.round(p)} pts`;
}

function Reason({ id }: { id: string }) {
  return (
    <>
      <label htmlFor={`${id}-reason`} className="visually-hidden">
        Reason
      </label>
      <select id={`${id}-reason`} name="reason" defaultValue="">
        <option value="">Reason…</option>
        {DISMISS_REASONS.map((r) => (
          <option key={r} value={r}>
            {DISMISS_REASON_LABEL[r]}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-details`} className="visually-hidden">
        Details
      </label>
      <input id={`${id}-details`} name="details" placeholder="Details (required for Other)" maxLength={500} />
    </>
  );
}

/** A refused decision's field errors ("Reason: choose why you dismiss it."), which name their field. */
function FieldProblems({ state }: { state: ActionResult<unknown> | null }) {
  const problems = state && !state.ok ? Object.values(state.fieldErrors ?? {}).flatMap((v) => v ?? []) : [];
  if (problems.length === 0) return null;
  return (
    <ul className="notice notice-error" role="alert">
      {problems.map((p) => (
        <li key={p}>{p}</li>
      ))}
    </ul>
  );
}

export function RecommendationQueue({
  rows,
  style,
  tenantId,
  canDecide,
  now,
  emptyText,
}: {
  emptyText: string;
  rows: QueueRow[];
  style: NumberStyle;
  tenantId: string;
  canDecide: boolean;
  now: number;
}) {
  const [one, decideOne, pendingOne] = useActionState(decideRecommendationAction, null);
  const [many, decideBulk, pendingMany] = useActionState(decideManyAction, null);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [current, setCurrent] = useState(0);
  const [help, setHelp] = useState(false);
  const listRef = useRef<HTMLOListElement>(null);

  // Keys to work through the queue without the mouse (not while typing in a field):
  // j / k next and previous, a approve, d dismiss (to its reason), Enter the evidence, ? this help.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey || (t && ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON', 'A', 'SUMMARY'].includes(t.tagName) && e.key === 'Enter')) return;
      if (t && ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName)) return;
      const items = Array.from(listRef.current?.querySelectorAll<HTMLLIElement>(':scope > li') ?? []);
      if (e.key === '?') {
        setHelp((h) => !h);
        e.preventDefault();
        return;
      }
      if (e.key === 'Escape') {
        setHelp(false);
        return;
      }
      if (items.length === 0) return;
      const at = Math.min(current, items.length - 1);
      const go = (i: number) => {
        setCurrent(i);
        items[i]!.focus();
      };
      if (e.key === 'j') go(Math.min(items.length - 1, at + 1));
      else if (e.key === 'k') go(Math.max(0, at - 1));
      else if (e.key === 'a') items[at]!.querySelector<HTMLButtonElement>('button[value="approve"]')?.click();
      else if (e.key === 'd') items[at]!.querySelector<HTMLSelectElement>('select[name="reason"]')?.focus();
      else if (e.key === 'Enter') {
        const d = items[at]!.querySelector('details');
        if (d) d.open = !d.open;
      } else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [current]);
  const busy = pendingOne || pendingMany;
  const disabled = !canDecide || busy;
  const visibleTicked = rows.filter((r) => ticked.has(r.id));
  const byId = new Map(rows.map((r) => [r.id, r]));

  return (
    <div>
      <FormMessage state={one} />
      <FieldProblems state={one} />
      <FormMessage state={many} />
      <FieldProblems state={many} />
      {rows.length === 0 ? <div className={`empty-state ${styles.empty}`}>{emptyText}</div> : null}
      {!canDecide && rows.length > 0 ? <p className="muted">Viewers see the queue; buyers and admins approve or dismiss.</p> : null}

      {rows.length > 0 ? (
      <ActionForm action={decideBulk} className={styles.bulk} aria-label="Decide the ticked recommendations">
        <input type="hidden" name="_tenant" value={tenantId} />
        {visibleTicked.map((r) => (
          <input key={r.id} type="hidden" name="ids" value={r.id} />
        ))}
        <span>{visibleTicked.length} ticked</span>
        <button type="submit" name="decision" value="approve" className="button button-small" disabled={disabled || visibleTicked.length === 0}>
          Approve ticked
        </button>
        <Reason id="bulk" />
        <button type="submit" name="decision" value="dismiss" className="button button-small button-secondary" disabled={disabled || visibleTicked.length === 0}>
          Dismiss ticked
        </button>
      </ActionForm>
      ) : null}

      <p className={`muted ${styles.small}`}>
        Keyboard: <kbd>j</kbd> / <kbd>k</kbd> move, <kbd>a</kbd> approve, <kbd>d</kbd> dismiss, <kbd>Enter</kbd> evidence, <kbd>?</kbd> help.
      </p>
      {help ? (
        <div role="dialog" aria-label="Keyboard shortcuts" className={styles.help}>
          <dl>
            <dt>j / k</dt>
            <dd>Next / previous recommendation</dd>
            <dt>a</dt>
            <dd>Approve the current one</dd>
            <dt>d</dt>
            <dd>Dismiss the current one: choose its reason, then Dismiss</dd>
            <dt>Enter</dt>
            <dd>Open or close its evidence</dd>
            <dt>? / Esc</dt>
            <dd>Show / hide this help</dd>
          </dl>
          <button type="button" className="button button-small button-secondary" onClick={() => setHelp(false)}>
            Close
          </button>
        </div>
      ) : null}
      <ol className={styles.queue} ref={listRef}>
        {rows.map((r, i) => {
          const formId = `decide-${r.id}`;
          const conflicts = r.conflictsWith.map((id) => byId.get(id)).filter((x): x is QueueRow => x !== undefined);
          return (
            <li
              key={r.id}
              className={`${styles.item} ${i === current ? styles.current : ''}`}
              aria-labelledby={`${formId}-title`}
              aria-current={i === current ? 'true' : undefined}
              tabIndex={-1}
              onFocus={() => setCurrent(i)}
            >
              <div className={styles.head}>
                <label className={styles.tick}>
                  <input
                    type="checkbox"
                    checked={ticked.has(r.id)}
                    disabled={!canDecide}
                    onChange={(e) => {
                      const next = new Set(ticked);
                      if (e.target.checked) next.add(r.id);
                      else next.delete(r.id);
                      setTicked(next);
                    }}
                  />
                  <span className="visually-hidden">Tick {r.entityName ?? r.entityId}</span>
                </label>
                <span className={`${styles.priority} ${styles[r.priority]}`}>{r.priority}</span>
                <strong id={`${formId}-title`}>{TYPE_LABEL[r.type] ?? r.type}</strong>
                <span className="muted">
                  {r.platform ? platformLabel(r.platform) : ''} · {r.level === 'adset' ? 'ad set' : r.level}{' '}
                  {r.href ? <Link href={r.href}>{r.entityName ?? r.entityId}</Link> : (r.entityName ?? r.entityId)}
                </span>
                <span className={styles.left}>{timeLeft(r.expiresAt, now)} left</span>
              </div>
              <p className={styles.description}>{r.description}</p>
              <dl className={styles.facts}>
                {r.currentValue !== null || r.recommendedValue !== null ? (
                  <div>
                    <dt>Now → recommended</dt>
                    <dd>
                      {r.type.startsWith('budget') || r.type === 'pause'
                        ? `${formatMetric('spend', r.currentValue, style)} → ${formatMetric('spend', r.recommendedValue, style)} a day`
                        : `${formatMetric(VALUE_METRIC[r.type] ?? 'cpa', r.currentValue, style)} → ${formatMetric(VALUE_METRIC[r.type] ?? 'cpa', r.recommendedValue, style)}`}
                    </dd>
                  </div>
                ) : null}
                <div>
                  <dt>Estimated impact</dt>
                  <dd>{impactText(r.estimatedImpact, r.impactUnit, style)}</dd>
                </div>
                {r.uplift !== undefined && r.uplift !== null ? (
                  <div>
                    <dt>Score uplift</dt>
                    <dd title="Points this would add to the account's optimization score">+{formatUplift(r.uplift)}</dd>
                  </div>
                ) : null}
                <div>
                  <dt>Confidence</dt>
                  <dd>{Math.round(r.confidence * 100)} %</dd>
                </div>
              </dl>
              {conflicts.length > 0 ? (
                <p className="notice notice-warn">
                  Conflicts with {conflicts.map((c) => `${TYPE_LABEL[c.type] ?? c.type} of ${c.entityName ?? c.entityId}`).join(', ')}: decide them together.
                </p>
              ) : null}
              <details className={styles.evidence}>
                <summary>Evidence</summary>
                <p>{testInWords(r.type, r.evidence, style)}</p>
                {r.chart ? <EvidenceChart chart={r.chart} style={style} /> : null}
                <dl className={styles.figures}>
                  {evidenceFigures(r.evidence, style, r.type).map((f) => (
                    <div key={f.key}>
                      <dt>{f.label}</dt>
                      <dd>{f.value}</dd>
                    </div>
                  ))}
                </dl>
              </details>
              <ActionForm action={decideOne} className={styles.actions} aria-label={`Decide: ${TYPE_LABEL[r.type] ?? r.type} of ${r.entityName ?? r.entityId}`}>
                <input type="hidden" name="_tenant" value={tenantId} />
                <input type="hidden" name="id" value={r.id} />
                <button type="submit" name="decision" value="approve" className="button button-small" disabled={disabled}>
                  Approve
                </button>
                <Reason id={formId} />
                <button type="submit" name="decision" value="dismiss" className="button button-small button-secondary" disabled={disabled}>
                  Dismiss
                </button>
              </ActionForm>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
