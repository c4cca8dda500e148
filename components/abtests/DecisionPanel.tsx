// The decision of a test in words, first on its page: who wins (a winner latched by the daily loop
// with its day), or that there is no winner yet, or what the minimum sample still lacks, or why the
// result cannot be computed; a split off plan is flagged first and loudly, with the observed and
// planned shares and the chance of such a split.
import type { DecisionView } from '@/lib/abtests/view';
import styles from './abtests.module.css';

const TONE_CLASS: Readonly<Record<DecisionView['tone'], string | undefined>> = {
  win: styles.win,
  info: styles.info,
  warn: styles.warnTone,
  error: styles.error,
};

export function DecisionPanel({ decision }: { decision: DecisionView }) {
  const d = decision;
  const w = d.splitWarning;
  // A failed split's message is already in its warning.
  const showMessage = Boolean(d.message) && !(w && d.status === 'check_split');
  return (
    <section className={`${styles.decision} ${TONE_CLASS[d.tone] ?? ''}`} aria-labelledby="ab-decision">
      {w ? (
        <div className={styles.splitWarning} role="alert">
          <strong>The split is off plan: check the delivery before reading the result.</strong>
          {w.message}
          <ul className={styles.splitFigures}>
            <li>
              B&apos;s share of the {w.unit}: {w.observed}
            </li>
            <li>planned: {w.planned}</li>
            {w.pValue ? <li>chance of a split this far off: {w.pValue}</li> : null}
          </ul>
        </div>
      ) : null}
      <h2 id="ab-decision">{d.headline}</h2>
      {d.outcome ? <p className={styles.outcome}>{d.outcome}</p> : null}
      {d.latched ? <p className={styles.latched}>{d.latched.text}</p> : null}
      {showMessage ? (
        <p>
          {d.latched ? <span className="muted">The reading now: </span> : null}
          {d.message}
        </p>
      ) : null}
      {d.missing.length > 0 ? (
        <>
          <p className="muted" style={{ marginBottom: 0 }}>
            Still missing for the minimum sample:
          </p>
          <ul>
            {d.missing.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
