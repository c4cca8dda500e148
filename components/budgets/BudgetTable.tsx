'use client';
// The allocations, one row per campaign: budget, the engine's recommended
// budget (accepted in one click), strategy, targets and status in one cell,
// the month's spend (yesterday's under it) and its projection, and the
// verdict in words; once the month is closed, its spend against its budget.
// Seven columns, so the table fits the content column of a 1280 px window.
// Buyers and admins edit a row in place: Edit opens the row's fields under
// it; a save made on a stale view is refused by the server with the current
// values, which "Load the current values" brings into the form. One block per
// row when the table's box is narrow (budgets.module.css).
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useActionState, useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { acceptRecommendedAction, updateBudgetAction } from '@/lib/budgets/actions';
import { bandText, monthName, type MonthCalendar } from '@/lib/budgets/pacing';
import type { BudgetRowView } from '@/lib/budgets/queries';
import { STATUS_LABEL, STRATEGY_LABEL } from '@/lib/budgets/schema';
import { formatCalendarDay, formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import { BudgetFields } from './BudgetFields';
import styles from './budgets.module.css';

interface Columns {
  campaign: string;
  daily: string;
  recommended: string;
  strategy: string;
  spent: string;
  projected: string;
  pace: string;
}

/** The headers (and the labels of a row's values when it is a block): an open month's pace, or a closed month's budget. */
function columnsOf(cal: MonthCalendar, locale: string): Columns {
  const common = { campaign: 'Campaign', daily: 'Daily budget', recommended: 'Recommended', strategy: 'Strategy, status' };
  return cal.closed
    ? { ...common, spent: `Spent in ${monthName(cal, locale)}`, projected: 'Month budget', pace: 'Verdict' }
    : { ...common, spent: 'Spent to date', projected: 'Projected month end', pace: 'Pace' };
}

/** The columns in order, and whether each holds amounts (right-aligned). */
const ORDER: readonly (readonly [keyof Columns, boolean])[] = [
  ['campaign', false],
  ['daily', true],
  ['recommended', true],
  ['strategy', false],
  ['spent', true],
  ['projected', true],
  ['pace', false],
];

const STATUS_TONE: Readonly<Record<string, string>> = { active: styles.good!, paused: styles.neutral!, ended: styles.none! };
const PACE_TONE: Readonly<Record<string, string | undefined>> = { good: styles.good, warn: styles.warn, bad: styles.bad, none: styles.none };

/** Whole amounts without decimals, others to the cent (a budget of 120.50 is not rounded away). */
function money(v: number | null, style: NumberStyle): string {
  return formatMoney(v, style, { decimals: v !== null && !Number.isInteger(v) ? 2 : 0 });
}

/** Spend and its projection: whole units from 100 on (the cents are in the sentence under "Why"). */
function spend(v: number | null, style: NumberStyle): string {
  return formatMoney(v, style);
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

function Row({
  row,
  style,
  tenantId,
  canEdit,
  closed,
  labels,
}: {
  row: BudgetRowView;
  style: NumberStyle;
  tenantId: string;
  canEdit: boolean;
  closed: boolean;
  labels: Columns;
}) {
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
          <span className={styles.sub}>{row.platformLabel}</span>
          <code className={styles.id}>{row.campaignId}</code>
          {row.budgetMovedOn ? <span className={styles.sub}>Daily budget set on {day(row.budgetMovedOn)}</span> : null}
        </td>
        <td className={styles.num} data-label={labels.daily}>
          {money(row.dailyBudget, style)}
          <span className={styles.sub}>
            {row.minBudget === null && row.maxBudget === null
              ? 'No bounds'
              : `${row.minBudget === null ? 'no min' : `min ${money(row.minBudget, style)}`} · ${row.maxBudget === null ? 'no max' : `max ${money(row.maxBudget, style)}`}`}
          </span>
        </td>
        <td className={styles.num} data-label={labels.recommended}>
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
        <td data-label={labels.strategy}>
          {STRATEGY_LABEL[row.strategy]}
          <Targets row={row} style={style} />
          <span className={`${styles.badge} ${styles.statusBadge} ${STATUS_TONE[row.status] ?? styles.none}`}>{STATUS_LABEL[row.status]}</span>
        </td>
        <td className={styles.num} data-label={labels.spent}>
          {spend(p.mtdSpend, style)}
          {closed ? null : <span className={styles.sub}>of {spend(p.toDateBudget, style)} to date</span>}
          <span className={styles.sub}>
            Yesterday {spend(p.yesterdaySpend, style)}
            {p.yesterdayRatio !== null ? ` · ${formatPercent(p.yesterdayRatio, style, 0)} of daily` : ''}
          </span>
        </td>
        <td className={styles.num} data-label={labels.projected}>
          {closed ? (
            <>
              {spend(p.monthBudget, style)}
              <span className={styles.sub}>{p.ratio !== null ? `${formatPercent(p.ratio, style, 0)} spent` : `${p.budgetDays} × ${money(p.dailyBudget, style)}`}</span>
            </>
          ) : (
            <>
              {p.projected === null ? '—' : spend(p.projected, style)}
              <span className={styles.sub}>
                of {spend(p.monthBudget, style)}
                {p.ratio !== null ? ` (${formatPercent(p.ratio, style, 0)})` : ''}
              </span>
            </>
          )}
          <Meter ratio={p.ratio} />
        </td>
        <td className={styles.paceCell} data-label={labels.pace}>
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
          <td colSpan={ORDER.length}>
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
  calendar,
  tenantId,
  canEdit,
  caption,
  emptyText,
}: {
  rows: BudgetRowView[];
  style: NumberStyle;
  calendar: MonthCalendar;
  tenantId: string;
  canEdit: boolean;
  caption: string;
  emptyText: string;
}) {
  const labels = columnsOf(calendar, style.locale);
  return (
    <div className={styles.tableBox}>
      <div className={`table-wrap ${styles.wrap}`}>
        <table className={`table ${styles.table} ${styles.stack}`}>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              {ORDER.map(([key, num]) => (
                <th key={key} scope="col" className={num ? styles.num : undefined}>
                  {labels[key]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <Row key={r.id} row={r} style={style} tenantId={tenantId} canEdit={canEdit} closed={calendar.closed} labels={labels} />
            ))}
            {rows.length === 0 ? (
              <tr>
                <td colSpan={ORDER.length} className="muted">
                  {emptyText}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}
