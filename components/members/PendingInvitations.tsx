'use client';
// Invitations not yet answered, with Resend (a new link; the old one stops
// working) and Revoke for admins.
import { resendInvitationAction, revokeInvitationAction } from '@/lib/members/actions';
import type { PendingInvitation } from '@/lib/members/queries';
import { formatUtc } from '@/lib/format/time';
import { ROLE_LABEL } from '@/lib/tenancy/roles';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { useActionForm } from '@/components/ui/useActionForm';

function InvitationButtons({ tenantId, invitation }: { tenantId: string; invitation: PendingInvitation }) {
  const resend = useActionForm(resendInvitationAction);
  const revoke = useActionForm(revokeInvitationAction);
  return (
    <div className="row-actions">
      <ActionForm action={resend.formAction} aria-label={`Resend the invitation to ${invitation.email}`}>
        <input type="hidden" name="_tenant" value={tenantId} />
        <input type="hidden" name="invitationId" value={invitation.id} />
        <SubmitButton pending={resend.pending} variant="secondary" pendingLabel="Sending…">
          Resend
        </SubmitButton>
      </ActionForm>
      <ActionForm action={revoke.formAction} aria-label={`Revoke the invitation to ${invitation.email}`}>
        <input type="hidden" name="_tenant" value={tenantId} />
        <input type="hidden" name="invitationId" value={invitation.id} />
        <SubmitButton pending={revoke.pending} variant="danger" pendingLabel="Revoking…">
          Revoke
        </SubmitButton>
      </ActionForm>
      <FormMessage state={resend.state ?? revoke.state} />
    </div>
  );
}

export function PendingInvitations({ tenantId, invitations, canManage }: { tenantId: string; invitations: PendingInvitation[]; canManage: boolean }) {
  if (!invitations.length) return null;
  return (
    <section className="card" aria-labelledby="pending-title">
      <h2 id="pending-title">Pending invitations</h2>
      <div className="table-wrap">
        <table className="table table-stack">
          <caption className="visually-hidden">Invitations not yet accepted</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Invited by</th>
              <th scope="col">Link valid until</th>
              {canManage ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {invitations.map((i) => (
              <tr key={i.id}>
                <td>{i.email}</td>
                <td data-label="Role">{ROLE_LABEL[i.role]}</td>
                <td data-label="Invited by">{i.invitedBy ?? '—'}</td>
                <td data-label="Link valid until">
                  <time dateTime={i.expiresAt}>{formatUtc(i.expiresAt, 'minutes')}</time>
                  {i.expired ? <span className="muted"> (expired: resend it)</span> : null}
                </td>
                {canManage ? (
                  <td className="cell-actions">
                    <InvitationButtons tenantId={tenantId} invitation={i} />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
