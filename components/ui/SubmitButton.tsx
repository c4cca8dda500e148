'use client';
import type { ReactNode } from 'react';

/** A submit button that is disabled (and says so) while its form's action runs. */
export function SubmitButton({
  pending,
  children,
  pendingLabel,
  variant = 'primary',
}: {
  pending: boolean;
  children: ReactNode;
  pendingLabel?: string;
  variant?: 'primary' | 'danger' | 'secondary';
}) {
  return (
    <button type="submit" className={`button button-${variant}`} disabled={pending} aria-disabled={pending}>
      {pending ? (pendingLabel ?? 'Working…') : children}
    </button>
  );
}
