'use client';
// The fields of an allocation, shared by the inline editor and the form that
// adds one: daily budget, bounds, strategy with its target, status. Each error
// sits under its field, tied to it by aria-describedby. The target the chosen
// strategy needs is marked required as the strategy changes (the server checks
// it again).
import { useState } from 'react';
import { controlProps, Field } from '@/components/ui/Field';
import type { FieldErrors } from '@/lib/request/result';
import { ALLOCATION_STATUSES, FIELD_LABEL, STATUS_LABEL, STRATEGIES, STRATEGY_LABEL, type BudgetField, type Strategy } from '@/lib/budgets/schema';
import styles from './budgets.module.css';

export interface BudgetFieldValues {
  dailyBudget: number | null;
  minBudget: number | null;
  maxBudget: number | null;
  strategy: Strategy;
  targetRoas: number | null;
  targetCpa: number | null;
  status: string;
}

/** An amount as the input shows it: 120, 120.50, '' for none. */
const shown = (v: number | null, decimals = 2) => (v === null ? '' : Number.isInteger(v) ? String(v) : String(Number(v.toFixed(decimals))));

function AmountField({
  idPrefix,
  name,
  value,
  errors,
  hint,
  required,
  currency,
}: {
  idPrefix: string;
  name: BudgetField;
  value: string;
  errors: FieldErrors | undefined;
  hint?: string;
  required?: boolean;
  currency?: string;
}) {
  const id = `${idPrefix}-${name}`;
  const own = errors?.[name];
  const label = `${FIELD_LABEL[name]}${currency ? ` (${currency})` : ''}`;
  return (
    <Field id={id} label={label} hint={hint} errors={own}>
      <input
        {...controlProps({ id, hint, errors: own, invalid: own ? true : undefined, label })}
        name={name}
        defaultValue={value}
        inputMode="decimal"
        autoComplete="off"
        aria-required={required || undefined}
      />
    </Field>
  );
}

export function BudgetFields({
  idPrefix,
  values,
  errors,
  currency,
}: {
  idPrefix: string;
  values: BudgetFieldValues;
  errors: FieldErrors | undefined;
  currency: string;
}) {
  const [strategy, setStrategy] = useState<Strategy>(values.strategy);
  const selectProps = (name: BudgetField) => {
    const id = `${idPrefix}-${name}`;
    const own = errors?.[name];
    return { id, own, control: controlProps({ id, errors: own, invalid: own ? true : undefined, label: FIELD_LABEL[name] }) };
  };
  const s = selectProps('strategy');
  const st = selectProps('status');
  return (
    <div className={styles.editorFields}>
      <AmountField idPrefix={idPrefix} name="dailyBudget" value={shown(values.dailyBudget)} errors={errors} required currency={currency} />
      <AmountField idPrefix={idPrefix} name="minBudget" value={shown(values.minBudget)} errors={errors} hint="Empty: no minimum." currency={currency} />
      <AmountField idPrefix={idPrefix} name="maxBudget" value={shown(values.maxBudget)} errors={errors} hint="Empty: no maximum." currency={currency} />
      <Field id={s.id} label={FIELD_LABEL.strategy} errors={s.own}>
        <select {...s.control} name="strategy" defaultValue={values.strategy} onChange={(e) => setStrategy(e.currentTarget.value as Strategy)}>
          {STRATEGIES.map((x) => (
            <option key={x} value={x}>
              {STRATEGY_LABEL[x]}
            </option>
          ))}
        </select>
      </Field>
      <AmountField
        idPrefix={idPrefix}
        name="targetRoas"
        value={shown(values.targetRoas, 4)}
        errors={errors}
        required={strategy === 'target_roas'}
        hint={strategy === 'target_roas' ? 'Required with this strategy: value per unit spent, 3 for 300 %.' : 'Optional: value per unit spent, 3 for 300 %.'}
      />
      <AmountField
        idPrefix={idPrefix}
        name="targetCpa"
        value={shown(values.targetCpa)}
        errors={errors}
        required={strategy === 'target_cpa'}
        currency={currency}
        hint={strategy === 'target_cpa' ? 'Required with this strategy.' : 'Optional.'}
      />
      <Field id={st.id} label={FIELD_LABEL.status} errors={st.own}>
        <select {...st.control} name="status" defaultValue={values.status}>
          {ALLOCATION_STATUSES.map((x) => (
            <option key={x} value={x}>
              {STATUS_LABEL[x]}
            </option>
          ))}
        </select>
      </Field>
    </div>
  );
}
