'use client';
// The allocations, one row per campaign: budget, the engine's recommended
// budget (accepted in one click), strategy and targets, status, and the
// month's pacing with its verdict in words. Buyers and admins edit a row in
// place: Edit opens the row's fields under it; a save made on a stale view is
// refused by the server with the current values, which "Load the current
// values" brings into the form. One block per row on a narrow screen.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useActionState, useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { acceptRecommendedAction, updateBudgetAction } from '@/lib/budgets/actions';
import { bandText } from '@/lib/budgets/pacing';
import type { BudgetRowView } from '@/lib/budgets/queries';
import { STATUS_LABEL, STRATEGY_LABEL } from '@/lib/budgets/schema';
import { formatCalendarDay, formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import { BudgetFields } from './BudgetFields';
import styles from './budgets.module.css';

const COLUMNS = ['Campaign', 'Daily budget', 'Recommended', 'Strategy', 'Status', 'Yesterday', 'Month to date', 'Projected month end', 'Pace'] as const;

/** The columns of amounts, right-aligned (by index in COLUMNS). */
const NUMBER_COLUMNS: ReadonlySet<number> = new Set([1, 2, 5, 6, 7]);

const STATUS_TONE: Readonly<Record<string, string>> = { active: styles.good!, paused: styles.neutral!, ended: styles.none! };
const PACE_TONE: Readonly<Record<string, string | undefined>> = { good: styles.good, warn: styles.warn, bad: styles.bad, none: styles.none };

/** Whole amounts without decimals, others to the cent (a budget of 120.50 is not rounded away). */
function money(v: number | null, style: NumberStyle): string {
  return formatMoney(v, style, { decimals: v !== null && !Number.isInteger(v) ? 2 : 0 });
}

function signedMoney(v: number, style: NumberStyle): string {
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${money(Math.abs(v), style)}`;
}

function Meter({ ratio }: { ratio: number | null }) {
  if (ratio === null) return null;
  return (
    <span className={styles.meter} aria-hidden="true">
      <span className={ratio > 1 ? styles.meterOver : styles.meterFill} style={{ width: `${Math.max(0, Math.min(ratio, 1)) * 100}%` }} />
    </span>
  );
}

function Targets({ row, style }: { row: BudgetRowView; style: NumberStyle }) {
  const roas = row.targetRoas !== null ? `Target ROAS ${formatNumber(row.targetRoas, style, 2)}` : null;
  const cpa = row.targetCpa !== null ? `Target CPA ${money(row.targetCpa, style)}` : null;
  // The strategy's own target first; a missing one (from data older than the rule) is said.
  const own = row.strategy === 'target_roas' ? (roas ?? 'Target ROAS missing') : row.strategy === 'target_cpa' ? (cpa ?? 'Target CPA missing') : null;
  const others = [roas, cpa].filter((t) => t && t !== own);
  return (
    <>
      {own ? <span className={own.endsWith('missing') ? styles.subWarn : styles.sub}>{own}</span> : null}
      {others.map((t) => (
        <span key={t} className={styles.sub}>
          {t}
        </span>
      ))}
    </>
  );
}

function AcceptButton({ row, style, tenantId, action, pending }: {
  row: BudgetRowView;
  style: NumberStyle;
  tenantId: string;
  action: (formData: FormData) => void;
  pending: boolean;
}) {
  return (
    <ActionForm action={action} className={styles.inlineForm} aria-label={`Accept the recommended budget of ${row.label}`}>
      <input type="hidden" name="_tenant" value={tenantId} />
      <input type="hidden" name="id" value={row.id} />
      <input type="hidden" name="version" value={row.version} />
      <input type="hidden" name="recommended" value={String(row.recommendedBudget ?? '')} />
      <button type="submit" className="button button-small" disabled={pending} aria-disabled={pending}>
        {pending ? 'Accepting…' : 'Accept'}
        <span className="visually-hidden"> {money(row.recommendedBudget, style)} for {row.label}</span>
      </button>
    </ActionForm>
  );
}

function Row({ row, style, tenantId, canEdit, columns }: { row: BudgetRowView; style: NumberStyle; tenantId: string; canEdit: boolean; columns: number }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [last, setLast] = useState<'save' | 'accept' | null>(null);
  const [reloaded, setReloaded] = useState(false);
  // A saved edit closes its editor; the confirmation stays under the row.
  const [saved, save, saving] = useActionState(async (previous: Awaited<ReturnType<typeof updateBudgetAction>> | null, fd: FormData) => {
    const r = await updateBudgetAction(previous, fd);
    if (r.ok) setOpen(false);
    return r;
  }, null);
  const [accepted, acceptNow, accepting] = useActionState(acceptRecommendedAction, null);

  const p = row.pacing;
  const editorId = `budget-${row.id}-editor`;
  const offPace = p.state === 'over' || p.state === 'under';
  const message = last === 'accept' ? accepted : last === 'save' ? saved : null;
  const failed = message && !message.ok ? message : null;
  // A refusal on a stale view (either form): the current values are one click away; once loaded, the refusal is over.
  const conflict = Boolean(failed?.fieldErrors?.version) && !reloaded;
  const showMessage = message !== null && !(reloaded && failed);
  const errors = last === 'save' && saved && !saved.ok && !reloaded ? saved.fieldErrors : undefined;
  const day = (d: string) => formatCalendarDay(d, style.locale, { year: false });

  return (
    <>
      <tr id={`budget-${row.id}`} className={offPace ? styles.offPace : undefined}>
        <td className={styles.campaign}>
          <Link href={row.href}>{row.label}</Link>
          <span className={styles.sub}>
            {row.platformLabel} · <code>{row.campaignId}</code>
          </span>
          {row.budgetMovedOn ? <span className={styles.sub}>Daily budget set on {day(row.budgetMovedOn)}</span> : null}
        </td>
        <td className={styles.num} data-label="Daily budget">
          {money(row.dailyBudget, style)}
          <span className={styles.sub}>
            {row.minBudget === null && row.maxBudget === null
              ? 'No bounds'
              : `${row.minBudget === null ? 'no min' : `min ${money(row.minBudget, style)}`} · ${row.maxBudget === null ? 'no max' : `max ${money(row.maxBudget, style)}`}`}
          </span>
        </td>
        <td className={styles.num} data-label="Recommended">
          {row.recommendedBudget === null ? (
            <span className="muted">None</span>
          ) : (
            <>
              {money(row.recommendedBudget, style)}
              {row.recommendedDiff !== null && row.recommendedDiff !== 0 ? (
                <span className={`${styles.sub} ${row.recommendedDiff > 0 ? styles.up : styles.down}`}>
                  {signedMoney(row.recommendedDiff, style)}
                  {row.recommendedDiffShare !== null ? ` (${row.recommendedDiff > 0 ? '+' : '−'}${formatPercent(Math.abs(row.recommendedDiffShare), style, 1)})` : ''}
                </span>
              ) : null}
              {row.pending ? (
                <span className={styles.sub}>
                  <Link href="/recommendations">Pending in the queue</Link>
                </span>
              ) : null}
              {canEdit && row.acceptBlocked === null ? (
                <AcceptButton
                  row={row}
                  style={style}
                  tenantId={tenantId}
                  pending={accepting}
                  action={(fd) => {
                    setLast('accept');
                    setReloaded(false);
                    acceptNow(fd);
                  }}
                />
              ) : row.acceptBlocked && row.recommendedDiff !== 0 ? (
                <span className={styles.sub}>{row.acceptBlocked}</span>
              ) : null}
            </>
          )}
        </td>
        <td data-label="Strategy">
          {STRATEGY_LABEL[row.strategy]}
          <Targets row={row} style={style} />
        </td>
        <td data-label="Status">
          <span className={`${styles.badge} ${STATUS_TONE[row.status] ?? styles.none}`}>{STATUS_LABEL[row.status]}</span>
        </td>
        <td className={styles.num} data-label="Yesterday">
          {money(p.yesterdaySpend, style)}
          {p.yesterdayRatio !== null ? <span className={styles.sub}>{formatPercent(p.yesterdayRatio, style, 0)} of daily</span> : null}
        </td>
        <td className={styles.num} data-label="Month to date">
          {money(p.mtdSpend, style)}
          <span className={styles.sub}>of {money(p.toDateBudget, style)} to date</span>
        </td>
        <td className={styles.num} data-label="Projected month end">
          {p.projected === null ? '—' : money(p.projected, style)}
          <span className={styles.sub}>
            of {money(p.monthBudget, style)}
            {p.ratio !== null ? ` (${formatPercent(p.ratio, style, 0)})` : ''}
          </span>
          <Meter ratio={p.ratio} />
        </td>
        <td data-label="Pace">
          <div className={styles.pace}>
            <span className={`${styles.badge} ${PACE_TONE[row.paceTone] ?? styles.none}`}>{row.paceLabel}</span>
            {p.state !== 'not_paced' ? <span className={styles.sub}>band {bandText(p.band, style)}</span> : null}
            <details className={styles.why}>
              <summary>Why</summary>
              <p>{row.paceSentence}</p>
            </details>
            {canEdit ? (
              <button
                type="button"
                className="button button-secondary button-small"
                aria-expanded={open}
                aria-controls={editorId}
                onClick={() => setOpen((o) => !o)}
              >
                {open ? 'Close' : 'Edit'}
                <span className="visually-hidden"> the budget of {row.label}</span>
              </button>
            ) : null}
          </div>
        </td>
      </tr>
      {open || showMessage ? (
        <tr className={styles.detailRow}>
          <td colSpan={columns}>
            {showMessage ? <FormMessage state={message} /> : null}
            {conflict ? (
              <p>
                <button
                  type="button"
                  className="button button-secondary button-small"
                  onClick={() => {
                    setReloaded(true);
                    if (last === 'save') setOpen(true);
                    router.refresh();
                  }}
                >
                  Load the current values
                </button>
              </p>
            ) : null}
            {open ? (
              <div id={editorId}>
                {/* Keyed by the token: once the page has the current values, the fields start from them. */}
                <ActionForm
                  key={row.version}
                  className={styles.editor}
                  aria-label={`Edit the budget of ${row.label}`}
                  action={(fd) => {
                    setLast('save');
                    setReloaded(false);
                    save(fd);
                  }}
                >
                  <input type="hidden" name="_tenant" value={tenantId} />
                  <input type="hidden" name="id" value={row.id} />
                  <input type="hidden" name="version" value={row.version} />
                  <BudgetFields
                    idPrefix={`b-${row.id}`}
                    currency={style.currency}
                    errors={errors}
                    values={{
                      dailyBudget: row.dailyBudget,
                      minBudget: row.minBudget,
                      maxBudget: row.maxBudget,
                      strategy: row.strategy,
                      targetRoas: row.targetRoas,
                      targetCpa: row.targetCpa,
                      status: row.status,
                    }}
                  />
                  <div className={styles.buttons}>
                    <SubmitButton pending={saving} pendingLabel="Saving…">
                      Save
                    </SubmitButton>
                    <button type="button" className="button button-secondary" onClick={() => setOpen(false)}>
                      Cancel
                    </button>
                  </div>
                </ActionForm>
              </div>
            ) : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function BudgetTable({
  rows,
  style,
  tenantId,
  canEdit,
  caption,
  emptyText,
}: {
  rows: BudgetRowView[];
  style: NumberStyle;
  tenantId: string;
  canEdit: boolean;
  caption: string;
  emptyText: string;
}) {
  return (
    <div className={`table-wrap ${styles.wrap}`}>
      <table className={`table ${styles.table} ${styles.stack}`}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {COLUMNS.map((c, i) => (
              <th key={c} scope="col" className={NUMBER_COLUMNS.has(i) ? styles.num : undefined}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <Row key={r.id} row={r} style={style} tenantId={tenantId} canEdit={canEdit} columns={COLUMNS.length} />
          ))}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={COLUMNS.length} className="muted">
                {emptyText}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
