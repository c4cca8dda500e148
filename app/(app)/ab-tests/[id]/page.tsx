import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { DecisionPanel } from '@/components/abtests/DecisionPanel';
import { LiftChart } from '@/components/abtests/LiftChart';
import { LiftReadout, ResultsTable } from '@/components/abtests/ResultsTable';
import { TestActions } from '@/components/abtests/TestActions';
import styles from '@/components/abtests/abtests.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { abTestResultPage } from '@/lib/abtests/page-data';
import { formatCalendarDay } from '@/lib/format/number';
import { isUuid } from '@/lib/db/pool';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'A/B test' };

const TONE_CLASS: Readonly<Record<string, string | undefined>> = {
  best: styles.best,
  good: styles.good,
  neutral: styles.neutral,
  warn: styles.warn,
  none: styles.none,
};

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!isUuid(id)) notFound();
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) => abTestResultPage(trx, tenant.tenantId, id.toLowerCase()));
  // Another tenant's test is invisible: not found, like an unknown id.
  if (!data) notFound();
  const v = data.view;
  const canEdit = hasRole(role, 'buyer');
  const a = data.actions;
  return (
    <>
      <p className="breadcrumb">
        <Link href="/ab-tests">← A/B tests</Link>
      </p>
      <PageHeader title={v.name}>
        {canEdit && v.status !== 'completed' && v.status !== 'cancelled' ? <Link href={`/ab-tests/${v.id}/edit`}>Edit</Link> : null}
      </PageHeader>
      <p className={styles.headerLine}>
        <span className={`${styles.badge} ${TONE_CLASS[v.statusTone] ?? ''}`}>{v.statusLabel}</span>
        <span className="muted">Read with the data to {formatCalendarDay(data.asOf, data.style.locale)}.</span>
      </p>

      <DecisionPanel decision={v.decision} />

      <TestActions
        testId={a.testId}
        status={a.status}
        winner={a.winner}
        latchedWinner={a.latchedWinner}
        decisionMet={a.decisionMet}
        canEdit={canEdit}
        updatedAt={a.updatedAt}
        tenantId={tenant.tenantId}
        variantA={v.names.a}
        variantB={v.names.b}
      />

      <section className="card" aria-labelledby="ab-about">
        <h2 id="ab-about">The test</h2>
        <div className={styles.grid}>
          <dl className={styles.facts}>
            {v.facts.map((f) => (
              <div key={f.label} style={{ display: 'contents' }}>
                <dt>{f.label}</dt>
                <dd>{f.href ? <Link href={f.href}>{f.value}</Link> : f.value}</dd>
              </div>
            ))}
          </dl>
          <dl className={styles.facts}>
            {v.design.map((f) => (
              <div key={f.label} style={{ display: 'contents' }}>
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
        </div>
        <p className={styles.hypothesis}>
          <strong>Hypothesis: </strong>
          {v.hypothesis ?? <span className="muted">none written.</span>}
        </p>
      </section>

      <section className={`card ${styles.section}`} aria-labelledby="ab-figures">
        <h2 id="ab-figures">Figures</h2>
        <ResultsTable figures={v.figures} names={v.names} />
        <h3>The lift on {v.lift.metricWords}</h3>
        <LiftReadout lift={v.lift} source={v.source} />
        {v.evaluated ? <p className={`muted ${styles.small}`}>{v.evaluated}</p> : null}
      </section>

      <section className={`card ${styles.section}`} aria-labelledby="ab-chart">
        <h2 id="ab-chart">Lift over time</h2>
        <LiftChart chart={v.chart} />
      </section>
    </>
  );
}
