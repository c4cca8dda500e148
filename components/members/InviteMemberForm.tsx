'use client';
// Add a member: an existing account by email, or a new account whose
// temporary password (24 hours, changed at first sign-in) is shown here once.
import { addMemberAction } from '@/lib/members/actions';
import { ROLE_DESCRIPTION, ROLE_LABEL, ROLES } from '@/lib/tenancy/roles';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SelectField } from '@/components/ui/SelectField';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';
import { useActionForm } from '@/components/ui/useActionForm';
import { TemporaryPasswordNotice } from './TemporaryPasswordNotice';

const ROLE_OPTIONS = ROLES.map((r) => ({ value: r, label: `${ROLE_LABEL[r]} — ${ROLE_DESCRIPTION[r]}` }));

export function AddMemberForm({ tenantId }: { tenantId: string }) {
  const { state, formAction, pending, formRef, errors } = useActionForm(addMemberAction);
  const temporary = state?.ok ? state.data?.temporary : undefined;
  return (
    <section className="card" aria-labelledby="add-member-title">
      <h2 id="add-member-title">Add a member</h2>
      <p className="muted">
        An existing account is added as it is. For a new email an account is created with a temporary password, shown
        once below: it works for 24 hours and must be replaced at first sign-in.
      </p>
      <ActionForm action={formAction} ref={formRef} className="form form-inline" aria-label="Add a member">
        <input type="hidden" name="_tenant" value={tenantId} />
        <TextField
          id="member-email"
          name="email"
          label="Email"
          type="email"
          autoComplete="off"
          required
          errors={errors?.email}
          invalid={Boolean(errors?.email)}
        />
        <TextField id="member-name" name="name" label="Name (optional)" autoComplete="off" errors={errors?.name} invalid={Boolean(errors?.name)} />
        <SelectField
          id="member-role"
          name="role"
          label="Role"
          defaultValue="viewer"
          options={ROLE_OPTIONS}
          errors={errors?.role}
        />
        <div className="field field-submit">
          <SubmitButton pending={pending} pendingLabel="Adding…">
            Add member
          </SubmitButton>
        </div>
      </ActionForm>
      <FormMessage state={state} />
      {temporary ? <TemporaryPasswordNotice temporary={temporary} /> : null}
    </section>
  );
}
