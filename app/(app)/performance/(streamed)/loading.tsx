import styles from '@/components/performance/performance.module.css';

/** The page's outline while its figures load: filters, eight cards, the chart, the table. */
export default function Loading() {
  return (
    <div role="status" aria-live="polite" aria-label="Loading performance">
      <h1>Performance</h1>
      <div className={`${styles.skeleton} ${styles.skeletonBar}`} />
      <ul className={styles.kpis} aria-hidden="true">
        {Array.from({ length: 8 }, (_, i) => (
          <li key={i} className={`${styles.skeleton} ${styles.skeletonCard}`} />
        ))}
      </ul>
      <div className={`${styles.skeleton} ${styles.skeletonChart}`} aria-hidden="true" />
      <div className={`${styles.skeleton} ${styles.skeletonTable}`} aria-hidden="true" />
      <span className="visually-hidden">Loading…</span>
    </div>
  );
}
