'use client';
// Change one's own password: current, new (12 characters or more), and the new
// one again. Each field's error is announced and tied to its input.
import { changePasswordAction } from '@/lib/account/actions';
import { MIN_PASSWORD_LENGTH } from '@/lib/account/schema';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';
import { useActionForm } from '@/components/ui/useActionForm';

export function ChangePasswordForm({ email }: { email: string }) {
  const { state, formAction, pending, formRef, errors } = useActionForm(changePasswordAction);
  return (
    <div className="signin-card">
      <ActionForm action={formAction} ref={formRef} aria-label="Change password" className="form">
        {/* Lets password managers file the new password under the right account. */}
        <input type="text" name="username" autoComplete="username" value={email} readOnly hidden />
        <TextField
          id="current-password"
          name="currentPassword"
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          errors={errors?.currentPassword}
          invalid={Boolean(errors?.currentPassword)}
        />
        <TextField
          id="new-password"
          name="newPassword"
          label="New password"
          type="password"
          autoComplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          required
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          errors={errors?.newPassword}
          invalid={Boolean(errors?.newPassword)}
        />
        <TextField
          id="confirm-password"
          name="confirmPassword"
          label="Confirm new password"
          type="password"
          autoComplete="new-password"
          required
          errors={errors?.confirmPassword}
          invalid={Boolean(errors?.confirmPassword)}
        />
        <FormMessage state={state} />
        <SubmitButton pending={pending} pendingLabel="Changing…">
          Change password
        </SubmitButton>
      </ActionForm>
    </div>
  );
}
