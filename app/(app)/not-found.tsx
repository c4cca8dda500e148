import Link from 'next/link';

export default function SectionNotFound() {
  return (
    <section className="empty-state">
      <h1>Not found</h1>
      <p>This page does not exist in the current tenant, or you do not have access to it.</p>
      <p>
        <Link href="/performance">Back to Performance</Link>
      </p>
    </section>
  );
}
