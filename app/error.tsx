'use client';
import { ErrorPanel } from '@/components/shell/ErrorPanel';

// Next passes retry (refetch the server's part, then re-render) besides reset (re-render only): after a server
// error only retry can bring the page back.
export default function RootError({ error, reset, retry }: { error: Error & { digest?: string }; reset: () => void; retry?: () => void }) {
  return (
    <main className="landing">
      <ErrorPanel error={error} reset={retry ?? reset} />
    </main>
  );
}
