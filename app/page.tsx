import Link from 'next/link';
import { redirect } from 'next/navigation';
import { getSessionUserId } from '@/lib/tenancy/session';

export default async function Home() {
  if (await getSessionUserId()) redirect('/performance');
  return (
    <main className="landing">
      <h1>AEGIS Media Buying</h1>
      <p className="lead">
        One place for media buyers to review yesterday&apos;s ad performance against its baseline, approve or dismiss
        optimisation recommendations, work the anomaly board, read A/B test results, and set budgets and per-platform
        thresholds — across Meta, Google, TikTok and LinkedIn, for every client you manage.
      </p>
      <ul className="features">
        <li>Performance against 1, 7, 14, 30 and 90-day baselines, computed in the database.</li>
        <li>Recommendations with their evidence, estimated impact and confidence.</li>
        <li>Anomalies scored against each campaign&apos;s own history, weekday-aware.</li>
        <li>Every tenant&apos;s data kept apart by row-level security.</li>
      </ul>
      <p>
        <Link className="button" href="/signin">
          Sign in
        </Link>
      </p>
    </main>
  );
}
