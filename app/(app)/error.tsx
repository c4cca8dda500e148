'use client';
import { ErrorPanel } from '@/components/shell/ErrorPanel';

// retry refetches the segment from the server (reset alone would re-render the same server error).
export default function SectionError({ error, reset, retry }: { error: Error & { digest?: string }; reset: () => void; retry?: () => void }) {
  return <ErrorPanel error={error} reset={retry ?? reset} />;
}
