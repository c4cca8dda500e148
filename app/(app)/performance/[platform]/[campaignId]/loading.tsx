import styles from '@/components/performance/detail/detail.module.css';

// The campaign page's shape while it loads: header, facts, analysis, chart, lists.
export default function Loading() {
  return (
    <div role="status" aria-live="polite" aria-busy="true">
      <span className="visually-hidden">Loading the campaign…</span>
      <div className={`${styles.skeleton} ${styles.skTitle}`} aria-hidden="true" />
      <div className={`${styles.skeleton} ${styles.skFacts}`} aria-hidden="true" />
      <div className={`${styles.skeleton} ${styles.skTable}`} aria-hidden="true" />
      <div className={`${styles.skeleton} ${styles.skChart}`} aria-hidden="true" />
      <div className={styles.skRow} aria-hidden="true">
        <div className={`${styles.skeleton} ${styles.skList}`} />
        <div className={`${styles.skeleton} ${styles.skList}`} />
      </div>
      <div className={`${styles.skeleton} ${styles.skTable}`} aria-hidden="true" />
    </div>
  );
}
