'use client';
// One platform's auto-apply: the switch, then each change the product can make
// by itself, with a step limit for budget changes. Turning the switch on needs
// the confirmation box, checked again by the server. Read-only for viewers.
// Embedded in a platform's settings card, the switch belongs to that card's
// form: this form then shows its state and sends it back unchanged.
import { useActionState, useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { platformLabel } from '@/lib/performance/metrics';
import { saveAutoApplyAction } from '@/lib/recommendations/actions';
import type { AutoApplyType } from '@/lib/recommendations/auto-apply-schema';

export interface AutoApplyFormValue {
  platform: string;
  switchedOn: boolean;
  types: { type: AutoApplyType; enabled: boolean; maxStep: number | null }[];
}

const ROWS: { type: AutoApplyType; label: string; does: string }[] = [
  { type: 'budget_increase', label: 'Budget increases', does: 'The daily budget is raised as recommended, if the step is within the limit.' },
  { type: 'budget_decrease', label: 'Budget decreases', does: 'The daily budget is lowered as recommended, if the step is within the limit.' },
  { type: 'pause', label: 'Pauses', does: 'The campaign’s budget is marked paused. Pause it on the platform too.' },
];

const percent = (f: number | null) => (f === null || f >= 1 ? '' : String(Math.round(f * 1000) / 10));

export function AutoApplyForm({
  value,
  tenantId,
  canEdit,
  embedded = false,
}: {
  value: AutoApplyFormValue;
  tenantId: string;
  canEdit: boolean;
  /** Inside the platform's settings card, whose form holds the switch. */
  embedded?: boolean;
}) {
  const [state, formAction, pending] = useActionState(saveAutoApplyAction, null);
  const [on, setOn] = useState(value.switchedOn);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const id = (s: string) => `aa-${value.platform}-${s}`;
  const label = platformLabel(value.platform);
  return (
    <ActionForm action={formAction} className="form" aria-label={`Auto-apply on ${label}`}>
      <input type="hidden" name="_tenant" value={tenantId} />
      <input type="hidden" name="platform" value={value.platform} />
      <fieldset disabled={!canEdit} className="fieldset">
        <legend>{embedded ? `What applies by itself on ${label}` : label}</legend>
        {embedded ? (
          <>
            {value.switchedOn ? <input type="hidden" name="switchedOn" value="on" /> : null}
            <p className="muted field-hint">
              Auto-apply on {label} is {value.switchedOn ? 'on' : 'off'} (the switch above).{' '}
              {value.switchedOn ? 'The types ticked below apply as soon as the engine proposes them.' : 'These choices take effect once it is on.'}
            </p>
            {errors.confirm ? (
              <p className="field-error" role="alert">
                Auto-apply was turned off on {label} since this page was loaded: reload it, and turn auto-apply on above if you want it.
              </p>
            ) : null}
          </>
        ) : (
          <div className="field field-check">
            <input id={id('on')} type="checkbox" name="switchedOn" defaultChecked={value.switchedOn} onChange={(e) => setOn(e.currentTarget.checked)} />
            <label htmlFor={id('on')}>Apply recommendations automatically on {label}</label>
            <p className="muted field-hint">
              Off: every recommendation waits for a buyer. On: the daily loop applies the types ticked below as soon as it makes them, and each
              can be undone for 24 hours on the recommendations page.
            </p>
          </div>
        )}
        {!embedded && on && (!value.switchedOn || errors.confirm) ? (
          <div className="field field-check">
            <input id={id('confirm')} type="checkbox" name="confirm" aria-describedby={`${id('confirm')}-error`} />
            <label htmlFor={id('confirm')}>
              I understand that the daily loop will change budgets on {label} without asking anyone.
            </label>
            <FieldError id={`${id('confirm')}-error`} errors={errors.confirm} />
          </div>
        ) : null}
        <table className="table">
          <caption className="visually-hidden">Changes applied automatically on {label}</caption>
          <thead>
            <tr>
              <th scope="col">Change</th>
              <th scope="col">Applies by itself</th>
              <th scope="col">Largest step</th>
            </tr>
          </thead>
          <tbody>
            {ROWS.map((r) => {
              const t = value.types.find((x) => x.type === r.type);
              return (
                <tr key={r.type}>
                  <td>
                    <strong>{r.label}</strong>
                    <div className="muted small">{r.does}</div>
                  </td>
                  <td>
                    <input
                      id={id(`${r.type}-enabled`)}
                      type="checkbox"
                      name={`${r.type}_enabled`}
                      defaultChecked={t?.enabled ?? false}
                      aria-label={`${r.label}: apply by itself`}
                    />
                  </td>
                  <td>
                    {r.type === 'pause' ? (
                      <span className="muted">—</span>
                    ) : (
                      <>
                        <input
                          id={id(`${r.type}-step`)}
                          name={`${r.type}_step`}
                          inputMode="decimal"
                          size={5}
                          defaultValue={percent(t?.maxStep ?? null)}
                          placeholder="any"
                          aria-label={`${r.label}: largest step in percent`}
                          aria-describedby={`${id(`${r.type}-step`)}-error`}
                        />{' '}
                        %
                        <FieldError id={`${id(`${r.type}-step`)}-error`} errors={errors[`${r.type}_step`]} />
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {canEdit ? (
          <SubmitButton pending={pending} pendingLabel="Saving…">
            {embedded ? 'Save auto-apply choices' : `Save ${label}`}
          </SubmitButton>
        ) : null}
      </fieldset>
      <FormMessage state={state} />
    </ActionForm>
  );
}
