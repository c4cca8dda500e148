// A test's figures: each variant's volumes and rates side by side with B against A (the primary
// metric's row marked), then the lift of B over A on the primary metric read three ways (the
// fixed-horizon interval and p-value, the always-valid interval that decides, the Bayesian chance
// and expected losses), the variance model used and where the figures come from.
import type { FigureRow, LiftView, SourceView } from '@/lib/abtests/view';
import styles from './abtests.module.css';

const TONE_CLASS: Readonly<Record<FigureRow['tone'], string | undefined>> = { good: styles.goodText, bad: styles.badText, neutral: undefined };
const TONE_WORDS: Readonly<Record<FigureRow['tone'], string>> = { good: ' (better for B)', bad: ' (worse for B)', neutral: '' };

export function ResultsTable({ figures, names }: { figures: FigureRow[]; names: { a: string; b: string } }) {
  return (
    <div className="table-wrap">
      <table className={`table ${styles.figures}`}>
        <caption className="visually-hidden">Figures of each variant, and B against A</caption>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            <th scope="col" className="num">
              A{names.a.trim() && names.a.trim() !== 'A' ? <span className={styles.armName}> · {names.a.trim()}</span> : null}
            </th>
            <th scope="col" className="num">
              B{names.b.trim() && names.b.trim() !== 'B' ? <span className={styles.armName}> · {names.b.trim()}</span> : null}
            </th>
            <th scope="col" className="num">
              B vs A
            </th>
          </tr>
        </thead>
        <tbody>
          {figures.map((f) => (
            <tr key={f.key} className={f.primary ? styles.primaryRow : undefined}>
              <th scope="row">
                {f.label}
                {f.primary ? <span className="muted"> (primary)</span> : null}
              </th>
              <td className="num">{f.a}</td>
              <td className="num">{f.b}</td>
              <td className="num">
                <span className={TONE_CLASS[f.tone]}>{f.change}</span>
                {TONE_WORDS[f.tone] ? <span className="visually-hidden">{TONE_WORDS[f.tone]}</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function LiftReadout({ lift, source }: { lift: LiftView; source: SourceView }) {
  const toneClass = TONE_CLASS[lift.tone];
  return (
    <>
      {lift.early && lift.computable ? (
        <p className={styles.early}>
          Not enough data yet: the figures below are for information only. No winner is read before the minimum sample, and the chance to win is
          held back.
        </p>
      ) : null}
      {!lift.computable ? (
        <p className={styles.early} role="status">
          The lift cannot be computed yet: {lift.reason}
        </p>
      ) : null}
      <dl className={styles.readout}>
        <dt>{lift.metricLabel}</dt>
        <dd>
          A {lift.valueA}, B {lift.valueB} <span className="muted">({lift.direction})</span>
        </dd>
        <dt>Lift of B over A</dt>
        <dd>
          <span className={`${styles.big} ${toneClass ?? ''}`}>{lift.lift}</span>
          {lift.tone !== 'neutral' ? <span className="visually-hidden">{TONE_WORDS[lift.tone]}</span> : null}
        </dd>
        <dt>Fixed-horizon 95 %</dt>
        <dd>
          {lift.fixed}, {lift.pValue}
          <span className="muted"> (valid for one planned look)</span>
        </dd>
        <dt>Always-valid 95 %</dt>
        <dd>
          <strong>{lift.sequential}</strong>, {lift.sequentialP}
        </dd>
        <dt>Which decides</dt>
        <dd className={styles.small}>{lift.decides}</dd>
        <dt>Chance B beats A</dt>
        <dd>{lift.bayes}</dd>
        <dt>Variance model</dt>
        <dd className={styles.small}>{lift.varianceModel}</dd>
        <dt>Figures from</dt>
        <dd className={styles.small}>
          {source.text}
          {source.kind !== 'entered' ? (
            <ul className={styles.sourceList}>
              {source.arms.map((a) => (
                <li key={a.arm}>
                  {a.arm}: {a.lines.join('; ')}
                </li>
              ))}
            </ul>
          ) : null}
        </dd>
      </dl>
    </>
  );
}
