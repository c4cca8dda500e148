import styles from '@/components/budgets/budgets.module.css';

/** The page's outline while its figures load: the pace alerts, the totals, the budget table. */
export default function Loading() {
  return (
    <div role="status" aria-live="polite" aria-label="Loading budgets">
      <h1>Budgets</h1>
      <div className={`${styles.skeleton} ${styles.skeletonBar}`} aria-hidden="true" />
      <div className={`${styles.skeleton} ${styles.skeletonTotals}`} aria-hidden="true" />
      <div className={`${styles.skeleton} ${styles.skeletonTable}`} aria-hidden="true" />
      <span className="visually-hidden">Loading…</span>
    </div>
  );
}
