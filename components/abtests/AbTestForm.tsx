'use client';
// The A/B test form: a new test, or a test being edited. A draft can change everything; once the test
// has started, the design and the ids that carry the variants are shown read-only (and sent back as
// they are: the server refuses any change of them), while the name, hypothesis, variant names, end
// date and entered totals stay editable. Choosing the platform or the campaign writes them to the URL,
// and the page loads that campaign's entities with their recent traffic; what was typed stays. The
// sample size is computed here as the ids are picked (SampleSizePanel). Every field is checked again
// by the server, whose messages show under each field.
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useActionState, useEffect, useMemo, useState, useTransition, type ReactNode } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FieldError } from '@/components/ui/FieldError';
import { FormMessage } from '@/components/ui/FormMessage';
import { createAbTestAction, updateAbTestAction } from '@/lib/abtests/actions';
import type { AbTestFormData, Candidate } from '@/lib/abtests/form-data';
import { AB_TEST_TYPES, DB_METRICS, METRIC_LABEL, PERFORMANCE_KEYS, TYPE_LABEL, type DbMetric, type PerformanceJson } from '@/lib/abtests/model';
import {
  addDays,
  ALLOCATION_LABEL,
  ALLOCATION_UNITS,
  ARMS,
  daysBetween,
  FROZEN_REASON,
  HYPOTHESIS_MAX,
  isCalendarDay,
  LEVEL_LABEL,
  MAX_TEST_DAYS,
  MDE_DEFAULT,
  MDE_MAX,
  MDE_MIN,
  NAME_MAX,
  parseEntityKey,
  SHARE_DEFAULT,
  SHARE_MAX,
  SHARE_MIN,
  TOTALS_LABEL,
  totalsField,
  typedNumber,
  VARIANT_FIELD,
  VARIANT_NAME_MAX,
  type AllocationUnit,
  type Arm,
  type EntityLevel,
  type VariantSource,
} from '@/lib/abtests/schema';
import type { VariantTotals } from '@/lib/abtests/stats';
import { formatMoney, type NumberStyle } from '@/lib/format/number';
import { platformLabel } from '@/lib/performance/metrics';
import { mergeDaily, SampleSizePanel, type ArmTraffic } from './SampleSizePanel';
import styles from './form.module.css';

type PerfKey = (typeof PERFORMANCE_KEYS)[number];
type TotalsText = Record<PerfKey, string>;

const totalsText = (t: PerformanceJson | undefined, blankZeros: boolean): TotalsText =>
  Object.fromEntries(PERFORMANCE_KEYS.map((k) => [k, t && (t[k] !== 0 || !blankZeros) ? String(t[k]) : ''])) as TotalsText;

/** Typed totals as numbers, or null while one does not read as a number. */
function typedTotals(t: TotalsText): VariantTotals | null {
  const n = (k: PerfKey) => typedNumber(t[k]) ?? 0;
  const out = { impressions: n('impressions'), clicks: n('clicks'), conversions: n('conversions'), spend: n('spend'), conversionValue: n('conversion_value') };
  return Object.values(out).every((x) => Number.isFinite(x) && x >= 0) ? out : null;
}

const entityLabel = (c: Pick<Candidate, 'name' | 'platformId'>) => (c.name ? `${c.name} (${c.platformId})` : c.platformId);

function spendNote(c: Candidate, style: NumberStyle): string {
  if (c.lastDay === null) return 'no data in the last 90 days';
  if (c.daily.length === 0) return `no delivery in the last 28 days (last on ${c.lastDay})`;
  return `${formatMoney(c.spend, style)} in the last 28 days`;
}

export function AbTestForm({ data, tenantId }: { data: AbTestFormData; tenantId: string }) {
  const test = data.test;
  const started = test !== null && test.status !== 'draft';
  const router = useRouter();
  const pathname = usePathname();
  const [state, formAction, pending] = useActionState(test ? updateAbTestAction : createAbTestAction, null);
  const [navigating, startNavigation] = useTransition();
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};

  const candidates = useMemo(() => data.candidates?.entities ?? [], [data.candidates]);
  const hasCandidates = candidates.length > 0;
  const [platform, setPlatform] = useState<string>(data.platform ?? '');
  const [campaign, setCampaign] = useState<string>(data.campaignId ?? '');
  const [sources, setSources] = useState<Record<Arm, VariantSource>>(
    test?.sources ?? { A: hasCandidates ? 'ids' : 'entered', B: hasCandidates ? 'ids' : 'entered' },
  );
  const [ids, setIds] = useState<Record<Arm, string[]>>(test?.ids ?? { A: [], B: [] });
  const [filters, setFilters] = useState<Record<Arm, string>>({ A: '', B: '' });
  const [metric, setMetric] = useState<DbMetric>((DB_METRICS as readonly string[]).includes(test?.metric ?? '') ? (test!.metric as DbMetric) : 'conversion_rate');
  const [shareB, setShareB] = useState(String(test?.shareB ?? SHARE_DEFAULT));
  const [mde, setMde] = useState(String(test?.mde ?? MDE_DEFAULT));
  const [totals, setTotals] = useState<Record<Arm, TotalsText>>({
    A: totalsText(test?.totals.A, !test),
    B: totalsText(test?.totals.B, !test),
  });
  const [startDate, setStartDate] = useState(test?.startDate ?? '');
  const [endDate, setEndDate] = useState(test?.endDate ?? addDays(data.today, 28));

  // After a save, the test's results page.
  useEffect(() => {
    if (state?.ok && state.data) router.push(`/ab-tests/${state.data.id}`);
  }, [state, router]);

  // The entities on offer are those of the platform and campaign chosen, once the page has loaded them.
  const loaded = data.candidates !== null && data.candidates.platform === platform && (data.candidates.campaignId ?? '') === campaign;
  const offered = loaded ? candidates : [];
  const byKey = useMemo(() => new Map(candidates.map((c) => [c.key, c])), [candidates]);
  const chosenLevel: EntityLevel | null = [...ids.A, ...ids.B].map((k) => parseEntityKey(k)?.level ?? null).find((l) => l !== null) ?? null;

  function load(p: string, c: string) {
    const q = new URLSearchParams();
    if (p) q.set('platform', p);
    q.set('campaign', c);
    startNavigation(() => router.replace(`${pathname}?${q.toString()}`, { scroll: false }));
  }

  const toggle = (arm: Arm, key: string, on: boolean) =>
    setIds((prev) => ({ ...prev, [arm]: on ? [...prev[arm].filter((k) => k !== key), key] : prev[arm].filter((k) => k !== key) }));

  const traffic = (arm: Arm): ArmTraffic =>
    sources[arm] === 'ids'
      ? { source: 'ids', count: ids[arm].length, level: chosenLevel, daily: mergeDaily(ids[arm].map((k) => byKey.get(k)?.daily ?? [])) }
      : { source: 'entered', totals: typedTotals(totals[arm]) };
  const plannedFrom = startDate && isCalendarDay(startDate) ? startDate : data.today;
  const plannedDays = isCalendarDay(endDate) && endDate >= plannedFrom ? daysBetween(plannedFrom, endDate) + 1 : null;

  const describedBy = (field: string, hint = false) => [hint ? `ab-${field}-hint` : null, `ab-${field}-error`].filter(Boolean).join(' ');
  const err = (field: string) => <FieldError id={`ab-${field}-error`} errors={errors[field]} />;
  const invalid = (field: string) => (errors[field] ? true : undefined);

  const platformCampaigns = data.campaigns.filter((c) => c.platform === platform);
  const campaignName = (id: string | null) => {
    if (!id) return 'No campaign: the variants are whole campaigns, or measured elsewhere';
    const c = data.campaigns.find((x) => x.platform === platform && x.id === id);
    return c?.name ? `${c.name} (${id})` : id;
  };

  const frozenNote = started ? <p className={styles.frozen}>{`${FROZEN_REASON[0]!.toUpperCase()}${FROZEN_REASON.slice(1)}.`}</p> : null;
  const hidden = (name: string, value: string | readonly string[]) =>
    typeof value === 'string' ? <input type="hidden" name={name} value={value} /> : value.map((v) => <input key={v} type="hidden" name={name} value={v} />);

  return (
    <ActionForm action={formAction} className={`form ${styles.form}`} aria-label={test ? `Edit the A/B test ${test.name}` : 'New A/B test'}>
      <input type="hidden" name="_tenant" value={tenantId} />
      {test ? (
        <>
          <input type="hidden" name="id" value={test.id} />
          <input type="hidden" name="expectedUpdatedAt" value={test.version} />
        </>
      ) : null}

      <fieldset className="fieldset">
        <legend>The test</legend>
        <div className={styles.row}>
          <div className={`field ${styles.wide}`}>
            <label htmlFor="ab-name">Name</label>
            <input id="ab-name" name="name" defaultValue={test?.name ?? ''} maxLength={NAME_MAX} required aria-invalid={invalid('name')} aria-describedby={describedBy('name')} />
            {err('name')}
          </div>
          {started ? (
            <div className="field">
              <span className={styles.label}>Type</span>
              <span>{TYPE_LABEL[test.type as keyof typeof TYPE_LABEL] ?? test.type}</span>
              {hidden('type', test.type)}
              {err('type')}
            </div>
          ) : (
            <div className="field">
              <label htmlFor="ab-type">Type</label>
              <select id="ab-type" name="type" defaultValue={test?.type ?? 'creative'} aria-invalid={invalid('type')} aria-describedby={describedBy('type')}>
                {AB_TEST_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {TYPE_LABEL[t]}
                  </option>
                ))}
              </select>
              {err('type')}
            </div>
          )}
        </div>
        <div className="field">
          <label htmlFor="ab-hypothesis">Hypothesis</label>
          <textarea
            id="ab-hypothesis"
            name="hypothesis"
            rows={3}
            maxLength={HYPOTHESIS_MAX}
            defaultValue={test?.hypothesis ?? ''}
            placeholder="What you expect, and why: “A shorter headline raises the conversion rate on mobile.”"
            aria-invalid={invalid('hypothesis')}
            aria-describedby={describedBy('hypothesis')}
          />
          {err('hypothesis')}
        </div>
      </fieldset>

      <fieldset className="fieldset" aria-busy={navigating}>
        <legend>Where it runs</legend>
        {!data.hasMetrics ? (
          <p className="notice notice-warn">
            No platform has data in this tenant yet. You can still plan a test measured elsewhere: choose its platform and enter each variant’s
            totals by hand.
          </p>
        ) : null}
        {started ? (
          <div className={styles.row}>
            <div className="field">
              <span className={styles.label}>Platform</span>
              <span>{test.platform ? platformLabel(test.platform) : '—'}</span>
            </div>
            <div className={`field ${styles.wide}`}>
              <span className={styles.label}>Campaign</span>
              <span>{campaignName(test.campaignId)}</span>
            </div>
            {hidden('platform', test.platform ?? '')}
            {hidden('campaign', test.campaignId ?? '')}
            {err('platform')}
            {err('campaign')}
          </div>
        ) : (
          <div className={styles.row}>
            <div className="field">
              <label htmlFor="ab-platform">Platform</label>
              <select
                id="ab-platform"
                name="platform"
                value={platform}
                onChange={(e) => {
                  const p = e.currentTarget.value;
                  setPlatform(p);
                  setCampaign('');
                  setIds({ A: [], B: [] });
                  load(p, '');
                }}
                aria-invalid={invalid('platform')}
                aria-describedby={describedBy('platform')}
              >
                {platform === '' ? <option value="">Choose a platform</option> : null}
                {data.platforms.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                    {data.hasMetrics && !p.hasMetrics ? ' (no recent data)' : ''}
                  </option>
                ))}
              </select>
              {err('platform')}
            </div>
            <div className={`field ${styles.wide}`}>
              <label htmlFor="ab-campaign">Campaign</label>
              <select
                id="ab-campaign"
                name="campaign"
                value={campaign}
                onChange={(e) => {
                  const c = e.currentTarget.value;
                  setCampaign(c);
                  setIds({ A: [], B: [] });
                  load(platform, c);
                }}
                aria-invalid={invalid('campaign')}
                aria-describedby={describedBy('campaign', true)}
              >
                <option value="">No campaign: compare whole campaigns, or variants measured elsewhere</option>
                {platformCampaigns.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name ?? c.id} ({c.id}) · {formatMoney(c.spend, data.style)}
                  </option>
                ))}
              </select>
              <p id="ab-campaign-hint" className="muted field-hint">
                The campaign’s ad sets and ads seen in the last 90 days can carry the variants, largest by the last 28 days’ spend first.
              </p>
              {err('campaign')}
            </div>
          </div>
        )}
      </fieldset>

      <fieldset className="fieldset">
        <legend>Variants</legend>
        {started ? frozenNote : null}
        <div className={styles.variants}>
          {ARMS.map((arm) => {
            const f = VARIANT_FIELD[arm];
            const source = sources[arm];
            const other: Arm = arm === 'A' ? 'B' : 'A';
            const filter = filters[arm].trim().toLowerCase();
            const shown = offered.filter((c) => !filter || entityLabel(c).toLowerCase().includes(filter));
            return (
              <div key={arm} className={styles.variant}>
                <h3 className={styles.variantTitle}>Variant {arm}{arm === 'A' ? ' (control)' : ' (challenger)'}</h3>
                <div className="field">
                  <label htmlFor={`ab-${f.name}`}>Name</label>
                  <input
                    id={`ab-${f.name}`}
                    name={f.name}
                    maxLength={VARIANT_NAME_MAX}
                    defaultValue={test ? (arm === 'A' ? test.variantA : test.variantB) : arm}
                    aria-invalid={invalid(f.name)}
                    aria-describedby={describedBy(f.name)}
                  />
                  {err(f.name)}
                </div>

                {started ? (
                  <>
                    {hidden(f.source, source)}
                    {hidden(f.ids, ids[arm])}
                    <p className={styles.label}>{source === 'ids' ? `Carried by ${ids[arm].length === 1 ? 'this id' : 'these ids'}` : 'Measured elsewhere: totals entered by hand'}</p>
                    {source === 'ids' ? (
                      <ul className={styles.idList}>
                        {ids[arm].map((k) => {
                          const ref = parseEntityKey(k);
                          const c = byKey.get(k);
                          return <li key={k}>{c ? entityLabel(c) : (ref?.platformId ?? k)} <span className="muted small">{ref ? LEVEL_LABEL[ref.level].one : ''}</span></li>;
                        })}
                      </ul>
                    ) : null}
                    {err(f.source)}
                    {err(f.ids)}
                  </>
                ) : (
                  <fieldset className={styles.inner}>
                    <legend>What carries it</legend>
                    <div className={styles.radios}>
                      <label>
                        <input
                          type="radio"
                          name={f.source}
                          value="ids"
                          checked={source === 'ids'}
                          disabled={!loaded || offered.length === 0}
                          onChange={() => setSources((s) => ({ ...s, [arm]: 'ids' }))}
                        />{' '}
                        Ad sets, ads or campaigns on the platform
                      </label>
                      <label>
                        <input type="radio" name={f.source} value="entered" checked={source === 'entered'} onChange={() => setSources((s) => ({ ...s, [arm]: 'entered' }))} />{' '}
                        Measured elsewhere (enter its totals)
                      </label>
                    </div>
                    {err(f.source)}
                  </fieldset>
                )}

                {!started && source === 'ids' ? (
                  <fieldset className={styles.inner} aria-describedby={`ab-${f.ids}-error`}>
                    <legend>
                      {campaign ? 'Ad sets and ads' : 'Campaigns'} carrying variant {arm}
                    </legend>
                    {navigating || !loaded ? (
                      <p className="loading small" role="status">
                        <span className="spinner" aria-hidden="true" /> Loading {campaign ? 'the campaign’s ad sets and ads' : 'the platform’s campaigns'}…
                      </p>
                    ) : offered.length === 0 ? (
                      <p className="empty-state small">Nothing has data here in the last 90 days: choose another campaign, or measure this variant elsewhere.</p>
                    ) : (
                      <>
                        {offered.length > 8 ? (
                          <input
                            className={styles.filter}
                            type="search"
                            placeholder="Filter by name or id"
                            aria-label={`Filter the ids of variant ${arm}`}
                            value={filters[arm]}
                            onChange={(e) => {
                              const v = e.currentTarget.value;
                              setFilters((x) => ({ ...x, [arm]: v }));
                            }}
                          />
                        ) : null}
                        <ul className={styles.candidates}>
                          {shown.map((c) => {
                            const checked = ids[arm].includes(c.key);
                            const inOther = ids[other].includes(c.key);
                            const otherLevel = chosenLevel !== null && c.level !== chosenLevel && !checked;
                            const id = `ab-${arm}-${c.key}`;
                            return (
                              <li key={c.key} className={styles.candidate}>
                                <input
                                  id={id}
                                  type="checkbox"
                                  name={f.ids}
                                  value={c.key}
                                  checked={checked}
                                  disabled={inOther || otherLevel}
                                  onChange={(e) => toggle(arm, c.key, e.currentTarget.checked)}
                                />
                                <label htmlFor={id}>
                                  {entityLabel(c)}{' '}
                                  <span className="muted small">
                                    {LEVEL_LABEL[c.level].one} · {spendNote(c, data.style)}
                                    {inOther ? ` · in variant ${other}` : otherLevel ? ` · another level than the ${LEVEL_LABEL[chosenLevel!].many} chosen` : ''}
                                  </span>
                                </label>
                              </li>
                            );
                          })}
                        </ul>
                        {data.candidates && data.candidates.total > offered.length ? (
                          <p className="muted small">
                            The {offered.length} largest of {data.candidates.total} by recent spend.
                          </p>
                        ) : null}
                      </>
                    )}
                    {err(f.ids)}
                  </fieldset>
                ) : null}

                {source === 'entered' ? (
                  <fieldset className={styles.inner}>
                    <legend>Totals of variant {arm} so far</legend>
                    {test?.totalsProblem[arm] ? <p className="notice notice-warn small">The stored totals cannot be read ({test.totalsProblem[arm]}): enter them again.</p> : null}
                    <div className={styles.totals}>
                      {PERFORMANCE_KEYS.map((k) => {
                        const name = totalsField(arm, k);
                        return (
                          <div key={k} className="field">
                            <label htmlFor={`ab-${name}`}>{TOTALS_LABEL[k][0]!.toUpperCase() + TOTALS_LABEL[k].slice(1)}</label>
                            <input
                              id={`ab-${name}`}
                              name={name}
                              inputMode={k === 'impressions' || k === 'clicks' ? 'numeric' : 'decimal'}
                              value={totals[arm][k]}
                              placeholder="0"
                              onChange={(e) => {
                                const v = e.currentTarget.value;
                                setTotals((t) => ({ ...t, [arm]: { ...t[arm], [k]: v } }));
                              }}
                              aria-invalid={invalid(name)}
                              aria-describedby={describedBy(name)}
                            />
                            {err(name)}
                          </div>
                        );
                      })}
                    </div>
                    <p className="muted small">Update them as the results come in: each day’s reading uses the totals entered by then.</p>
                  </fieldset>
                ) : null}
              </div>
            );
          })}
        </div>
      </fieldset>

      <fieldset className="fieldset">
        <legend>Design</legend>
        {started ? (
          <>
            {frozenNote}
            <dl className={styles.facts}>
              <dt>Primary metric</dt>
              <dd>{METRIC_LABEL[metric]}</dd>
              <dt>Share of B</dt>
              <dd>{shareB} %</dd>
              <dt>What is split</dt>
              <dd>{ALLOCATION_LABEL[test.allocationUnit]}</dd>
              <dt>Minimum detectable effect</dt>
              <dd>{mde} %</dd>
            </dl>
            {hidden('metric', metric)}
            {hidden('shareB', shareB)}
            {hidden('allocationUnit', test.allocationUnit)}
            {hidden('mde', mde)}
            {(['metric', 'shareB', 'allocationUnit', 'mde'] as const).map((k) => (
              <div key={k}>{err(k)}</div>
            ))}
          </>
        ) : (
          <div className={styles.row}>
            <div className="field">
              <label htmlFor="ab-metric">Primary metric</label>
              <select id="ab-metric" name="metric" value={metric} onChange={(e) => setMetric(e.currentTarget.value as DbMetric)} aria-invalid={invalid('metric')} aria-describedby={describedBy('metric')}>
                {DB_METRICS.map((m) => (
                  <option key={m} value={m}>
                    {METRIC_LABEL[m]}
                  </option>
                ))}
              </select>
              {err('metric')}
            </div>
            <div className="field">
              <label htmlFor="ab-shareB">Share of B (%)</label>
              <input
                id="ab-shareB"
                name="shareB"
                inputMode="decimal"
                value={shareB}
                onChange={(e) => setShareB(e.currentTarget.value)}
                aria-invalid={invalid('shareB')}
                aria-describedby={describedBy('shareB', true)}
              />
              <p id="ab-shareB-hint" className="muted field-hint">
                {SHARE_MIN} to {SHARE_MAX}; A gets the rest.
              </p>
              {err('shareB')}
            </div>
            <fieldset className={styles.inner} aria-describedby="ab-allocationUnit-error">
              <legend>What is split</legend>
              <div className={styles.radios}>
                {ALLOCATION_UNITS.map((u: AllocationUnit) => (
                  <label key={u}>
                    <input type="radio" name="allocationUnit" value={u} defaultChecked={(test?.allocationUnit ?? 'spend') === u} /> {ALLOCATION_LABEL[u]}
                  </label>
                ))}
              </div>
              {err('allocationUnit')}
            </fieldset>
            <div className="field">
              <label htmlFor="ab-mde">Minimum detectable effect (%)</label>
              <input
                id="ab-mde"
                name="mde"
                inputMode="decimal"
                value={mde}
                onChange={(e) => setMde(e.currentTarget.value)}
                aria-invalid={invalid('mde')}
                aria-describedby={describedBy('mde', true)}
              />
              <p id="ab-mde-hint" className="muted field-hint">
                {MDE_MIN} to {MDE_MAX}: the smallest relative change worth finding.
              </p>
              {err('mde')}
            </div>
          </div>
        )}
      </fieldset>

      <fieldset className="fieldset">
        <legend>Dates</legend>
        <div className={styles.row}>
          {started ? (
            <div className="field">
              <span className={styles.label}>Start date</span>
              <span>{test.startDate ?? '—'}</span>
              {hidden('startDate', test.startDate ?? '')}
              {err('startDate')}
            </div>
          ) : (
            <div className="field">
              <label htmlFor="ab-startDate">Start date</label>
              <input
                id="ab-startDate"
                name="startDate"
                type="date"
                min={data.minStart}
                max={data.maxStart}
                value={startDate}
                onChange={(e) => setStartDate(e.currentTarget.value)}
                aria-invalid={invalid('startDate')}
                aria-describedby={describedBy('startDate', true)}
              />
              <p id="ab-startDate-hint" className="muted field-hint">
                Blank: the day it is started. From {data.minStart} to {data.maxStart}.
              </p>
              {err('startDate')}
            </div>
          )}
          <div className="field">
            <label htmlFor="ab-endDate">End date</label>
            <input
              id="ab-endDate"
              name="endDate"
              type="date"
              min={started ? [test.startDate ?? '', data.yesterday].sort().at(-1) : [startDate || data.today, data.today].sort().at(-1)}
              max={addDays((started ? test.startDate : startDate) || data.today, MAX_TEST_DAYS)}
              value={endDate}
              onChange={(e) => setEndDate(e.currentTarget.value)}
              aria-invalid={invalid('endDate')}
              aria-describedby={describedBy('endDate', true)}
            />
            <p id="ab-endDate-hint" className="muted field-hint">
              At most {MAX_TEST_DAYS} days after the start. The daily loop completes the test after it.
            </p>
            {err('endDate')}
          </div>
        </div>
      </fieldset>

      {started ? null : (
        <SampleSizePanel
          input={{
            metric,
            mde: (typedNumber(mde) ?? MDE_DEFAULT) / 100,
            shareB: (typedNumber(shareB) ?? SHARE_DEFAULT) / 100,
            A: traffic('A'),
            B: traffic('B'),
            windowDays: 28,
          }}
          style={data.style}
          plannedDays={plannedDays}
        />
      )}

      {errors.id ? err('id') : null}
      {errors.expectedUpdatedAt ? err('expectedUpdatedAt') : null}
      <FormMessage state={state} />
      <div className={styles.actions}>
        {started ? (
          <Submit pending={pending}>Save changes</Submit>
        ) : (
          <>
            <Submit pending={pending}>{test ? 'Save the draft' : 'Save as a draft'}</Submit>
            <Submit pending={pending} name="startNow" value="on" variant="secondary">
              Save and start now
            </Submit>
          </>
        )}
        <Link href={test ? `/ab-tests/${test.id}` : '/ab-tests'}>Back without saving</Link>
      </div>
    </ActionForm>
  );
}

function Submit({
  pending,
  children,
  name,
  value,
  variant = 'primary',
}: {
  pending: boolean;
  children: ReactNode;
  name?: string;
  value?: string;
  variant?: 'primary' | 'secondary';
}) {
  return (
    <button type="submit" name={name} value={value} className={`button button-${variant}`} disabled={pending} aria-disabled={pending}>
      {pending ? 'Saving…' : children}
    </button>
  );
}
