'use client';
// Create an API key: a name only (what a key may do is fixed). The key comes
// back once in the action's answer and is shown until the admin hides it.
import { useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { controlProps, Field } from '@/components/ui/Field';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { useActionForm } from '@/components/ui/useActionForm';
import { createApiKeyAction } from '@/lib/ingest/api-key-actions';
import { ApiKeysSecret } from './ApiKeysSecret';

export function ApiKeysCreateForm({ tenantId, nameMax }: { tenantId: string; nameMax: number }) {
  const { state, formAction, pending, formRef, errors } = useActionForm(createApiKeyAction);
  // The answer the admin hid: its key leaves the page (a new answer shows its own).
  const [hidden, setHidden] = useState<typeof state>(null);
  const created = state?.ok && state.data?.key && state !== hidden ? state.data : null;
  const field = {
    id: 'api-key-name',
    label: 'Name',
    hint: 'Where it is used, e.g. “Nightly Meta export”.',
    errors: errors?.name,
    invalid: errors?.name ? true : undefined,
  };
  return (
    <>
      <ActionForm ref={formRef} action={formAction} className="form form-inline" aria-label="Create an API key">
        <input type="hidden" name="_tenant" value={tenantId} />
        <Field {...field}>
          <input {...controlProps(field)} name="name" type="text" maxLength={nameMax} required autoComplete="off" />
        </Field>
        <div className="field field-submit">
          <SubmitButton pending={pending} pendingLabel="Creating…">
            Create key
          </SubmitButton>
        </div>
      </ActionForm>
      <FormMessage state={state?.ok && !created ? null : state} />
      {created ? <ApiKeysSecret name={created.name} apiKey={created.key} onHide={() => setHidden(state)} /> : null}
    </>
  );
}
