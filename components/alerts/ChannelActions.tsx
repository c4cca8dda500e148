'use client';
// A channel's buttons: send a test now, enable or disable, rotate the webhook
// secret (the new one shown once), delete. Each is its own small form on a
// server action that refuses anyone but an admin; shown disabled otherwise.
import { useActionState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import {
  deleteAlertChannelAction,
  rotateWebhookSecretAction,
  sendTestAlertAction,
  setAlertChannelEnabledAction,
} from '@/lib/alerts/actions';
import { OneTimeSecret } from './OneTimeSecret';

interface Props {
  tenantId: string;
  channelId: string;
  name: string;
  kind: 'email' | 'webhook';
  enabled: boolean;
  canEdit: boolean;
}

export function ChannelActions({ tenantId, channelId, name, kind, enabled, canEdit }: Props) {
  const [test, testAction, testing] = useActionState(sendTestAlertAction, null);
  const [toggle, toggleAction, toggling] = useActionState(setAlertChannelEnabledAction, null);
  const [rotate, rotateAction, rotating] = useActionState(rotateWebhookSecretAction, null);
  const [removal, deleteAction, deleting] = useActionState(deleteAlertChannelAction, null);
  const hidden = (
    <>
      <input type="hidden" name="_tenant" value={tenantId} />
      <input type="hidden" name="id" value={channelId} />
    </>
  );
  const secret = rotate?.ok ? rotate.data?.secret : undefined;
  return (
    <div className="row-actions">
      <fieldset disabled={!canEdit} className="fieldset form-inline">
        <legend className="visually-hidden">Actions on {name}</legend>
        <ActionForm action={testAction} className="form-inline" aria-label={`Send a test to ${name}`}>
          {hidden}
          <SubmitButton pending={testing} pendingLabel="Sending…" variant="secondary">
            Send test
          </SubmitButton>
        </ActionForm>
        <ActionForm action={toggleAction} className="form-inline" aria-label={`${enabled ? 'Disable' : 'Enable'} ${name}`}>
          {hidden}
          <input type="hidden" name="enabled" value={enabled ? 'false' : 'true'} />
          <SubmitButton pending={toggling} variant="secondary">
            {enabled ? 'Disable' : 'Enable'}
          </SubmitButton>
        </ActionForm>
        {kind === 'webhook' ? (
          <ActionForm action={rotateAction} className="form-inline" aria-label={`Rotate the secret of ${name}`}>
            {hidden}
            <SubmitButton pending={rotating} pendingLabel="Rotating…" variant="secondary">
              Rotate secret
            </SubmitButton>
          </ActionForm>
        ) : null}
        <ActionForm action={deleteAction} className="form-inline" aria-label={`Delete ${name}`}>
          {hidden}
          <SubmitButton pending={deleting} pendingLabel="Deleting…" variant="danger">
            Delete
          </SubmitButton>
        </ActionForm>
      </fieldset>
      <FormMessage state={test ?? toggle ?? removal ?? rotate} />
      {secret ? <OneTimeSecret secret={secret} /> : null}
    </div>
  );
}
