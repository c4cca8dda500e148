'use client';
// Create or edit an alert channel: kind (email or webhook; fixed once made),
// recipients or URL, the rules (severities, anomaly types), immediate or a
// daily digest at an hour of the tenant's time zone. A new webhook's signing
// secret is shown here once, from the action's answer, and never again.
import { useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { useActionForm } from '@/components/ui/useActionForm';
import { saveAlertChannelAction } from '@/lib/alerts/actions';
import type { ChannelMember, ChannelView } from '@/lib/alerts/queries';
import { ANOMALY_TYPES, SEVERITIES, SEVERITY_LABEL, TYPE_LABEL, type ChannelKind } from '@/lib/alerts/constants';
import { OneTimeSecret } from './OneTimeSecret';

const HOURS = Array.from({ length: 24 }, (_, h) => h);

export function ChannelForm({
  tenantId,
  members,
  channel,
  canEdit,
  timezone,
}: {
  tenantId: string;
  members: ChannelMember[];
  channel?: ChannelView;
  canEdit: boolean;
  timezone: string;
}) {
  const { state, formAction, pending, formRef, errors } = useActionForm(saveAlertChannelAction, { resetOnSuccess: !channel });
  const [kind, setKind] = useState<ChannelKind>(channel?.kind ?? 'webhook');
  const [mode, setMode] = useState(channel?.mode ?? 'immediate');
  const p = (s: string) => `${channel ? `ch-${channel.id}` : 'new-ch'}-${s}`;
  const err = errors ?? {};
  const secret = state?.ok ? state.data?.secret : undefined;
  return (
    <ActionForm ref={formRef} action={formAction} className="form" aria-label={channel ? `Edit ${channel.name}` : 'New alert channel'}>
      <input type="hidden" name="_tenant" value={tenantId} />
      {channel ? <input type="hidden" name="id" value={channel.id} /> : null}
      {channel ? <input type="hidden" name="kind" value={channel.kind} /> : null}
      <fieldset disabled={!canEdit} className="fieldset">
        <legend>{channel ? `Edit “${channel.name}”` : 'New channel'}</legend>
        <div className="field">
          <label htmlFor={p('name')}>Name</label>
          <input id={p('name')} name="name" defaultValue={channel?.name} maxLength={80} aria-describedby={`${p('name')}-error`} />
          <FieldError id={`${p('name')}-error`} errors={err.name} />
        </div>
        {channel ? null : (
          <fieldset className="fieldset" aria-describedby={`${p('kind')}-error`}>
            <legend>Kind</legend>
            {(['webhook', 'email'] as const).map((k) => (
              <div className="field field-check" key={k}>
                <input id={p(`kind-${k}`)} type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
                <label htmlFor={p(`kind-${k}`)}>{k === 'webhook' ? 'Webhook (JSON, signed; Slack incoming webhooks work as they are)' : 'Email'}</label>
              </div>
            ))}
            <FieldError id={`${p('kind')}-error`} errors={err.kind} />
          </fieldset>
        )}
        {kind === 'webhook' ? (
          <div className="field">
            <label htmlFor={p('url')}>Webhook URL</label>
            <input
              id={p('url')}
              name="url"
              type="url"
              inputMode="url"
              maxLength={2048}
              placeholder={channel ? `Current: ${channel.maskedUrl ?? ''} (leave blank to keep)` : 'https://hooks.example.com/aegis'}
              aria-describedby={`${p('url')}-hint ${p('url')}-error`}
            />
            <p id={`${p('url')}-hint`} className="muted field-hint">
              https only (port 443), to a public address. Each request is signed (X-Aegis-Signature); redirects are not followed.
            </p>
            <FieldError id={`${p('url')}-error`} errors={err.url} />
          </div>
        ) : (
          <>
            <fieldset className="fieldset" aria-describedby={`${p('members')}-error`}>
              <legend>Members</legend>
              {members.length === 0 ? <p className="muted">No member to choose.</p> : null}
              {members.map((m) => (
                <div className="field field-check" key={m.userId}>
                  <input
                    id={p(`m-${m.userId}`)}
                    type="checkbox"
                    name="members"
                    value={m.userId}
                    defaultChecked={channel?.members.some((x) => x.userId === m.userId)}
                  />
                  <label htmlFor={p(`m-${m.userId}`)}>{m.name ? `${m.name} (${m.email})` : m.email}</label>
                </div>
              ))}
              <FieldError id={`${p('members')}-error`} errors={err.members} />
            </fieldset>
            <div className="field">
              <label htmlFor={p('addresses')}>Other email addresses</label>
              <textarea
                id={p('addresses')}
                name="addresses"
                rows={2}
                defaultValue={channel?.addresses.join(', ')}
                aria-describedby={`${p('addresses')}-hint ${p('addresses')}-error`}
              />
              <p id={`${p('addresses')}-hint`} className="muted field-hint">
                Separated by commas or line breaks; at most 20. Addresses are not confirmed: make sure their owners want these alerts.
              </p>
              <FieldError id={`${p('addresses')}-error`} errors={err.addresses} />
            </div>
          </>
        )}
        <fieldset className="fieldset" aria-describedby={`${p('severities')}-error`}>
          <legend>Severities</legend>
          {SEVERITIES.map((s) => (
            <span className="field field-check" key={s}>
              <input
                id={p(`sev-${s}`)}
                type="checkbox"
                name="severities"
                value={s}
                defaultChecked={channel ? channel.severities.includes(s) : s === 'high' || s === 'critical'}
              />
              <label htmlFor={p(`sev-${s}`)}>{SEVERITY_LABEL[s]}</label>
            </span>
          ))}
          <FieldError id={`${p('severities')}-error`} errors={err.severities} />
        </fieldset>
        <fieldset className="fieldset" aria-describedby={`${p('types')}-error`}>
          <legend>Anomaly types</legend>
          {ANOMALY_TYPES.map((t) => (
            <span className="field field-check" key={t}>
              <input id={p(`type-${t}`)} type="checkbox" name="types" value={t} defaultChecked={channel ? channel.types.includes(t) : true} />
              <label htmlFor={p(`type-${t}`)}>{TYPE_LABEL[t]}</label>
            </span>
          ))}
          <FieldError id={`${p('types')}-error`} errors={err.types} />
        </fieldset>
        <div className="field">
          <label htmlFor={p('mode')}>Delivery</label>
          <select id={p('mode')} name="mode" value={mode} onChange={(e) => setMode(e.currentTarget.value as typeof mode)} aria-describedby={`${p('mode')}-error`}>
            <option value="immediate">Immediately, after each run of the engine</option>
            <option value="digest">One daily digest</option>
          </select>
          <FieldError id={`${p('mode')}-error`} errors={err.mode} />
        </div>
        {mode === 'digest' ? (
          <div className="field">
            <label htmlFor={p('hour')}>Digest hour ({timezone})</label>
            <select id={p('hour')} name="digestHour" defaultValue={String(channel?.digestHour ?? 8)} aria-describedby={`${p('hour')}-error`}>
              {HOURS.map((h) => (
                <option key={h} value={h}>
                  {String(h).padStart(2, '0')}:00
                </option>
              ))}
            </select>
            <FieldError id={`${p('hour')}-error`} errors={err.digestHour} />
          </div>
        ) : null}
        {canEdit ? (
          <SubmitButton pending={pending} pendingLabel="Saving…">
            {channel ? 'Save channel' : 'Create channel'}
          </SubmitButton>
        ) : null}
      </fieldset>
      <FormMessage state={state} />
      {secret ? <OneTimeSecret secret={secret} /> : null}
    </ActionForm>
  );
}
