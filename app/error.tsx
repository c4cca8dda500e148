'use client';
import { ErrorPanel } from '@/components/shell/ErrorPanel';

export default function RootError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="landing">
      <ErrorPanel error={error} reset={reset} />
    </main>
  );
}
