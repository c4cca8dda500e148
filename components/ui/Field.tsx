// The frame shared by TextField and SelectField: label, control, optional hint
// and error line, with the ids derived from the control's id so the control's
// aria-describedby always names elements that are actually rendered.
import type { ReactNode } from 'react';
import { FieldError } from './FieldError';

// Sign-in reports one error for the email/password pair, so its fields point
// at a region the form owns instead of an error line of their own.
type ErrorSource = { errors: string[] | undefined; errorId?: never } | { errorId: string; errors?: never };

export type FieldProps = ErrorSource & {
  id: string;
  label: string;
  hint?: ReactNode;
  // Not derived from `errors`: a field flagged by the form's shared error has
  // no errors of its own, and a field left unset carries no aria-invalid at all.
  invalid?: boolean;
};

/** The control's id and its accessibility wiring, for the element a field wraps. */
export function controlProps({ id, hint, errorId, invalid }: FieldProps) {
  return {
    id,
    'aria-invalid': invalid,
    'aria-describedby': [hint ? `${id}-hint` : null, errorId ?? `${id}-error`].filter(Boolean).join(' '),
  };
}

export function Field({ id, label, hint, errors, errorId, children }: FieldProps & { children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="muted field-hint">
          {hint}
        </p>
      ) : null}
      {errorId ? null : <FieldError id={`${id}-error`} errors={errors} />}
    </div>
  );
}
