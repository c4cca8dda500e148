'use client';
// The anomaly board: a column per status, each card with its figures and a
// "Move…" menu (a form posting to the one move action). Dragging a card onto
// another column is an enhancement over that menu: it picks the move and
// submits the card's own form (a resolution first asks for its note). The
// action's state lives here, above the cards, so its message survives the
// card leaving its column. Viewers see the menus disabled; the server refuses
// them anyway.
import Link from 'next/link';
import { useActionState, useRef, useState, type DragEvent } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { moveAnomaliesAction } from '@/lib/anomalies/actions';
import { durationText, metricLabel, metricValue, typeLabel } from '@/lib/anomalies/labels';
import {
  moveBetween,
  MOVE_LABEL,
  movesFrom,
  NOTE_MAX,
  SNOOZE_LABEL,
  SNOOZES,
  STATUS_LABEL,
  type AnomalyStatus,
  type Move,
} from '@/lib/anomalies/schema';
import { formatChange, formatMoney, type NumberStyle } from '@/lib/format/number';
import { formatInZone } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import type { CardAnomaly, CardView, ColumnView } from '@/lib/anomalies/view';
import styles from './anomalies.module.css';

const statusOf = (c: CardView) => (c.kind === 'single' ? c.anomaly.status : c.status);
const idsOf = (c: CardView) => (c.kind === 'single' ? [c.anomaly.id] : c.members.map((m) => m.id));

function Facts({ a, style, timeZone }: { a: CardAnomaly; style: NumberStyle; timeZone: string }) {
  const open = a.status === 'active' || a.status === 'investigating';
  return (
    <dl className={styles.facts}>
      <dt>Actual</dt>
      <dd>
        {metricValue(a.metric, a.actual, style)} vs expected {metricValue(a.metric, a.baseline, style)}
      </dd>
      <dt>Deviation</dt>
      <dd>{formatChange(a.deviationPct, style)}</dd>
      <dt>At stake</dt>
      <dd>{formatMoney(a.money, style)}</dd>
      <dt>Day</dt>
      <dd>{a.day}</dd>
      <dt>{open ? 'Open for' : 'Raised'}</dt>
      <dd>{open ? durationText(a.ageSeconds) : `${durationText(a.ageSeconds)} ago`}</dd>
      {a.snoozedUntil ? (
        <>
          <dt>Snoozed</dt>
          <dd>until {formatInZone(a.snoozedUntil, timeZone, style.locale)}</dd>
        </>
      ) : null}
      {a.status === 'resolved' && a.resolvedAt ? (
        <>
          <dt>Resolved</dt>
          <dd>{formatInZone(a.resolvedAt, timeZone, style.locale)}</dd>
        </>
      ) : null}
    </dl>
  );
}

function Title({ a }: { a: CardAnomaly }) {
  return (
    <div className={styles.head}>
      <span className={`${styles.sev} ${styles[a.severity] ?? ''}`}>{a.severity}</span>
      <strong>
        {metricLabel(a.metric)} {typeLabel(a.type).toLowerCase()}
      </strong>
      <span>
        {a.href ? <Link href={a.href}>{a.entityName}</Link> : a.entityName}
        {a.level === 'adset' ? ' (ad set)' : ''} · {platformLabel(a.platform)}
      </span>
    </div>
  );
}

export function MoveMenu({
  card,
  open,
  formAction,
  tenantId,
  disabled,
  formRef,
  detailsRef,
}: {
  card: CardView;
  formAction: (fd: FormData) => void;
  tenantId: string;
  disabled: boolean;
  formRef?: (el: HTMLFormElement | null) => void;
  detailsRef?: (el: HTMLDetailsElement | null) => void;
  /** Start opened (the detail view). */
  open?: boolean;
}) {
  const status = statusOf(card);
  const moves = movesFrom(status);
  const [chosen, setChosen] = useState<Move>(moves[0] ?? 'acknowledge');
  const id = `move-${card.key.replace(/[^a-zA-Z0-9-]/g, '-')}`;
  if (!moves.length) return null;
  return (
    <details className={styles.move} ref={detailsRef} open={open}>
      <summary>{card.kind === 'incident' ? `Move all ${card.members.length}…` : 'Move…'}</summary>
      <ActionForm action={formAction} className={styles.moveForm} aria-label={card.kind === 'incident' ? 'Move the incident' : 'Move the anomaly'} ref={formRef}>
        <input type="hidden" name="_tenant" value={tenantId} />
        <input type="hidden" name="expected" value={status} />
        {idsOf(card).map((x) => (
          <input key={x} type="hidden" name="ids" value={x} />
        ))}
        {card.kind === 'incident' ? <input type="hidden" name="incident" value={card.incident} /> : null}
        <label htmlFor={`${id}-move`}>Move to</label>
        <select id={`${id}-move`} name="move" value={chosen} onChange={(e) => setChosen(e.target.value as Move)} disabled={disabled}>
          {moves.map((m) => (
            <option key={m} value={m}>
              {MOVE_LABEL[m]}
            </option>
          ))}
        </select>
        {chosen === 'snooze' ? (
          <>
            <label htmlFor={`${id}-snooze`}>Snooze for</label>
            <select id={`${id}-snooze`} name="snooze" defaultValue="1d" disabled={disabled}>
              {SNOOZES.map((s) => (
                <option key={s} value={s}>
                  {SNOOZE_LABEL[s]}
                </option>
              ))}
            </select>
          </>
        ) : null}
        <label htmlFor={`${id}-note`}>{chosen === 'resolve' ? 'Resolution note (required)' : 'Note (optional)'}</label>
        <textarea id={`${id}-note`} name="note" maxLength={NOTE_MAX} disabled={disabled} />
        <button type="submit" className="button button-small" disabled={disabled}>
          {MOVE_LABEL[chosen]}
        </button>
      </ActionForm>
    </details>
  );
}

export function AnomalyBoard({
  columns,
  style,
  timeZone,
  tenantId,
  canMove,
  openId,
}: {
  columns: ColumnView[];
  style: NumberStyle;
  timeZone: string;
  tenantId: string;
  canMove: boolean;
  openId: string | null;
}) {
  const [state, formAction, pending] = useActionState(moveAnomaliesAction, null);
  const [dragging, setDragging] = useState<string | null>(null);
  const [over, setOver] = useState<AnomalyStatus | null>(null);
  const [dropNote, setDropNote] = useState<string | null>(null);
  const forms = useRef(new Map<string, HTMLFormElement>());
  const menus = useRef(new Map<string, HTMLDetailsElement>());
  const byKey = new Map(columns.flatMap((c) => c.cards.map((card) => [card.key, card] as const)));
  const disabled = !canMove || pending;
  const fieldProblems = state && !state.ok ? Object.values(state.fieldErrors ?? {}).flatMap((v) => v ?? []) : [];

  const onDrop = (to: AnomalyStatus) => (e: DragEvent<HTMLElement>) => {
    e.preventDefault();
    setOver(null);
    const key = e.dataTransfer.getData('text/plain') || dragging;
    setDragging(null);
    const card = key ? byKey.get(key) : undefined;
    if (!card || statusOf(card) === to) return;
    const m = moveBetween(statusOf(card), to);
    if (!m) {
      setDropNote(`A card cannot go from ${STATUS_LABEL[statusOf(card)]} to ${STATUS_LABEL[to]} directly: use its Move… menu.`);
      return;
    }
    setDropNote(null);
    const form = forms.current.get(card.key);
    const menu = menus.current.get(card.key);
    if (!form) return;
    const select = form.elements.namedItem('move') as HTMLSelectElement | null;
    if (select) {
      select.value = m;
      select.dispatchEvent(new Event('change', { bubbles: true }));
    }
    if (m === 'resolve') {
      // A resolution needs its note: open the card's form there.
      if (menu) menu.open = true;
      setTimeout(() => (form.elements.namedItem('note') as HTMLTextAreaElement | null)?.focus(), 0);
      return;
    }
    setTimeout(() => form.requestSubmit(), 0);
  };

  return (
    <div>
      <FormMessage state={state} />
      {fieldProblems.length ? (
        <ul className="notice notice-error" role="alert">
          {fieldProblems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      {dropNote ? (
        <p className="notice notice-warn" role="status">
          {dropNote}
        </p>
      ) : null}
      {!canMove ? <p className="muted">Viewers see the board; buyers and admins move the cards.</p> : null}
      <div className={styles.board}>
        {columns.map((col) => (
          <section
            key={col.status}
            className={`${styles.column} ${over === col.status ? styles.dropTarget : ''}`}
            aria-labelledby={`col-${col.status}`}
            onDragOver={(e) => {
              if (!canMove || !dragging) return;
              e.preventDefault();
              setOver(col.status);
            }}
            onDragLeave={() => setOver((o) => (o === col.status ? null : o))}
            onDrop={onDrop(col.status)}
          >
            <h2 id={`col-${col.status}`}>
              <span>{col.status === 'resolved' ? 'Resolved (30 days)' : STATUS_LABEL[col.status]}</span>
              <span className="count" aria-label={`${col.count} anomalies`}>
                {col.count}
              </span>
            </h2>
            {col.snoozedHref && col.snoozed > 0 ? (
              <p className={styles.small}>
                {col.snoozed} snoozed, hidden until their snooze ends. <Link href={col.snoozedHref}>Show them</Link>
              </p>
            ) : null}
            {col.cards.length === 0 ? <p className={`muted ${styles.small}`}>{col.emptyText}</p> : null}
            <ul className={styles.cards}>
              {col.cards.map((card) => {
                const isOpen = card.kind === 'single' ? card.anomaly.id === openId : card.members.some((m) => m.id === openId);
                return (
                  <li
                    key={card.key}
                    className={`${styles.card} ${card.kind === 'incident' ? styles.incident : ''} ${isOpen ? styles.open : ''}`}
                    draggable={canMove}
                    onDragStart={(e) => {
                      e.dataTransfer.setData('text/plain', card.key);
                      e.dataTransfer.effectAllowed = 'move';
                      setDragging(card.key);
                    }}
                    onDragEnd={() => setDragging(null)}
                    aria-label={
                      card.kind === 'single'
                        ? `${card.anomaly.severity} ${metricLabel(card.anomaly.metric)} ${typeLabel(card.anomaly.type)}, ${card.anomaly.entityName}`
                        : `Incident: ${card.entities} ${card.level === 'adset' ? 'ad sets' : 'campaigns'} on ${platformLabel(card.platform)}`
                    }
                  >
                    {card.kind === 'single' ? (
                      <>
                        <Title a={card.anomaly} />
                        {card.anomaly.platformRow ? (
                          <p className={styles.note}>
                            Platform incident: {card.anomaly.engineMembers.length} campaigns stopped converting together. Check the
                            platform&apos;s tracking first.
                          </p>
                        ) : null}
                        <Facts a={card.anomaly} style={style} timeZone={timeZone} />
                        {card.anomaly.feedback ? <p className={styles.feedback}>{card.anomaly.feedback}</p> : null}
                        {card.anomaly.resolutionNote ? <p className={styles.note}>Note: {card.anomaly.resolutionNote}</p> : null}
                        <Link href={card.anomaly.detailHref} className={styles.small}>
                          Details
                        </Link>
                      </>
                    ) : (
                      <>
                        <div className={styles.head}>
                          <span className={`${styles.sev} ${styles[card.severity] ?? ''}`}>{card.severity}</span>
                          <strong>Incident on {platformLabel(card.platform)}</strong>
                          <span>{card.day}</span>
                        </div>
                        <p className={styles.note}>
                          {card.entities} {card.level === 'adset' ? 'ad sets' : 'campaigns'}
                          {card.activeEntities > 0 ? ` of ${card.activeEntities} delivering` : ''} fell together on one day: this points at the
                          platform or its tracking rather than at each campaign. {formatMoney(card.money, style)} at stake.
                        </p>
                        <ul className={styles.members}>
                          {card.members.map((m) => (
                            <li key={m.id}>
                              <Link href={m.detailHref}>{m.entityName}</Link>: {metricLabel(m.metric)} {typeLabel(m.type).toLowerCase()} (
                              {m.severity}, {formatChange(m.deviationPct, style)})
                            </li>
                          ))}
                        </ul>
                      </>
                    )}
                    <MoveMenu
                      card={card}
                      formAction={formAction}
                      tenantId={tenantId}
                      disabled={disabled}
                      formRef={(el) => {
                        if (el) forms.current.set(card.key, el);
                        else forms.current.delete(card.key);
                      }}
                      detailsRef={(el) => {
                        if (el) menus.current.set(card.key, el);
                        else menus.current.delete(card.key);
                      }}
                    />
                  </li>
                );
              })}
            </ul>
            {col.hiddenCards > 0 && col.moreHref ? (
              <p className={styles.more}>
                <Link href={col.moreHref}>{col.hiddenCards} more…</Link>
              </p>
            ) : null}
          </section>
        ))}
      </div>
      <p className={`muted ${styles.small}`}>
        Drag a card to another column, or use its Move… menu (keyboard: Tab to it, Enter to open). Resolved cards leave the board 30 days after they
        were resolved: the daily maintenance deletes them (the audit log keeps every move).
      </p>
    </div>
  );
}

