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

type InvitationAction = typeof resendInvitationAction;

/** One button's form: the invitation it acts on, and the outcome for the row. */
function InvitationButton({ action, tenantId, invitation, label, pendingLabel, variant }: {
  action: InvitationAction;
  tenantId: string;
  invitation: PendingInvitation;
  label: 'Resend' | 'Revoke';
  pendingLabel: string;
  variant: 'secondary' | 'danger';
}) {
  const { state, formAction, pending } = useActionForm(action);
  return (
    <>
      <ActionForm action={formAction} aria-label={`${label} the invitation to ${invitation.email}`}>
        <input type="hidden" name="_tenant" value={tenantId} />
        <input type="hidden" name="invitationId" value={invitation.id} />
        <SubmitButton pending={pending} variant={variant} pendingLabel={pendingLabel}>
          {label}
        </SubmitButton>
      </ActionForm>
      <FormMessage state={state} />
    </>
  );
}

function InvitationButtons({ tenantId, invitation }: { tenantId: string; invitation: PendingInvitation }) {
  return (
    <div className="row-actions">
      <InvitationButton action={resendInvitationAction} tenantId={tenantId} invitation={invitation} label="Resend" pendingLabel="Sending…" variant="secondary" />
      <InvitationButton action={revokeInvitationAction} tenantId={tenantId} invitation={invitation} label="Revoke" pendingLabel="Revoking…" variant="danger" />
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
