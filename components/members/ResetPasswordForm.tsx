'use client';
// Issue a new temporary password for a member of this tenant only (for an
// expired invitation or a forgotten password). The server refuses admins and
// people who also belong to another organisation.
import { useActionState } from 'react';
import { resetMemberPasswordAction } from '@/lib/members/actions';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TemporaryPasswordNotice } from './TemporaryPasswordNotice';

export function ResetPasswordForm({ tenantId, userId, email }: { tenantId: string; userId: string; email: string }) {
  const [state, formAction, pending] = useActionState(resetMemberPasswordAction, null);
  const temporary = state?.ok ? state.data : undefined;
  return (
    <section className="card" aria-labelledby="reset-title">
      <h2 id="reset-title">Temporary password</h2>
      <p className="muted">
        Gives {email} a new temporary password, valid 24 hours, replacing the current one; they must choose their own
        when they sign in. Only for someone who belongs to no other organisation.
      </p>
      <ActionForm action={formAction} className="form" aria-label="Issue a temporary password">
        <input type="hidden" name="_tenant" value={tenantId} />
        <input type="hidden" name="userId" value={userId} />
        <div>
          <SubmitButton pending={pending} variant="secondary" pendingLabel="Issuing…">
            Issue a new temporary password
          </SubmitButton>
        </div>
      </ActionForm>
      <FormMessage state={state} />
      {temporary ? <TemporaryPasswordNotice temporary={temporary} /> : null}
    </section>
  );
}
