'use client';
// Change one's own password: current, new (12 characters or more), and the new
// one again. Each field's error is announced and tied to its input.
import { useActionState, useEffect, useRef } from 'react';
import { changePasswordAction } from '@/lib/auth/account-actions';
import { MIN_PASSWORD_LENGTH } from '@/lib/auth/account-schema';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';

export function ChangePasswordForm({ email }: { email: string }) {
  const [state, formAction, pending] = useActionState(changePasswordAction, null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state?.ok) formRef.current?.reset();
  }, [state]);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <div className="signin-card">
      <ActionForm action={formAction} ref={formRef} aria-label="Change password" className="form">
        {/* Lets password managers file the new password under the right account. */}
        <input type="text" name="username" autoComplete="username" value={email} readOnly hidden />
        <div className="field">
          <label htmlFor="current-password">Current password</label>
          <input
            id="current-password"
            name="currentPassword"
            type="password"
            autoComplete="current-password"
            required
            aria-invalid={Boolean(errors?.currentPassword)}
            aria-describedby="current-password-error"
          />
          <FieldError id="current-password-error" errors={errors?.currentPassword} />
        </div>
        <div className="field">
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            name="newPassword"
            type="password"
            autoComplete="new-password"
            minLength={MIN_PASSWORD_LENGTH}
            required
            aria-invalid={Boolean(errors?.newPassword)}
            aria-describedby="new-password-hint new-password-error"
          />
          <p id="new-password-hint" className="muted field-hint">
            At least {MIN_PASSWORD_LENGTH} characters.
          </p>
          <FieldError id="new-password-error" errors={errors?.newPassword} />
        </div>
        <div className="field">
          <label htmlFor="confirm-password">Confirm new password</label>
          <input
            id="confirm-password"
            name="confirmPassword"
            type="password"
            autoComplete="new-password"
            required
            aria-invalid={Boolean(errors?.confirmPassword)}
            aria-describedby="confirm-password-error"
          />
          <FieldError id="confirm-password-error" errors={errors?.confirmPassword} />
        </div>
        <FormMessage state={state} />
        <SubmitButton pending={pending} pendingLabel="Changing…">
          Change password
        </SubmitButton>
      </ActionForm>
    </div>
  );
}
