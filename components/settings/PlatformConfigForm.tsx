'use client';
// One platform's engine settings as one form: every field of its settings row,
// each with what it does to the engine. The server checks everything again:
// the role, every field, the version the form was opened at, and the
// confirmation that turning auto-apply on needs. Viewers get the values as text.
import { useActionState, useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { controlProps, Field } from '@/components/ui/Field';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import type { FieldErrors } from '@/lib/request/result';
import { savePlatformConfigAction } from '@/lib/settings/actions';
import type { PlatformConfigView } from '@/lib/settings/platform-config';
import {
  CONFIG_FIELDS,
  CONFIRM_FIELD,
  FIELD_INFO,
  formatFieldValue,
  FREQUENCIES,
  FREQUENCY_LABEL,
  inputValue,
  type ConfigField,
  type MoneyUnit,
  type SwitchField,
  type ValueField,
} from '@/lib/settings/platform-config-schema';
import styles from './settings.module.css';

interface Props {
  view: PlatformConfigView;
  unit: MoneyUnit;
  tenantId: string;
  canEdit: boolean;
}

export function PlatformConfigForm(props: Props) {
  return props.canEdit ? <EditForm {...props} /> : <ReadOnly view={props.view} unit={props.unit} />;
}

function Hint({ view, field }: { view: PlatformConfigView; field: ConfigField }) {
  const note = view.notes[field];
  return (
    <>
      {FIELD_INFO[field].does}
      {note ? <span className={styles.note}>{note}</span> : null}
    </>
  );
}

function ReadOnly({ view, unit }: { view: PlatformConfigView; unit: MoneyUnit }) {
  return (
    <div aria-label={`${view.label} settings`} role="group">
      <p className="notice notice-warn">You can read these settings; changing them needs the Buyer role.</p>
      <dl className={styles.readOnly}>
        {CONFIG_FIELDS.map((f) => (
          <div key={f} className={styles.readOnlyRow}>
            <dt>{FIELD_INFO[f].label}</dt>
            <dd>
              <strong>{formatFieldValue(f, view.values, unit)}</strong>
              <p className="muted small">
                <Hint view={view} field={f} />
              </p>
            </dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

/** The version and auto-apply state of the last successful save (or of the page load). */
interface Saved {
  token: string;
  exists: boolean;
  autoApply: boolean;
}

function EditForm({ view, unit, tenantId }: Props) {
  const [state, formAction, pending] = useActionState(savePlatformConfigAction, null);
  // The version sent back is the one this form last saw: a page re-rendered by
  // another save must not quietly move it past someone else's change.
  const [saved, setSaved] = useState<Saved>({ token: view.token, exists: view.exists, autoApply: view.values.auto_apply_recommendations });
  const [seen, setSeen] = useState(state);
  if (state !== seen) {
    setSeen(state);
    if (state?.ok && state.data) setSaved({ token: state.data.token, exists: true, autoApply: state.data.values.auto_apply_recommendations });
  }
  const [autoApplyOn, setAutoApplyOn] = useState(view.values.auto_apply_recommendations);
  const errors: FieldErrors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const id = (f: string) => `pc-${view.platform}-${f}`;
  const currency = unit.style.currency;

  const numberInput = (field: Exclude<ValueField, 'optimization_frequency'>, suffix: string, placeholder?: string) => {
    const f = { id: id(field), label: `${FIELD_INFO[field].label}${suffix}`, hint: <Hint view={view} field={field} />, errors: errors[field], invalid: errors[field] ? true : undefined };
    return (
      <Field {...f}>
        <input {...controlProps(f)} name={field} inputMode="decimal" defaultValue={inputValue(field, view.values, unit)} placeholder={placeholder} autoComplete="off" />
      </Field>
    );
  };

  const switchInput = (field: SwitchField, label: string, onChange?: (on: boolean) => void) => (
    <div className="field field-check">
      <input
        id={id(field)}
        type="checkbox"
        name={field}
        defaultChecked={view.values[field]}
        aria-describedby={`${id(field)}-hint ${id(field)}-error`}
        aria-invalid={errors[field] ? true : undefined}
        onChange={onChange ? (e) => onChange(e.currentTarget.checked) : undefined}
      />
      <label htmlFor={id(field)}>{label}</label>
      <p id={`${id(field)}-hint`} className="muted field-hint">
        <Hint view={view} field={field} />
      </p>
      <FieldError id={`${id(field)}-error`} errors={errors[field]} />
    </div>
  );

  const frequency = {
    id: id('optimization_frequency'),
    label: FIELD_INFO.optimization_frequency.label,
    hint: <Hint view={view} field="optimization_frequency" />,
    errors: errors.optimization_frequency,
    invalid: errors.optimization_frequency ? true : undefined,
  };

  return (
    <ActionForm action={formAction} className="form" aria-label={`${view.label} settings`}>
      <input type="hidden" name="_tenant" value={tenantId} />
      <input type="hidden" name="platform" value={view.platform} />
      <input type="hidden" name="expected" value={saved.token} />
      <fieldset className="fieldset">
        <legend>Thresholds</legend>
        <div className={styles.grid}>
          {numberInput('max_cpa', ` (${currency})`, 'no limit')}
          {numberInput('target_roas', '', 'no target')}
          {numberInput('auto_pause_threshold', ' (× max CPA)')}
          {numberInput('min_spend_for_decision', ` (${currency}, 7 days)`)}
        </div>
      </fieldset>
      <fieldset className="fieldset">
        <legend>Tests and schedule</legend>
        <div className={styles.grid}>
          {numberInput('anomaly_sensitivity', ' (1 to 10)')}
          <Field {...frequency}>
            <select {...controlProps(frequency)} name="optimization_frequency" defaultValue={view.values.optimization_frequency}>
              {FREQUENCIES.map((f) => (
                <option key={f} value={f}>
                  {FREQUENCY_LABEL[f]}
                </option>
              ))}
            </select>
          </Field>
        </div>
      </fieldset>
      <fieldset className="fieldset">
        <legend>Switches</legend>
        {switchInput('recommendations_enabled', `Propose recommendations on ${view.label}`)}
        {switchInput('anomaly_detection_enabled', `Detect anomalies on ${view.label}`)}
        {switchInput('auto_apply_recommendations', `Apply recommendations automatically on ${view.label}`, setAutoApplyOn)}
        {(autoApplyOn && !saved.autoApply) || errors[CONFIRM_FIELD] ? (
          <div className={`field field-check ${styles.confirm}`}>
            <input id={id(CONFIRM_FIELD)} type="checkbox" name={CONFIRM_FIELD} aria-describedby={`${id(CONFIRM_FIELD)}-error`} />
            <label htmlFor={id(CONFIRM_FIELD)}>I understand. {view.autoApplyConsequence}</label>
            <FieldError id={`${id(CONFIRM_FIELD)}-error`} errors={errors[CONFIRM_FIELD]} />
          </div>
        ) : null}
      </fieldset>
      <div className={styles.actions}>
        <SubmitButton pending={pending} pendingLabel="Saving…">
          {saved.exists ? `Save ${view.label} settings` : `Create settings for ${view.label}`}
        </SubmitButton>
      </div>
      <FormMessage state={state} />
    </ActionForm>
  );
}
