import { PageHeader } from '@/components/ui/PageHeader';

/** Placeholder for a section another issue builds: its title and one line, nothing made up. */
export function ComingSoon({ title, summary }: { title: string; summary: string }) {
  return (
    <>
      <PageHeader title={title} />
      <p className="coming-soon">Coming soon: {summary}</p>
    </>
  );
}
