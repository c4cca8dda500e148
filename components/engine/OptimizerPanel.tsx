import type { OptimizerRun } from '@/lib/engine/queries';
import { formatUtc } from '@/lib/format/time';
import { RunOptimizerForm } from './RunOptimizerForm';

const TRIGGER: Record<string, string> = { schedule: 'scheduled', manual: 'from the dashboard', cli: 'command line' };

/** The optimiser's latest runs, and the button for roles that may run it. */
export function OptimizerPanel({ runs, canRun, tenantId }: { runs: OptimizerRun[]; canRun: boolean; tenantId: string }) {
  return (
    <section className="card" aria-labelledby="optimizer-title">
      <h2 id="optimizer-title">Optimiser</h2>
      <p className="muted">
        Each day the optimiser recomputes baselines, analyses every campaign, proposes recommendations and looks for
        anomalies in yesterday&apos;s data. It runs on a schedule; a buyer can also run it now.
      </p>
      {canRun ? <RunOptimizerForm tenantId={tenantId} /> : <p className="muted">Viewers can read the results; running it needs the Buyer role.</p>}
      {runs.length === 0 ? (
        <p>The optimiser has not run for this tenant yet.</p>
      ) : (
        <div className="table-wrap">
        <table className="table">
          <caption>Latest runs</caption>
          <thead>
            <tr>
              <th scope="col">Finished</th>
              <th scope="col">Data up to</th>
              <th scope="col">Trigger</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id}>
                <td>{formatUtc(r.finishedAt, 'minutes')}</td>
                <td>{r.asOf}</td>
                <td>{TRIGGER[r.trigger] ?? r.trigger}</td>
                <td>
                  {r.status === 'success'
                    ? `${r.summary.recommendations ?? 0} new recommendation(s), ${r.summary.anomalies ?? 0} new anomaly(ies), ${r.summary.baselines ?? 0} baselines`
                    : 'Failed: nothing was changed'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </section>
  );
}
