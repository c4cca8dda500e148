'use client';
// Ask for a password-reset link. The answer is the same whether or not the
// email has an account.
import { requestPasswordResetAction } from '@/lib/invitations/actions';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';
import { useActionForm } from '@/components/ui/useActionForm';

export function ForgotPasswordForm() {
  const { state, formAction, pending, formRef, errors } = useActionForm(requestPasswordResetAction);
  return (
    <div className="signin-card">
      <ActionForm action={formAction} ref={formRef} aria-label="Reset your password" className="form">
        <TextField id="forgot-email" name="email" label="Email" type="email" autoComplete="username" required errors={errors?.email} invalid={Boolean(errors?.email)} />
        <FormMessage state={state} />
        <SubmitButton pending={pending} pendingLabel="Sending…">
          Send me a link
        </SubmitButton>
      </ActionForm>
    </div>
  );
}
