'use client';
// The Undo button of one automatic change; the answer (done, or why not) stays under it.
import { useActionState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { undoAutoApplyAction } from '@/lib/recommendations/actions';

/** available: the Undo is offered; once undone (here or elsewhere) the form stays mounted so its answer stays on screen. */
export function UndoAutoApplyForm({ id, tenantId, label, available }: { id: string; tenantId: string; label: string; available: boolean }) {
  const [state, formAction, pending] = useActionState(undoAutoApplyAction, null);
  return (
    <ActionForm action={formAction} className="form form-inline" aria-label={`Undo: ${label}`}>
      <input type="hidden" name="_tenant" value={tenantId} />
      <input type="hidden" name="id" value={id} />
      {state?.ok || !available ? null : (
        <SubmitButton pending={pending} pendingLabel="Undoing…" variant="secondary">
          Undo
        </SubmitButton>
      )}
      <FormMessage state={state} />
    </ActionForm>
  );
}
