'use client';
// The tenant's API keys: name, public prefix, who made it and when, last use,
// revoked or not; Revoke asks first in a dialog (the server checks the
// confirmation and the admin role again, and audits the revocation).
import { useActionState, useEffect, useRef } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { formatUtc } from '@/lib/format/time';
import { revokeApiKeyAction } from '@/lib/ingest/api-key-actions';
import type { ApiKeyView } from '@/lib/ingest/api-keys';
import styles from './api-keys.module.css';

function When({ at, none }: { at: string | null; none: string }) {
  return at ? <time dateTime={at}>{formatUtc(at, 'minutes')}</time> : <span className="muted">{none}</span>;
}

function RevokeButton({ tenantId, apiKey }: { tenantId: string; apiKey: ApiKeyView }) {
  const [state, formAction, pending] = useActionState(revokeApiKeyAction, null);
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (state?.ok) dialog.current?.close();
  }, [state]);
  const title = `Revoke “${apiKey.name}”?`;
  return (
    <>
      <button
        type="button"
        className="button button-danger button-small"
        onClick={() => dialog.current?.showModal()}
        disabled={pending}
        aria-label={`Revoke ${apiKey.name}…`}
      >
        Revoke…
      </button>
      <FormMessage state={state?.ok ? state : null} />
      <dialog ref={dialog} className={styles.dialog} aria-label={title}>
        <ActionForm action={formAction} className="form" aria-label={title}>
          <h2 className={styles.dialogTitle}>{title}</h2>
          <input type="hidden" name="_tenant" value={tenantId} />
          <input type="hidden" name="id" value={apiKey.id} />
          <input type="hidden" name="confirm" value="revoke" />
          <p>
            Every request with <code>{apiKey.prefix}</code> is refused from now on. This cannot be undone: the system that uses it needs a new
            key.
          </p>
          <FormMessage state={state && !state.ok ? state : null} />
          <div className="row-actions">
            <SubmitButton pending={pending} variant="danger" pendingLabel="Revoking…">
              Revoke the key
            </SubmitButton>
            <button type="button" className="button button-secondary" onClick={() => dialog.current?.close()}>
              Keep it
            </button>
          </div>
        </ActionForm>
      </dialog>
    </>
  );
}

export function ApiKeysTable({ tenantId, keys }: { tenantId: string; keys: ApiKeyView[] }) {
  return (
    <table className="table table-stack">
      <caption className="visually-hidden">API keys of this tenant, by name</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Key</th>
          <th scope="col">Created</th>
          <th scope="col">Last used</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.id} className={k.revokedAt ? styles.revoked : undefined}>
            <td>{k.name}</td>
            <td data-label="Key">
              <code>{k.prefix}</code>
            </td>
            <td data-label="Created">
              <When at={k.createdAt} none="—" /> <span className="muted small">by {k.createdBy ?? 'a former member'}</span>
            </td>
            <td data-label="Last used">
              <When at={k.lastUsedAt} none="never" />
            </td>
            <td data-label="Status" className="cell-actions">
              {k.revokedAt ? (
                <>
                  Revoked <When at={k.revokedAt} none="" />
                </>
              ) : (
                <div className="row-actions">
                  <span>Active</span>
                  <RevokeButton tenantId={tenantId} apiKey={k} />
                </div>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
