'use client';
// Change one's own password: current, new (12 characters or more), and the new
// one again. Each field's error is announced and tied to its input.
import { changePasswordAction } from '@/lib/account/actions';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';
import { NewPasswordFields } from './NewPasswordFields';
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
        <NewPasswordFields idPrefix="new" label="New password" confirmLabel="Confirm new password" errors={errors} />
        <FormMessage state={state} />
        <SubmitButton pending={pending} pendingLabel="Changing…">
          Change password
        </SubmitButton>
      </ActionForm>
    </div>
  );
}
