'use client';
// Which column of the file feeds each of the product's fields, chosen from the
// file's own headers. Saved for the tenant and the platform (the next export of
// the same kind is read with it), then the file is previewed again.
import { useActionState, useEffect, useRef } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { saveMappingAction } from '@/lib/ingest/mapping-actions';
import { IMPORT_PLATFORMS, TARGET_FIELDS, type ColumnMapping, type ImportPlatform } from '@/lib/ingest/types';
import { FIELD_INFO, importPlatformLabel, isRequiredField } from './labels';
import styles from './imports.module.css';

export interface SavedMapping {
  platform: ImportPlatform;
  mapping: ColumnMapping;
}

export function MappingEditor({
  headers,
  initial,
  platform,
  tenantId,
  onSaved,
  onCancel,
}: {
  headers: string[];
  initial: ColumnMapping;
  platform: ImportPlatform | null;
  tenantId: string;
  onSaved: (saved: SavedMapping) => void;
  onCancel: () => void;
}) {
  const [state, formAction, pending] = useActionState(saveMappingAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  // Each answer is handled once, though the effect may run again.
  const handled = useRef<typeof state>(null);
  useEffect(() => {
    if (state && state.ok && state.data && handled.current !== state) {
      handled.current = state;
      onSaved(state.data);
    }
  }, [state, onSaved]);

  const known = new Set(headers);
  return (
    <section className="card" aria-labelledby="mapping-title">
      <h2 id="mapping-title">Column mapping</h2>
      <p className="muted small">
        For each field, the column of your file that holds it. The mapping is saved for this tenant and platform: the next file from the same
        export is read with it.
      </p>
      <ActionForm action={formAction} className={`form ${styles.mapping}`} aria-label="Column mapping">
        <input type="hidden" name="_tenant" value={tenantId} />
        <div className="field">
          <label htmlFor="mapping-platform">Platform</label>
          <select id="mapping-platform" name="platform" defaultValue={platform ?? ''} aria-describedby="mapping-platform-error" required>
            <option value="" disabled>
              Choose the platform of the export
            </option>
            {IMPORT_PLATFORMS.map((p) => (
              <option key={p} value={p}>
                {importPlatformLabel(p)}
              </option>
            ))}
          </select>
          <FieldError id="mapping-platform-error" errors={errors?.platform} />
        </div>
        <div className={styles.mappingGrid}>
          {TARGET_FIELDS.map((field) => {
            const info = FIELD_INFO[field];
            const current = initial[field];
            const id = `mapping-${field}`;
            return (
              <div className="field" key={field}>
                <label htmlFor={id}>
                  {info.label}
                  {isRequiredField(field) ? null : <span className="muted"> (optional)</span>}
                </label>
                <select
                  id={id}
                  name={`map_${field}`}
                  defaultValue={current && known.has(current) ? current : ''}
                  aria-describedby={`${id}-hint ${id}-error`}
                  aria-invalid={errors?.[`map_${field}`] ? true : undefined}
                >
                  <option value="">— not in the file —</option>
                  {/* A column without a header cannot be named in a mapping. */}
                  {headers.map((h, i) =>
                    h ? (
                      <option key={`${i}-${h}`} value={h}>
                        {h}
                      </option>
                    ) : null,
                  )}
                </select>
                <p id={`${id}-hint`} className="muted field-hint">
                  {info.hint}
                </p>
                <FieldError id={`${id}-error`} errors={errors?.[`map_${field}`]} />
              </div>
            );
          })}
        </div>
        <div className={styles.buttons}>
          <SubmitButton pending={pending} pendingLabel="Saving…">
            Save the mapping and preview again
          </SubmitButton>
          <button type="button" className="button button-secondary" onClick={onCancel} disabled={pending}>
            Cancel
          </button>
        </div>
        <FormMessage state={state && !state.ok ? state : null} />
      </ActionForm>
    </section>
  );
}
