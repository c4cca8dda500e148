'use client';
import { ErrorPanel } from '@/components/shell/ErrorPanel';

export default function SectionError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return <ErrorPanel error={error} reset={reset} />;
}
