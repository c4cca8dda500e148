// The shell's banner: active critical anomalies nobody has acknowledged or
// snoozed, with a link to the board filtered to them. Gone once each is
// acknowledged (or snoozed, resolved, dismissed).
import Link from 'next/link';
import styles from './anomalies.module.css';

export function CriticalBanner({ count }: { count: number }) {
  if (count <= 0) return null;
  return (
    <div className={styles.banner} role="status" aria-label="Critical anomalies">
      <strong>
        {count} critical {count === 1 ? 'anomaly' : 'anomalies'}
      </strong>{' '}
      {count === 1 ? 'is' : 'are'} waiting to be acknowledged.{' '}
      <Link href="/anomalies?severity=critical">Open the anomaly board</Link>
    </div>
  );
}
