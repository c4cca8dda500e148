'use client';
// The campaign launch: four numbered steps on one page, sent together. (1) The campaign, picked among those
// that deliver without a budget or typed as a new id, and its allocation (the budgets' own fields); (2) the
// platform's engine settings: the defaults with max CPA and target ROAS to fill when it has none, else the
// saved ones, read-only; (3) an optional A/B test on the campaign, its variants carried by ids typed in or
// measured elsewhere; (4) anomaly detection on for the platform. The server saves all of it or nothing: a
// refusal lists every problem at the top, by step, each linked to its field, and shows it under the field
// too; what was typed stays. A launch ends on what it made, with links to each.
import Link from 'next/link';
import { useActionState, useEffect, useRef, useState, type Ref } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { controlProps, Field } from '@/components/ui/Field';
import { FieldError } from '@/components/ui/FieldError';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { AB_TEST_TYPES, DB_METRICS, METRIC_LABEL, TYPE_LABEL } from '@/lib/abtests/model';
import { ARMS, IDS_PER_VARIANT_MAX, MDE_DEFAULT, MDE_MAX, MDE_MIN, NAME_MAX, VARIANT_FIELD, VARIANT_NAME_MAX, type Arm, type VariantSource } from '@/lib/abtests/schema';
import type { LaunchPageData, LaunchPlatform, LaunchSummary } from '@/lib/budgets/launch';
import { launchCampaignAction } from '@/lib/budgets/launch-actions';
import {
  AB_FIELD,
  CAMPAIGN_NAME_MAX,
  errorsOfStep,
  ID_LEVEL_LABEL,
  ID_LEVELS,
  LAUNCH_STEPS,
  problemList,
  STEP_TITLE,
  stepNumber,
  type LaunchStep,
} from '@/lib/budgets/launch-schema';
import { budgetsHref, CAMPAIGN_ID_MAX } from '@/lib/budgets/schema';
import { formatCalendarDay, formatMoney } from '@/lib/format/number';
import type { FieldErrors } from '@/lib/request/result';
import { CONFIG_FIELDS, FIELD_INFO, formatFieldValue, type ConfigField } from '@/lib/settings/platform-config-schema';
import { BudgetFields } from './BudgetFields';
import styles from './launch.module.css';

const ID = 'launch';
const fieldId = (name: string) => `${ID}-${name}`;
const stepId = (step: LaunchStep) => `${ID}-step-${step}`;

/** The fields each step renders under their own name (a problem of another field is listed at the top of its step). */
const RENDERED: Readonly<Record<LaunchStep, readonly string[]>> = {
  campaign: ['platform', 'campaignId', 'campaignName', 'dailyBudget', 'minBudget', 'maxBudget', 'strategy', 'targetRoas', 'targetCpa', 'status'],
  settings: ['max_cpa', 'target_roas'],
  abtest: [AB_FIELD.name, AB_FIELD.type, 'variantA', 'variantB', 'sourceA', 'sourceB', 'idsA', 'idsB', 'idsLevel', 'metric', 'mde', 'endDate', 'startNow'],
  anomaly: [],
};

/** The other defaults new settings get (max CPA and target ROAS are typed; anomaly detection is step 4). */
const OTHER_DEFAULTS: readonly ConfigField[] = CONFIG_FIELDS.filter((f) => f !== 'max_cpa' && f !== 'target_roas' && f !== 'anomaly_detection_enabled');

export function LaunchFlow({ data, tenantId }: { data: LaunchPageData; tenantId: string }) {
  // A new round starts from a fresh form (and the page's data as re-read after the last launch).
  const [round, setRound] = useState(0);
  return <LaunchForm key={round} data={data} tenantId={tenantId} onAnother={() => setRound((r) => r + 1)} />;
}

function LaunchForm({ data, tenantId, onAnother }: { data: LaunchPageData; tenantId: string; onAnother: () => void }) {
  const [state, formAction, pending] = useActionState(launchCampaignAction, null);
  const errors: FieldErrors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const [platform, setPlatform] = useState(data.defaultPlatform);
  const [pick, setPick] = useState('');
  const [abOn, setAbOn] = useState(false);
  const [sources, setSources] = useState<Record<Arm, VariantSource>>({ A: 'ids', B: 'ids' });
  const problemsRef = useRef<HTMLDivElement>(null);
  const doneRef = useRef<HTMLHeadingElement>(null);

  // The answer takes the focus: the list of problems, or what was launched.
  useEffect(() => {
    if (state && !state.ok) problemsRef.current?.focus();
    if (state?.ok) doneRef.current?.focus();
  }, [state]);

  if (state?.ok && state.data) return <Summary summary={state.data} message={state.message} onAnother={onAnother} headingRef={doneRef} />;

  const p: LaunchPlatform = data.platforms.find((x) => x.value === platform) ?? data.platforms[0]!;
  const listed = data.campaigns.filter((c) => c.platform === platform);
  const picked = listed.find((c) => c.campaignId === pick) ?? null;
  const money = (v: number) => formatMoney(v, data.style, { decimals: Number.isInteger(v) ? 0 : 2 });
  const step = (s: LaunchStep) => errorsOfStep(errors, s);
  const c = step('campaign');
  const st = step('settings');
  const ab = step('abtest');
  const an = step('anomaly');
  const anyIds = sources.A === 'ids' || sources.B === 'ids';
  const anomalyOn = p.config.exists && p.config.values.anomaly_detection_enabled;
  const pickErrors = picked ? c.byField.campaignId : undefined;
  const pickField = {
    id: fieldId('pick'),
    label: 'Campaign',
    hint: 'One that delivered in the last 30 days without a budget, or a new one.',
    errors: pickErrors,
    invalid: pickErrors ? true : undefined,
  };

  const text = (name: string, errs: FieldErrors, label: string, opts: { hint?: string; maxLength?: number; placeholder?: string; inputMode?: 'decimal' } = {}) => {
    const f = { id: fieldId(name), label, hint: opts.hint, errors: errs[name], invalid: errs[name] ? true : undefined };
    return (
      <Field {...f}>
        <input {...controlProps(f)} name={name} maxLength={opts.maxLength} placeholder={opts.placeholder} inputMode={opts.inputMode} autoComplete="off" />
      </Field>
    );
  };

  return (
    <ActionForm action={formAction} className={`form ${styles.flow}`} aria-label="Launch a campaign">
      <input type="hidden" name="_tenant" value={tenantId} />

      {state && !state.ok ? <Problems message={state.message} errors={errors} boxRef={problemsRef} campaignPicked={picked !== null} /> : null}

      {/* 1. The campaign and its budget */}
      <fieldset className={`fieldset ${styles.step}`} id={stepId('campaign')}>
        <StepLegend step="campaign" />
        <StepNotes step="campaign" errors={errors} general={c.general} />
        <div className={styles.grid}>
          <Field id={fieldId('platform')} label="Platform" errors={c.byField.platform} invalid={c.byField.platform ? true : undefined}>
            <select
              {...controlProps({ id: fieldId('platform'), label: 'Platform', errors: c.byField.platform, invalid: c.byField.platform ? true : undefined })}
              name="platform"
              value={platform}
              onChange={(e) => {
                setPlatform(e.currentTarget.value as typeof platform);
                setPick('');
              }}
            >
              {data.platforms.map((x) => (
                <option key={x.value} value={x.value}>
                  {x.label}
                  {x.hasMetrics ? '' : ' (no data yet)'}
                </option>
              ))}
            </select>
          </Field>
          {listed.length > 0 ? (
            <Field {...pickField}>
              <select
                {...controlProps(pickField)}
                value={pick}
                onChange={(e) => setPick(e.currentTarget.value)}
              >
                <option value="">A new campaign: type its id</option>
                {listed.map((x) => (
                  <option key={x.campaignId} value={x.campaignId}>
                    {x.campaignName ? `${x.campaignName} (${x.campaignId})` : x.campaignId} · {money(x.spend30d)} in 30 days
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
        </div>
        {picked ? (
          <>
            <input type="hidden" name="campaignId" value={picked.campaignId} />
            <input type="hidden" name="campaignName" value={picked.campaignName ?? ''} />
            <p className={styles.facts}>
              <code>{picked.campaignId}</code> on {picked.platformLabel}: {money(picked.spend30d)} spent in the last 30 days, last on{' '}
              {formatCalendarDay(picked.lastDay, data.style.locale)}. Suggested daily budget {money(picked.suggested)}, its average of the last 7 days.
            </p>
          </>
        ) : (
          <div className={styles.grid}>
            {text('campaignId', c.byField, 'Campaign id', {
              maxLength: CAMPAIGN_ID_MAX,
              hint: `As ${p.label} shows it. A new campaign has no data here yet; its delivery shows once its metrics are imported.`,
            })}
            {text('campaignName', c.byField, 'Campaign name', { maxLength: CAMPAIGN_NAME_MAX, hint: 'Optional: how the budgets page names it.' })}
          </div>
        )}
        <BudgetFields
          key={picked ? `pick-${picked.campaignId}` : 'new'}
          idPrefix={ID}
          currency={data.style.currency}
          errors={c.byField}
          values={{ dailyBudget: picked?.suggested ?? null, minBudget: null, maxBudget: null, strategy: 'performance', targetRoas: null, targetCpa: null, status: 'active' }}
        />
      </fieldset>

      {/* 2. The platform's settings */}
      <fieldset className={`fieldset ${styles.step}`} id={stepId('settings')}>
        <StepLegend step="settings" />
        <StepNotes step="settings" errors={errors} general={st.general} hideFields={p.config.exists} />
        <input type="hidden" name="settingsToken" value={p.config.token} />
        {p.config.exists ? (
          <>
            <p className={styles.lead}>
              {p.label} has settings{p.config.updatedAt ? ` (saved ${p.config.updatedAt})` : ''}: the launch leaves them as they are.{' '}
              <Link href={`/settings#platform-${p.value}`}>Change them in Settings</Link>.
            </p>
            <Values platform={p} fields={CONFIG_FIELDS} data={data} />
          </>
        ) : (
          <div key={p.value}>
            <p className={styles.lead}>
              {p.label} has no settings yet: the launch creates them with the engine’s defaults and the two targets below, both optional (leave them
              empty to accept the defaults).
            </p>
            <div className={styles.grid}>
              {text('max_cpa', st.byField, `${FIELD_INFO.max_cpa.label} (${data.style.currency})`, {
                inputMode: 'decimal',
                placeholder: 'no limit',
                hint: 'A pause is proposed beyond the auto-pause threshold × this. Empty: no limit.',
              })}
              {text('target_roas', st.byField, FIELD_INFO.target_roas.label, {
                inputMode: 'decimal',
                placeholder: 'no target',
                hint: 'Value per unit spent (3 = 300 %): budgets are advised up or down around it. Empty: no target.',
              })}
            </div>
            <p className={styles.sub}>And the defaults, to change later in Settings:</p>
            <Values platform={p} fields={OTHER_DEFAULTS} data={data} />
          </div>
        )}
      </fieldset>

      {/* 3. An A/B test on the campaign */}
      <fieldset className={`fieldset ${styles.step}`} id={stepId('abtest')}>
        <StepLegend step="abtest" optional />
        <StepNotes step="abtest" errors={errors} general={ab.general} />
        <div className="field field-check">
          <input id={fieldId('abtest')} type="checkbox" name="abtest" checked={abOn} onChange={(e) => setAbOn(e.currentTarget.checked)} aria-describedby={`${fieldId('abtest')}-hint`} />
          <label htmlFor={fieldId('abtest')}>Add an A/B test on this campaign</label>
          <p id={`${fieldId('abtest')}-hint`} className="muted field-hint">
            Two variants of the campaign, the metric that decides, and the last day. It can also be added later from the A/B tests page.
          </p>
        </div>
        {/* Hidden rather than removed, so what was typed stays when it is ticked again (the server reads it only when ticked). */}
        <div hidden={!abOn} className={styles.abFields}>
          <div className={styles.grid}>
            {text(AB_FIELD.name, ab.byField, 'Test name', { maxLength: NAME_MAX, placeholder: 'e.g. Video hook against carousel' })}
            <Field id={fieldId(AB_FIELD.type)} label="Type" errors={ab.byField[AB_FIELD.type]} invalid={ab.byField[AB_FIELD.type] ? true : undefined}>
              <select {...controlProps({ id: fieldId(AB_FIELD.type), label: 'Type', errors: ab.byField[AB_FIELD.type] })} name={AB_FIELD.type} defaultValue="creative">
                {AB_TEST_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {TYPE_LABEL[t]}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <div className={styles.variants}>
            {ARMS.map((arm) => {
              const f = VARIANT_FIELD[arm];
              return (
                <fieldset key={arm} className={styles.variant}>
                  <legend>Variant {arm}</legend>
                  {text(f.name, ab.byField, `Variant ${arm} name`, { maxLength: VARIANT_NAME_MAX })}
                  <div className={styles.radios} role="radiogroup" aria-label={`What measures variant ${arm}`} aria-describedby={`${fieldId(f.source)}-error`}>
                    <label>
                      <input type="radio" name={f.source} value="ids" checked={sources[arm] === 'ids'} onChange={() => setSources((s) => ({ ...s, [arm]: 'ids' }))} />{' '}
                      Its ids on {p.label}
                    </label>
                    <label>
                      <input type="radio" name={f.source} value="entered" checked={sources[arm] === 'entered'} onChange={() => setSources((s) => ({ ...s, [arm]: 'entered' }))} />{' '}
                      Measured elsewhere
                    </label>
                  </div>
                  <FieldError id={`${fieldId(f.source)}-error`} errors={ab.byField[f.source]} />
                  <div hidden={sources[arm] !== 'ids'} className="field">
                    <label htmlFor={fieldId(f.ids)}>Variant {arm} ids</label>
                    <textarea
                      id={fieldId(f.ids)}
                      name={f.ids}
                      rows={3}
                      className={styles.ids}
                      placeholder="One per line, as the platform shows them"
                      aria-invalid={ab.byField[f.ids] ? true : undefined}
                      aria-describedby={`${fieldId(f.ids)}-hint ${fieldId(f.ids)}-error`}
                    />
                    <p id={`${fieldId(f.ids)}-hint`} className="muted field-hint">
                      The {ID_LEVEL_LABEL.adset.toLowerCase()} or ads that will carry it (at most {IDS_PER_VARIANT_MAX}); their data is read once it is imported.
                    </p>
                    <FieldError id={`${fieldId(f.ids)}-error`} errors={ab.byField[f.ids]} />
                  </div>
                  {sources[arm] === 'entered' ? (
                    <p className="muted small">Its totals start empty; enter them on the test’s page as they come in.</p>
                  ) : null}
                </fieldset>
              );
            })}
          </div>
          <div className={styles.grid}>
            <div hidden={!anyIds}>
              <Field id={fieldId('idsLevel')} label="The ids are" errors={ab.byField.idsLevel} invalid={ab.byField.idsLevel ? true : undefined}>
                <select {...controlProps({ id: fieldId('idsLevel'), label: 'The ids are', errors: ab.byField.idsLevel })} name="idsLevel" defaultValue="adset">
                  {ID_LEVELS.map((l) => (
                    <option key={l} value={l}>
                      {ID_LEVEL_LABEL[l]}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
            <Field id={fieldId('metric')} label="Primary metric" errors={ab.byField.metric} invalid={ab.byField.metric ? true : undefined}>
              <select {...controlProps({ id: fieldId('metric'), label: 'Primary metric', errors: ab.byField.metric })} name="metric" defaultValue="conversion_rate">
                {DB_METRICS.map((m) => (
                  <option key={m} value={m}>
                    {METRIC_LABEL[m]}
                  </option>
                ))}
              </select>
            </Field>
            {(() => {
              const f = {
                id: fieldId('mde'),
                label: 'Minimum detectable effect (%)',
                hint: `From ${MDE_MIN} to ${MDE_MAX}: the smallest lift worth finding.`,
                errors: ab.byField.mde,
                invalid: ab.byField.mde ? true : undefined,
              };
              return (
                <Field {...f}>
                  <input {...controlProps(f)} name="mde" inputMode="decimal" defaultValue={String(MDE_DEFAULT)} autoComplete="off" />
                </Field>
              );
            })()}
            {(() => {
              const f = {
                id: fieldId('endDate'),
                label: 'End date',
                hint: `The last day of the test: ${formatCalendarDay(data.maxEnd, data.style.locale)} at the latest.`,
                errors: ab.byField.endDate,
                invalid: ab.byField.endDate ? true : undefined,
              };
              return (
                <Field {...f}>
                  <input {...controlProps(f)} type="date" name="endDate" defaultValue={data.defaultEnd} min={data.today} max={data.maxEnd} />
                </Field>
              );
            })()}
          </div>
          <div className={styles.radios} role="radiogroup" aria-label="When the test starts" aria-describedby={`${fieldId('startNow')}-error`}>
            <label>
              <input type="radio" name="startNow" value="on" defaultChecked /> Start it now: its metric, split and effect are fixed from today
            </label>
            <label>
              <input type="radio" name="startNow" value="" /> Keep it as a draft, to start once the variants are live
            </label>
          </div>
          <FieldError id={`${fieldId('startNow')}-error`} errors={ab.byField.startNow} />
        </div>
      </fieldset>

      {/* 4. Anomaly detection */}
      <fieldset className={`fieldset ${styles.step}`} id={stepId('anomaly')}>
        <StepLegend step="anomaly" />
        <StepNotes step="anomaly" errors={errors} general={an.general} />
        {anomalyOn ? (
          <>
            <input type="hidden" name="anomaly" value="on" />
            <p className={styles.lead}>Already on for {p.label}: nothing to change.</p>
          </>
        ) : (
          <div className="field field-check" key={p.value}>
            <input id={fieldId('anomaly')} type="checkbox" name="anomaly" defaultChecked aria-describedby={`${fieldId('anomaly')}-hint`} />
            <label htmlFor={fieldId('anomaly')}>
              {p.config.exists ? `Turn anomaly detection on for ${p.label} (it is off now)` : `Detect anomalies on ${p.label}`}
            </label>
            <p id={`${fieldId('anomaly')}-hint`} className="muted field-hint">
              Each run of the engine checks this platform’s campaigns and ad sets for unusual days and raises them on the Anomalies page.
              {p.config.exists ? ' Only this setting of the platform changes.' : ''}
            </p>
          </div>
        )}
      </fieldset>

      <div className={styles.submit}>
        <SubmitButton pending={pending} pendingLabel="Launching…">
          Launch campaign
        </SubmitButton>
        <span className="muted small">All four steps are saved together, or none of them.</span>
      </div>
    </ActionForm>
  );
}

function StepLegend({ step, optional }: { step: LaunchStep; optional?: boolean }) {
  return (
    <legend className={styles.legend}>
      <span className={styles.number} aria-hidden="true">
        {stepNumber(step)}
      </span>
      <span className="visually-hidden">Step {stepNumber(step)}: </span>
      {STEP_TITLE[step]}
      {optional ? <span className={styles.optional}> (optional)</span> : null}
    </legend>
  );
}

/** A step's problems that no field below shows: those of the step as a whole, and of fields it does not render. */
function StepNotes({ step, errors, general, hideFields }: { step: LaunchStep; errors: FieldErrors; general: string[]; hideFields?: boolean }) {
  const { byField } = errorsOfStep(errors, step);
  const others = Object.entries(byField)
    .filter(([f]) => hideFields || !RENDERED[step].includes(f))
    .flatMap(([, m]) => m ?? []);
  const all = [...general, ...others];
  if (!all.length) return null;
  return (
    <ul className={styles.stepErrors}>
      {all.map((m) => (
        <li key={m}>{m}</li>
      ))}
    </ul>
  );
}

/** Every problem, by step, each linked to its field (or to its step). */
function Problems({ message, errors, boxRef, campaignPicked }: { message: string; errors: FieldErrors; boxRef: Ref<HTMLDivElement>; campaignPicked: boolean }) {
  const list = problemList(errors);
  // A picked campaign's id is the list's choice; a field the step does not render is reached through its step.
  const target = (s: LaunchStep, field: string | null) => {
    if (!field || !RENDERED[s].includes(field)) return stepId(s);
    return s === 'campaign' && field === 'campaignId' && campaignPicked ? fieldId('pick') : fieldId(field);
  };
  return (
    <div ref={boxRef} tabIndex={-1} role="alert" className={`notice notice-error ${styles.problems}`}>
      <p className={styles.problemsHead}>{message}</p>
      {list.length ? (
        <ol className={styles.problemSteps}>
          {LAUNCH_STEPS.filter((s) => list.some((x) => x.step === s)).map((s) => (
            <li key={s} value={stepNumber(s)}>
              <a href={`#${stepId(s)}`}>{STEP_TITLE[s]}</a>
              <ul>
                {list
                  .filter((x) => x.step === s)
                  .map((x, i) => (
                    <li key={`${x.field}-${i}`}>
                      <a href={`#${target(s, x.field)}`}>{x.message}</a>
                    </li>
                  ))}
              </ul>
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

function Values({ platform, fields, data }: { platform: LaunchPlatform; fields: readonly ConfigField[]; data: LaunchPageData }) {
  return (
    <dl className={styles.values}>
      {fields.map((f) => (
        <div key={f}>
          <dt>{FIELD_INFO[f].label}</dt>
          <dd>{formatFieldValue(f, platform.config.values, data.unit)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Summary({ summary: s, message, onAnother, headingRef }: { summary: LaunchSummary; message?: string; onAnother: () => void; headingRef: Ref<HTMLHeadingElement> }) {
  const settingsHref = `/settings#platform-${s.platform}`;
  return (
    <section className={`card ${styles.summary}`} aria-labelledby={`${ID}-done`}>
      <h2 id={`${ID}-done`} ref={headingRef} tabIndex={-1}>
        Launched: {s.campaignLabel} on {s.platformLabel}
      </h2>
      {message ? (
        <p className="notice notice-ok" role="status">
          {message}
        </p>
      ) : null}
      <ol className={styles.done}>
        <li>
          <h3>Budget</h3>
          <p>{s.budget.message}</p>
          <Link href={budgetsHref({ platform: s.platform })}>See it on the budgets page</Link>
        </li>
        <li>
          <h3>Platform settings</h3>
          <p>{s.settings.message}</p>
          <Link href={settingsHref}>Open {s.platformLabel} settings</Link>
        </li>
        <li>
          <h3>A/B test</h3>
          {s.abTest ? (
            <>
              <p>{s.abTest.message}</p>
              <Link href={`/ab-tests/${s.abTest.id}`}>Open “{s.abTest.name}”</Link>
            </>
          ) : (
            <p>
              None added. <Link href="/ab-tests/new">Create one later</Link>.
            </p>
          )}
        </li>
        <li>
          <h3>Anomaly detection</h3>
          <p>{s.anomaly.message}</p>
          <Link href={settingsHref}>Settings</Link>
        </li>
      </ol>
      <div className={styles.submit}>
        <button type="button" className="button button-secondary" onClick={onAnother}>
          Launch another campaign
        </button>
        <Link href="/budgets">Back to budgets</Link>
      </div>
    </section>
  );
}
