'use client';
// Invite a member: an email and a role. The person gets a single-use link by
// mail and joins only by accepting it; nobody here sees or sets a password.
import { inviteMemberAction } from '@/lib/members/actions';
import { ROLE_DESCRIPTION, ROLE_LABEL, ROLES } from '@/lib/tenancy/roles';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SelectField } from '@/components/ui/SelectField';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';
import { useActionForm } from '@/components/ui/useActionForm';

const ROLE_OPTIONS = ROLES.map((r) => ({ value: r, label: `${ROLE_LABEL[r]} — ${ROLE_DESCRIPTION[r]}` }));

export function InviteMemberForm({ tenantId }: { tenantId: string }) {
  const { state, formAction, pending, formRef, errors } = useActionForm(inviteMemberAction);
  return (
    <section className="card" aria-labelledby="invite-member-title">
      <h2 id="invite-member-title">Invite a member</h2>
      <p className="muted">
        They get a link by mail, valid 72 hours, and join once they accept it: a new person chooses their own password,
        someone with an account signs in and accepts.
      </p>
      <ActionForm action={formAction} ref={formRef} className="form form-inline invite-form" aria-label="Invite a member">
        <input type="hidden" name="_tenant" value={tenantId} />
        <TextField
          id="invite-email"
          name="email"
          label="Email"
          type="email"
          autoComplete="off"
          required
          errors={errors?.email}
          invalid={Boolean(errors?.email)}
        />
        <SelectField id="invite-role" name="role" label="Role" defaultValue="viewer" options={ROLE_OPTIONS} errors={errors?.role} />
        <div className="field field-submit">
          <SubmitButton pending={pending} pendingLabel="Sending…">
            Send invitation
          </SubmitButton>
        </div>
      </ActionForm>
      <FormMessage state={state} />
    </section>
  );
}
