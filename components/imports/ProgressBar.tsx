'use client';
// The bar of a running preview or import: bytes sent while the browser
// uploads, then the server's own progress lines (bytes read, rows read, the
// phase). Phases without a measure (checking rows, writing) show a moving bar.
import { formatNumber } from '@/lib/format/number';
import type { ImportProgress } from '@/lib/ingest/types';
import styles from './imports.module.css';

export interface ProgressView {
  /** 'sending': the browser is still uploading and the server has not answered yet. */
  phase: 'sending' | ImportProgress['phase'];
  bytesDone: number;
  bytesTotal: number | null;
  rowsRead: number;
}

const PHASE_LABEL: Record<ProgressView['phase'], string> = {
  sending: 'Sending the file',
  reading: 'Reading the file',
  validating: 'Checking the rows',
  writing: 'Writing the rows',
  done: 'Finishing',
};

function megabytes(bytes: number, locale: string): string {
  return `${formatNumber(bytes / (1024 * 1024), { locale }, 1)} MB`;
}

export function ProgressBar({ progress, label, locale }: { progress: ProgressView; label: string; locale: string }) {
  const measured = (progress.phase === 'sending' || progress.phase === 'reading') && progress.bytesTotal !== null && progress.bytesTotal > 0;
  const fraction = measured ? Math.min(1, progress.bytesDone / (progress.bytesTotal as number)) : null;
  const parts = [PHASE_LABEL[progress.phase]];
  if (measured) parts.push(`${megabytes(progress.bytesDone, locale)} of ${megabytes(progress.bytesTotal as number, locale)}`);
  if (progress.rowsRead > 0) parts.push(`${formatNumber(progress.rowsRead, { locale })} rows read`);
  const text = parts.join(' · ');
  return (
    <div className={styles.progress}>
      <p className={styles.progressLabel} id="import-progress-label">
        {label}
      </p>
      {fraction !== null ? (
        <progress className={styles.progressBar} aria-labelledby="import-progress-label" aria-describedby="import-progress-text" value={fraction} max={1}>
          {Math.round(fraction * 100)} %
        </progress>
      ) : (
        // No value: an indeterminate bar, announced as busy.
        <progress className={styles.progressBar} aria-labelledby="import-progress-label" aria-describedby="import-progress-text" />
      )}
      <p id="import-progress-text" className={`muted small ${styles.progressText}`}>
        {text}
        {fraction !== null ? ` (${Math.round(fraction * 100)} %)` : '…'}
      </p>
      {/* The phase alone is announced: the figures change several times a second. */}
      <p className="visually-hidden" aria-live="polite">
        {PHASE_LABEL[progress.phase]}
      </p>
    </div>
  );
}
