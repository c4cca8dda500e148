// The track record of each recommendation type on the Applied tab of the
// history: how often the measured outcomes moved the way predicted, and how
// much of the predicted change was realised. A server component fed plain lines.
import styles from './history.module.css';

export interface TrackRecordItem {
  type: string;
  sentence: string;
  /** Enough measured (5) for the engine to weigh the type's confidence by it. */
  judged: boolean;
}

export function TrackRecordPanel({ lines }: { lines: TrackRecordItem[] }) {
  return (
    <section className={`card ${styles.panel}`} aria-labelledby="track-record-title">
      <h2 id="track-record-title" className={styles.title}>
        Track record
      </h2>
      {lines.length === 0 ? (
        <p className={styles.empty}>
          No outcome has been measured yet. Each applied recommendation is measured 7 and 14 days after it was applied, against comparable
          campaigns or ad sets that had nothing applied; the record of each type shows here from the first measurement.
        </p>
      ) : (
        <>
          <ul className={styles.lines}>
            {lines.map((l) => (
              <li key={l.type} className={l.judged ? undefined : 'muted'}>
                {l.sentence}
              </li>
            ))}
          </ul>
          <p className={`muted ${styles.note}`}>
            Per type, over every applied recommendation measured so far (the 14-day measurement when there is one, else the 7-day),
            net of comparable entities that had nothing applied; &ldquo;realised&rdquo; is the median of realised over predicted change.
            From 5 measured, the engine scales the type&apos;s confidence by this record.
          </p>
        </>
      )}
    </section>
  );
}
