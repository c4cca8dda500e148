'use client';
import Link from 'next/link';
import { useActionState } from 'react';
import { removeMemberAction } from '@/lib/members/actions';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';

export function RemoveMemberForm({ tenantId, userId, email }: { tenantId: string; userId: string; email: string }) {
  const [state, formAction, pending] = useActionState(removeMemberAction, null);
  return (
    <section className="card card-danger" aria-labelledby="remove-title">
      <h2 id="remove-title">Remove from this tenant</h2>
      <p className="muted">
        {email} loses access to this tenant at once. Their account stays, with any other memberships (an account that
        was never activated is deleted).
      </p>
      {state?.ok ? null : (
        <ActionForm action={formAction} className="form" aria-label="Remove member">
          <input type="hidden" name="_tenant" value={tenantId} />
          <input type="hidden" name="userId" value={userId} />
          <SubmitButton pending={pending} variant="danger" pendingLabel="Removing…">
            Remove member
          </SubmitButton>
        </ActionForm>
      )}
      <FormMessage state={state} />
      {state?.ok ? (
        <p>
          <Link href="/members">Back to Members</Link>
        </p>
      ) : null}
    </section>
  );
}
