'use client';
// Accept or decline an invitation as the signed-in owner of the invited account.
import { acceptInvitationAction, declineInvitationAction } from '@/lib/invitations/actions';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { useActionForm } from '@/components/ui/useActionForm';

export function AnswerInvitationForm({ token, tenantName }: { token: string; tenantName: string }) {
  const accept = useActionForm(acceptInvitationAction);
  const decline = useActionForm(declineInvitationAction);
  if (decline.state?.ok) return <FormMessage state={decline.state} />;
  return (
    <div className="signin-card">
      <div className="row-actions">
        <ActionForm action={accept.formAction} aria-label={`Join ${tenantName}`}>
          <input type="hidden" name="token" value={token} />
          <SubmitButton pending={accept.pending} pendingLabel="Joining…">
            Join {tenantName}
          </SubmitButton>
        </ActionForm>
        <ActionForm action={decline.formAction} aria-label="Decline the invitation">
          <input type="hidden" name="token" value={token} />
          <SubmitButton pending={decline.pending} variant="secondary" pendingLabel="Declining…">
            Decline
          </SubmitButton>
        </ActionForm>
      </div>
      <FormMessage state={accept.state ?? decline.state} />
    </div>
  );
}
