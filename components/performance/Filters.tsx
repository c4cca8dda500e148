'use client';
// The view's controls. They write the URL (the page reads its view from
// there), so a view can be shared and reloaded; a plain GET form underneath
// keeps them working before the script loads.
import { usePathname, useRouter } from 'next/navigation';
import { useState, useTransition, type FormEvent } from 'react';
import { COMPARISON_LABELS, COMPARISONS, RANGE_LABELS, RANGES, viewHref, type Comparison, type RangeKey } from '@/lib/performance/filters';
import { PLATFORM_LABELS, type Level, type Metric, type Platform } from '@/lib/performance/metrics';
import styles from './performance.module.css';

export interface FiltersProps {
  range: RangeKey;
  from: string;
  to: string;
  /** Bounds of a custom range. */
  minDay: string;
  maxDay: string;
  platforms: Platform[];
  available: Platform[];
  level: Level;
  compare: Comparison;
  metric: Metric;
}

export function Filters(props: FiltersProps) {
  const router = useRouter();
  const pathname = usePathname();
  const [pending, startTransition] = useTransition();
  const [range, setRange] = useState<RangeKey>(props.range);

  function go(form: HTMLFormElement) {
    const data = new FormData(form);
    const r = (data.get('range') as RangeKey) ?? props.range;
    const from = String(data.get('from') ?? props.from);
    const to = String(data.get('to') ?? props.to);
    const platforms = data.getAll('platform').map(String) as Platform[];
    const href = viewHref(pathname, {
      range: r,
      period: { from, to, days: 0 },
      compare: (data.get('compare') as Comparison) ?? props.compare,
      // Every platform ticked means the same as none: all of them.
      platforms: platforms.length === props.available.length ? [] : platforms,
      level: (data.get('level') as Level) ?? props.level,
      metric: props.metric,
    });
    startTransition(() => router.push(href, { scroll: false }));
  }

  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    go(e.currentTarget);
  }

  const allPlatforms = props.platforms.length === 0;
  return (
    <form className={`filters ${styles.filters}`} method="get" action={pathname} onSubmit={onSubmit} onChange={(e) => {
      // Custom dates wait for Apply; every other control applies at once.
      const t = e.target as unknown as HTMLInputElement | HTMLSelectElement;
      if (t.name === 'range') setRange(t.value as RangeKey);
      if (t.name === 'from' || t.name === 'to' || (t.name === 'range' && t.value === 'custom')) return;
      go(e.currentTarget);
    }} aria-busy={pending}>
      <div className="field">
        <label htmlFor="pf-range">Range</label>
        <select id="pf-range" name="range" defaultValue={props.range}>
          {RANGES.map((r) => (
            <option key={r} value={r}>
              {RANGE_LABELS[r]}
            </option>
          ))}
        </select>
      </div>
      {range === 'custom' ? (
        <>
          <div className="field">
            <label htmlFor="pf-from">From</label>
            <input id="pf-from" name="from" type="date" defaultValue={props.from} min={props.minDay} max={props.maxDay} required />
          </div>
          <div className="field">
            <label htmlFor="pf-to">To</label>
            <input id="pf-to" name="to" type="date" defaultValue={props.to} min={props.minDay} max={props.maxDay} required />
          </div>
        </>
      ) : null}
      <div className="field">
        <label htmlFor="pf-compare">Compare with</label>
        <select id="pf-compare" name="compare" defaultValue={props.compare}>
          {COMPARISONS.map((c) => (
            <option key={c} value={c}>
              {COMPARISON_LABELS[c]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="pf-level">Level</label>
        <select id="pf-level" name="level" defaultValue={props.level}>
          <option value="campaign">Campaigns</option>
          <option value="adset">Ad sets</option>
        </select>
      </div>
      {props.available.length > 1 ? (
        <fieldset className={styles.platforms}>
          <legend>Platforms</legend>
          {props.available.map((p) => (
            <label key={p} className={styles.check}>
              <input type="checkbox" name="platform" value={p} defaultChecked={allPlatforms || props.platforms.includes(p)} />
              {PLATFORM_LABELS[p]}
            </label>
          ))}
        </fieldset>
      ) : null}
      <input type="hidden" name="metric" value={props.metric} />
      <div className="field field-submit">
        <button type="submit" className="button button-small">
          Apply
        </button>
        {pending ? (
          <span className="muted" role="status">
            Updating…
          </span>
        ) : null}
      </div>
    </form>
  );
}
