'use client';
import { useActionState } from 'react';
import { changeMemberRoleAction } from '@/lib/members/actions';
import { ROLE_LABEL, ROLES, type Role } from '@/lib/auth/roles';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';

export function MemberRoleForm({ tenantId, userId, role }: { tenantId: string; userId: string; role: Role }) {
  const [state, formAction, pending] = useActionState(changeMemberRoleAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <section className="card" aria-labelledby="role-title">
      <h2 id="role-title">Role</h2>
      <ActionForm action={formAction} className="form form-inline" aria-label="Change role">
        <input type="hidden" name="_tenant" value={tenantId} />
        <input type="hidden" name="userId" value={userId} />
        <div className="field">
          <label htmlFor="member-new-role">Role</label>
          <select id="member-new-role" name="role" defaultValue={role} aria-describedby="member-new-role-error">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
          <FieldError id="member-new-role-error" errors={errors?.role ?? errors?.userId} />
        </div>
        <div className="field field-submit">
          <SubmitButton pending={pending} pendingLabel="Saving…">
            Save role
          </SubmitButton>
        </div>
      </ActionForm>
      <FormMessage state={state} />
    </section>
  );
}
