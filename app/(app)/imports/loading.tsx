import styles from '@/components/imports/imports.module.css';

/** The page's outline while the history loads: the upload card, then the table. */
export default function Loading() {
  return (
    <div role="status" aria-live="polite" aria-label="Loading imports">
      <h1>Imports</h1>
      <div className={`${styles.skeleton} ${styles.skeletonUpload}`} aria-hidden="true" />
      <div className={`${styles.skeleton} ${styles.skeletonTable}`} aria-hidden="true" />
      <span className="visually-hidden">Loading…</span>
    </div>
  );
}
