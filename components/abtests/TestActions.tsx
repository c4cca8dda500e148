'use client';
// The moves of one A/B test on its results page: start, pause, resume, complete, cancel, and declare
// a winner. Complete, cancel and declare ask first in a dialog; declaring a winner the decision rule
// has not found (no latched winner, or the other arm) needs the box "Declare without a significant
// result" ticked, which the server checks again and records in the audit log. Every move carries
// the version the page was shown with: a test changed since is refused, not moved twice.
import Link from 'next/link';
import { useActionState, useEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { moveAbTestAction } from '@/lib/abtests/actions';
import type { MoveResult } from '@/lib/abtests/mutations';
import type { ActionResult } from '@/lib/request/result';
import type { AbTestStatus } from '@/lib/abtests/model';
import { MOVE_FROM, type AbTestMove, type Arm } from '@/lib/abtests/schema';
import styles from './form.module.css';

export interface TestActionsProps {
  testId: string;
  status: AbTestStatus;
  winner: 'A' | 'B' | 'none' | null;
  /** The winner latched by the decision rule (the first look that met it), or null. */
  latchedWinner: 'A' | 'B' | null;
  /** The decision rule is met by the reading now. */
  decisionMet: boolean;
  canEdit: boolean;
  /** The test's version (its updated_at, ISO) the page was shown with. */
  updatedAt: string;
  /** The tenant the page was shown for: a move from a stale tab cannot land in another tenant. */
  tenantId?: string;
  variantA?: string;
  variantB?: string;
}

const can = (move: AbTestMove, status: AbTestStatus) => (MOVE_FROM[move] as readonly string[]).includes(status);

export function TestActions(props: TestActionsProps) {
  const { testId, status, winner, latchedWinner, decisionMet, canEdit, updatedAt, tenantId } = props;
  const [state, formAction, pending] = useActionState(moveAbTestAction, null);
  const complete = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLDialogElement>(null);
  const declareA = useRef<HTMLDialogElement>(null);
  const declareB = useRef<HTMLDialogElement>(null);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const name = (arm: Arm) => {
    const n = arm === 'A' ? props.variantA : props.variantB;
    return n ? `variant ${arm} (“${n}”)` : `variant ${arm}`;
  };

  // A move done: the dialogs close (the page re-renders with the new status).
  useEffect(() => {
    if (state?.ok) for (const d of [complete, cancel, declareA, declareB]) d.current?.close();
  }, [state]);

  if (!canEdit) {
    return status === 'completed' || status === 'cancelled' ? null : <p className="muted small">Moving this test needs the Buyer role.</p>;
  }
  if (status === 'completed' || status === 'cancelled') {
    return (
      <p className="muted small">
        This test is {status}
        {status === 'completed' ? (winner === 'A' || winner === 'B' ? `, won by ${name(winner)}` : ', without a winner') : ''}: it can no longer move.
      </p>
    );
  }

  const common = (
    <>
      {tenantId ? <input type="hidden" name="_tenant" value={tenantId} /> : null}
      <input type="hidden" name="id" value={testId} />
      <input type="hidden" name="expectedUpdatedAt" value={updatedAt} />
    </>
  );

  return (
    <section className={`card ${styles.moves}`} aria-label="Move the test">
      <div className="row-actions">
        <ActionForm action={formAction} className={styles.inline} aria-label="Start, pause or resume">
          {common}
          {can('start', status) ? (
            <button type="submit" name="move" value="start" className="button button-primary" disabled={pending}>
              Start
            </button>
          ) : null}
          {can('pause', status) ? (
            <button type="submit" name="move" value="pause" className="button button-secondary" disabled={pending}>
              Pause
            </button>
          ) : null}
          {can('resume', status) ? (
            <button type="submit" name="move" value="resume" className="button button-primary" disabled={pending}>
              Resume
            </button>
          ) : null}
        </ActionForm>
        {can('complete', status) ? (
          <button type="button" className="button button-secondary" onClick={() => complete.current?.showModal()} disabled={pending}>
            Complete…
          </button>
        ) : null}
        {can('declare_winner', status) ? (
          <>
            <button type="button" className="button button-secondary" onClick={() => declareA.current?.showModal()} disabled={pending}>
              Declare A the winner…
            </button>
            <button type="button" className="button button-secondary" onClick={() => declareB.current?.showModal()} disabled={pending}>
              Declare B the winner…
            </button>
          </>
        ) : null}
        {can('cancel', status) ? (
          <button type="button" className="button button-danger" onClick={() => cancel.current?.showModal()} disabled={pending}>
            Cancel the test…
          </button>
        ) : null}
        <Link href={`/ab-tests/${testId}/edit`}>Edit</Link>
      </div>
      {status === 'draft' ? (
        <p className="muted small">Starting fixes the primary metric, the split, the minimum detectable effect and the ids of the variants.</p>
      ) : null}
      <FormMessage state={state} />

      <Confirm dialog={complete} title="Complete the test?" action={formAction} state={state} pending={pending} confirmLabel="Complete the test">
        {common}
        <input type="hidden" name="move" value="complete" />
        <p>
          {latchedWinner
            ? `The test completes with ${name(latchedWinner)} as its winner: the decision rule found it.`
            : 'The test completes without a winner: the decision rule has not found one. The daily loop stops reading it.'}
        </p>
      </Confirm>

      <Confirm dialog={cancel} title="Cancel the test?" action={formAction} state={state} pending={pending} confirmLabel="Cancel the test" danger>
        {common}
        <input type="hidden" name="move" value="cancel" />
        <p>A cancelled test is no longer read and cannot be started again. Its data and its history stay.</p>
      </Confirm>

      {(['A', 'B'] as const).map((arm) => (
        <Declare
          key={arm}
          arm={arm}
          dialog={arm === 'A' ? declareA : declareB}
          label={name(arm)}
          other={name(arm === 'A' ? 'B' : 'A')}
          latchedWinner={latchedWinner}
          decisionMet={decisionMet}
          action={formAction}
          state={state}
          pending={pending}
          errors={errors.confirmNoSignificance}
        >
          {common}
        </Declare>
      ))}
    </section>
  );
}

function Confirm({
  dialog,
  title,
  action,
  state,
  pending,
  confirmLabel,
  danger,
  disabled,
  children,
}: {
  dialog: RefObject<HTMLDialogElement | null>;
  title: string;
  action: (formData: FormData) => void;
  state: ActionResult<MoveResult> | null;
  pending: boolean;
  confirmLabel: string;
  danger?: boolean;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <dialog ref={dialog} className={styles.dialog} aria-label={title}>
      <ActionForm action={action} className="form" aria-label={title}>
        <h2 className={styles.dialogTitle}>{title}</h2>
        {children}
        <FormMessage state={state && !state.ok ? state : null} />
        <div className="row-actions">
          <button type="submit" className={`button ${danger ? 'button-danger' : 'button-primary'}`} disabled={pending || disabled}>
            {pending ? 'Working…' : confirmLabel}
          </button>
          <button type="button" className="button button-secondary" onClick={() => dialog.current?.close()}>
            Keep it as it is
          </button>
        </div>
      </ActionForm>
    </dialog>
  );
}

function Declare({
  arm,
  dialog,
  label,
  other,
  latchedWinner,
  decisionMet,
  action,
  state,
  pending,
  errors,
  children,
}: {
  arm: Arm;
  dialog: RefObject<HTMLDialogElement | null>;
  label: string;
  other: string;
  latchedWinner: Arm | null;
  decisionMet: boolean;
  action: (formData: FormData) => void;
  state: ActionResult<MoveResult> | null;
  pending: boolean;
  errors: string[] | undefined;
  children: ReactNode;
}) {
  const met = latchedWinner === arm;
  const [confirmed, setConfirmed] = useState(false);
  const boxId = `declare-${arm}-confirm`;
  return (
    <Confirm dialog={dialog} title={`Declare ${label} the winner?`} action={action} state={state} pending={pending} confirmLabel={`Declare ${arm} the winner`} disabled={!met && !confirmed}>
      {children}
      <input type="hidden" name="move" value="declare_winner" />
      <input type="hidden" name="winner" value={arm} />
      {met ? (
        <p>The decision rule found {label} the winner. Declaring it completes the test.</p>
      ) : (
        <>
          <p className="notice notice-warn">
            {latchedWinner
              ? `The decision rule found ${other} the winner, not ${label}.`
              : decisionMet
                ? 'The reading now meets the decision rule, but no winner was latched for this arm.'
                : 'The decision rule has not found a winner: the always-valid interval still includes no difference.'}{' '}
            Declaring {label} the winner now is a judgement call, not a significant result, and the audit log records it as one.
          </p>
          <div className="field field-check">
            <input
              id={boxId}
              type="checkbox"
              name="confirmNoSignificance"
              checked={confirmed}
              onChange={(e) => setConfirmed(e.currentTarget.checked)}
              aria-describedby={`${boxId}-error`}
            />
            <label htmlFor={boxId}>Declare without a significant result</label>
            <FieldError id={`${boxId}-error`} errors={errors} />
          </div>
        </>
      )}
    </Confirm>
  );
}
