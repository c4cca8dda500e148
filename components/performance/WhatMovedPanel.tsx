// The change of ROAS (or CPA) split into its funnel factors and into the
// campaigns that made it; docs/performance.md gives the two identities.
import Link from 'next/link';
import { formatChange, formatMetric, formatNumber, type NumberStyle } from '@/lib/format/number';
import { changeTone, platformLabel } from '@/lib/performance/metrics';
import type { Contributor, FunnelFactor, WhatMoved } from '@/lib/performance/types';
import styles from './performance.module.css';

const FACTOR_LABEL: Readonly<Record<FunnelFactor, [string, string]>> = {
  cpm: ['CPM', 'cost of reach'],
  ctr: ['CTR', 'clicks per impression'],
  cvr: ['Conversion rate', 'conversions per click'],
  aov: ['Order value', 'value per conversion'],
};

function factorValue(f: FunnelFactor, v: number | null, style: NumberStyle): string {
  switch (f) {
    case 'cpm':
      return formatMetric('cpm', v, style);
    case 'ctr':
    case 'cvr':
      return formatMetric('ctr', v, style);
    case 'aov':
      return formatMetric('cpa', v, style);
  }
}

function ContributorList({ items, target, style, title }: { items: Contributor[]; target: 'roas' | 'cpa'; style: NumberStyle; title: string }) {
  return (
    <div>
      <h3 className={styles.subhead}>{title}</h3>
      {items.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ol className={styles.contributors}>
          {items.map((c) => (
            <li key={`${c.platform}|${c.entityId}`}>
              {c.href ? <Link href={c.href}>{c.name}</Link> : c.name} <span className="muted">{platformLabel(c.platform)}</span>
              <span className={styles.contribution}>
                {target === 'roas' ? formatNumber(c.contribution, style, 2) : formatMetric('cpa', c.contribution, style)}
                {c.sharePct !== null ? <span className="muted"> ({formatNumber(c.sharePct, style, 0)} % of the change)</span> : null}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

export function WhatMovedPanel({ data, style, comparisonLabel, level }: { data: WhatMoved; style: NumberStyle; comparisonLabel: string; level: 'campaign' | 'adset' }) {
  const label = data.target === 'roas' ? 'ROAS' : 'CPA';
  const tone = changeTone(data.target, data.changePct);
  const entities = level === 'campaign' ? 'campaigns' : 'ad sets';
  return (
    <section className="card" aria-labelledby="moved-heading">
      <h2 id="moved-heading">What moved {label}</h2>
      <p>
        {label} {formatMetric(data.target, data.current, style)} against {formatMetric(data.target, data.comparison, style)} {comparisonLabel}:{' '}
        <strong className={styles[tone]}>{formatChange(data.changePct, style)}</strong>
      </p>
      {!data.unavailable && data.factors.every((f) => f.sharePct === null) ? (
        <p className="muted">
          {label} moved by less than 1 %: shares of so small a change would mostly measure noise, so only each factor&apos;s effect and each
          {level === 'campaign' ? ' campaign' : ' ad set'}&apos;s contribution are shown.
        </p>
      ) : null}
      {data.unavailable ? (
        <p className="muted">{data.unavailable}</p>
      ) : (
        <div className={styles.movedGrid}>
          <div>
            <h3 className={styles.subhead}>Funnel factors</h3>
            <table className={styles.factors}>
              <thead>
                <tr>
                  <th scope="col">Factor</th>
                  <th scope="col">Now</th>
                  <th scope="col">Before</th>
                  <th scope="col">Effect</th>
                  <th scope="col">Share</th>
                </tr>
              </thead>
              <tbody>
                {data.factors.map((f) => {
                  const pct = f.effect !== null ? (f.effect - 1) * 100 : null;
                  return (
                    <tr key={f.factor}>
                      <th scope="row">
                        {FACTOR_LABEL[f.factor][0]}
                        <span className={styles.factorHint}>{FACTOR_LABEL[f.factor][1]}</span>
                      </th>
                      <td>{factorValue(f.factor, f.current, style)}</td>
                      <td>{factorValue(f.factor, f.comparison, style)}</td>
                      <td className={styles[changeTone(data.target, pct)]}>{formatChange(pct, style)}</td>
                      <td>{f.sharePct !== null ? `${formatNumber(f.sharePct, style, 0)} %` : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <p className={`muted ${styles.small}`}>
              Effect: what the factor alone did to {label}. The effects multiply to the change of {label}; a share is the factor&apos;s part of it on a
              log scale (negative when the factor moved the other way).
            </p>
          </div>
          <ContributorList items={data.up} target={data.target} style={style} title={`${entities[0]!.toUpperCase()}${entities.slice(1)} that raised ${label}`} />
          <ContributorList items={data.down} target={data.target} style={style} title={`${entities[0]!.toUpperCase()}${entities.slice(1)} that lowered ${label}`} />
        </div>
      )}
    </section>
  );
}
