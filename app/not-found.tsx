import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="landing">
      <h1>Not found</h1>
      <p>There is no page at this address.</p>
      <p>
        <Link href="/">Home</Link>
      </p>
    </main>
  );
}
