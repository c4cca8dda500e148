'use client';
// Lets a member of several tenants choose which one to work in; the server
// re-checks the membership before remembering the choice.
import { useActionState } from 'react';
import { switchTenantAction } from '@/lib/tenancy/actions';
import { ActionForm } from '@/components/ui/ActionForm';
import { SubmitButton } from '@/components/ui/SubmitButton';

export interface TenantOption {
  tenantId: string;
  tenantName: string;
  role: string;
}

export function TenantSwitcher({ current, options }: { current: string; options: TenantOption[] }) {
  const [state, formAction, pending] = useActionState(switchTenantAction, null);
  return (
    <ActionForm action={formAction} className="tenant-switcher" aria-label="Switch tenant">
      <label htmlFor="tenant-switch">Tenant</label>
      <select id="tenant-switch" name="tenantId" defaultValue={current} aria-describedby="tenant-switch-error">
        {options.map((o) => (
          <option key={o.tenantId} value={o.tenantId}>
            {o.tenantName} ({o.role})
          </option>
        ))}
      </select>
      <SubmitButton pending={pending} variant="secondary" pendingLabel="Switching…">
        Switch
      </SubmitButton>
      <p id="tenant-switch-error" className="field-error" aria-live="polite">
        {state && !state.ok ? state.message : null}
      </p>
    </ActionForm>
  );
}
