'use client';
// Add a member: an existing account by email, or a new account whose
// temporary password (24 hours, changed at first sign-in) is shown here once.
import { useActionState, useEffect, useRef } from 'react';
import { addMemberAction } from '@/lib/members/actions';
import { ROLE_DESCRIPTION, ROLE_LABEL, ROLES } from '@/lib/auth/roles';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TemporaryPasswordNotice } from './TemporaryPasswordNotice';

export function AddMemberForm({ tenantId }: { tenantId: string }) {
  const [state, formAction, pending] = useActionState(addMemberAction, null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state?.ok) formRef.current?.reset();
  }, [state]);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
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
        <div className="field">
          <label htmlFor="member-email">Email</label>
          <input
            id="member-email"
            name="email"
            type="email"
            autoComplete="off"
            required
            aria-invalid={Boolean(errors?.email)}
            aria-describedby="member-email-error"
          />
          <FieldError id="member-email-error" errors={errors?.email} />
        </div>
        <div className="field">
          <label htmlFor="member-name">Name (optional)</label>
          <input id="member-name" name="name" type="text" autoComplete="off" aria-describedby="member-name-error" />
          <FieldError id="member-name-error" errors={errors?.name} />
        </div>
        <div className="field">
          <label htmlFor="member-role">Role</label>
          <select id="member-role" name="role" defaultValue="viewer" aria-describedby="member-role-error">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]} — {ROLE_DESCRIPTION[r]}
              </option>
            ))}
          </select>
          <FieldError id="member-role-error" errors={errors?.role} />
        </div>
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
