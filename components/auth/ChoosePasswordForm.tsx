'use client';
// Choose a password from an emailed link (an invitation to a new account, or a
// password reset), then sign in with it and go on to the dashboard. Each
// field's error is announced and tied to its input.
//
// The sign-in follows the action inside the same call, not in an effect of
// this component: an action that sets a cookie (the invitation's, choosing
// the tenant) makes Next re-render the page with it, and the link page, its
// invitation now accepted, no longer holds this form.
import { signIn } from 'next-auth/react';
import type { ActionResult } from '@/lib/request/result';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';
import { NewPasswordFields } from './NewPasswordFields';
import { useActionForm } from '@/components/ui/useActionForm';

export function ChoosePasswordForm<T extends { email: string }>({
  action,
  token,
  email,
  askName,
  submitLabel,
}: {
  action: (previous: ActionResult<T> | null, formData: FormData) => Promise<ActionResult<T>>;
  token: string;
  email: string;
  askName?: boolean;
  submitLabel: string;
}) {
  const { state, formAction, pending, formRef, errors } = useActionForm<T>(
    async (previous, formData) => {
      const result = await action(previous, formData);
      if (result.ok) {
        const password = String(formData.get('newPassword') ?? '');
        const res = password ? await signIn('credentials', { redirect: false, email, password }) : null;
        window.location.assign(res?.ok ? '/performance' : '/signin');
      }
      return result;
    },
    { resetOnSuccess: false },
  );
  return (
    <div className="signin-card">
      <ActionForm action={formAction} ref={formRef} aria-label={submitLabel} className="form">
        <input type="hidden" name="token" value={token} />
        <input type="text" name="username" autoComplete="username" value={email} readOnly hidden />
        {askName ? <TextField id="choose-name" name="name" label="Your name (optional)" autoComplete="name" errors={errors?.name} /> : null}
        <NewPasswordFields idPrefix="choose" label="Password" confirmLabel="Confirm password" errors={errors} />
        <FormMessage state={state} />
        <SubmitButton pending={pending || Boolean(state?.ok)} pendingLabel="Saving…">
          {submitLabel}
        </SubmitButton>
      </ActionForm>
    </div>
  );
}
