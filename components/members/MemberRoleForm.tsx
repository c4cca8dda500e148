'use client';
import { useActionState } from 'react';
import { changeMemberRoleAction } from '@/lib/members/actions';
import { ROLE_LABEL, ROLES, type Role } from '@/lib/tenancy/roles';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SelectField } from '@/components/ui/SelectField';
import { SubmitButton } from '@/components/ui/SubmitButton';

const ROLE_OPTIONS = ROLES.map((r) => ({ value: r, label: ROLE_LABEL[r] }));

export function MemberRoleForm({ tenantId, userId, role }: { tenantId: string; userId: string; role: Role }) {
  const [state, formAction, pending] = useActionState(changeMemberRoleAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <section className="card" aria-labelledby="role-title">
      <h2 id="role-title">Role</h2>
      <ActionForm action={formAction} className="form form-inline" aria-label="Change role">
        <input type="hidden" name="_tenant" value={tenantId} />
        <input type="hidden" name="userId" value={userId} />
        <SelectField
          id="member-new-role"
          name="role"
          label="Role"
          defaultValue={role}
          options={ROLE_OPTIONS}
          errors={errors?.role ?? errors?.userId}
        />
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
