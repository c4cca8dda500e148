// The optimization score on the queue: the account's, and the campaigns with
// the most left to act on, each linked to its performance page.
import Link from 'next/link';
import { formatMoney, type NumberStyle } from '@/lib/format/number';
import { platformLabel } from '@/lib/performance/metrics';
import type { OptimizationScore } from '@/lib/recommendations/score';
import styles from './recommendations.module.css';

const pct = (x: number) => `${Math.floor(x * 100)} %`;

export function ScorePanel({ score, style, hrefOf }: { score: OptimizationScore; style: NumberStyle; hrefOf: (platform: string, campaignId: string) => string }) {
  if (score.account === null) {
    return (
      <section className="card" id="score" aria-labelledby="score-title">
        <h2 id="score-title">Optimization score</h2>
        <p className="muted">No campaign spent in the last 7 days: there is nothing to score yet.</p>
      </section>
    );
  }
  const worst = score.campaigns.slice(0, 5);
  return (
    <section className="card" id="score" aria-labelledby="score-title">
      <h2 id="score-title">Optimization score</h2>
      <div className={styles.score}>
        <div className={styles.scoreValue} aria-label={`Account score ${pct(score.account)}`}>
          {pct(score.account)}
        </div>
        <div className={styles.scoreMeter} aria-hidden="true">
          <span style={{ width: `${Math.max(0, Math.min(100, score.account * 100))}%` }} />
        </div>
        <p className="muted small">
          How much of the improvement the engine sees in the last 7 days ({formatMoney(score.spend7, style)} spent) is already taken: 100 % means
          nothing with money at stake is pending. Each recommendation adds the points shown on it; together they add less than their sum, since fixes of one
          campaign act on the same spend, and a raise and a pause of one campaign count as one or the other.
        </p>
      </div>
      {worst.length ? (
        <div className="table-wrap">
          <table className="table">
            <caption>Campaigns with the most left to act on</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col" className="num">
                  Score
                </th>
                <th scope="col" className="num">
                  Spend, 7 days
                </th>
                <th scope="col" className="num">
                  Pending
                </th>
              </tr>
            </thead>
            <tbody>
              {worst.map((c) => (
                <tr key={`${c.platform}:${c.campaignId}`}>
                  <td>
                    <Link href={hrefOf(c.platform, c.campaignId)}>{c.name ?? c.campaignId}</Link> <span className="muted">{platformLabel(c.platform)}</span>
                  </td>
                  <td className="num">{pct(c.score)}</td>
                  <td className="num">{formatMoney(c.spend7, style)}</td>
                  <td className="num">{c.pending}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
