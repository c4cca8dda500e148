'use client';
import { useActionState } from 'react';
import { runOptimizerAction } from '@/lib/engine/actions';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';

export function RunOptimizerForm({ tenantId }: { tenantId: string }) {
  const [state, formAction, pending] = useActionState(runOptimizerAction, null);
  return (
    <ActionForm action={formAction} className="form form-inline" aria-label="Run the optimiser">
      <input type="hidden" name="_tenant" value={tenantId} />
      <SubmitButton pending={pending} pendingLabel="Running…">
        Run the optimiser now
      </SubmitButton>
      <FormMessage state={state} />
    </ActionForm>
  );
}
