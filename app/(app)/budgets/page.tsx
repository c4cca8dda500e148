import type { Metadata } from 'next';
import Link from 'next/link';
import { BudgetTable } from '@/components/budgets/BudgetTable';
import { PaceAlerts } from '@/components/budgets/PaceAlerts';
import { TotalsTable } from '@/components/budgets/TotalsTable';
import { UnallocatedCampaigns } from '@/components/budgets/UnallocatedCampaigns';
import styles from '@/components/budgets/budgets.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { BAND_BASE, BAND_SLOPE, bandText, monthCalendar, monthLabel, monthName, RATE_DAYS, shiftDay } from '@/lib/budgets/pacing';
import { budgetsPage, UNALLOCATED_DAYS } from '@/lib/budgets/queries';
import { budgetFilterSchema, budgetsHref, SHOW, SHOW_LABEL } from '@/lib/budgets/schema';
import { formatCalendarDay } from '@/lib/format/number';
import { platformLabel } from '@/lib/performance/metrics';
import { tenantRead } from '@/lib/request/read';
import { hasRole } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Budgets' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  const params = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  // Bad values in the URL fall back (the schema catches each one): never an error page.
  const filter = budgetFilterSchema.parse(params);
  const { tenant, role, data } = await tenantRead('viewer', (trx, { tenant }) => budgetsPage(trx, tenant.tenantId, filter));
  const canEdit = hasRole(role, 'buyer');
  const { calendar: cal, style } = data;

  if (data.allocationCount === 0 && data.unallocated.length === 0) {
    return (
      <>
        <PageHeader title="Budgets">{canEdit ? <Link href="/budgets/launch">Launch a campaign</Link> : null}</PageHeader>
        <div className="empty-state">
          <p>
            <strong>No budgets yet.</strong> Once campaigns deliver, each one that spent in the last {UNALLOCATED_DAYS} days is listed here to
            give it a daily budget, with its recent average spend as the suggestion; then this page paces the month against it.
          </p>
          <p>
            <Link href="/imports">Import a platform export</Link> to get started.
          </p>
        </div>
      </>
    );
  }

  const month = monthLabel(cal, style.locale);
  const monthOnly = monthName(cal, style.locale);
  const filtered = Boolean(filter.platform) || filter.show !== 'all';
  const wide = bandText(BAND_BASE + BAND_SLOPE * ((cal.daysInMonth - 1) / cal.daysInMonth), style);
  const final = bandText(BAND_BASE, style);
  const through = `Spend through ${formatCalendarDay(cal.yesterday, style.locale)}, the last complete day in ${data.timeZone}; figures in ${style.currency}.`;

  return (
    <>
      <PageHeader
        title="Budgets"
        description="Each campaign's daily budget, the engine's recommended budget, and where the month is heading at the current rate of spend; on the 1st, how the month just closed against its budget."
      >
        {canEdit ? <Link href="/budgets/launch">Launch a campaign</Link> : null}
      </PageHeader>
      {cal.closed ? (
        <p className={styles.period}>
          <strong className={styles.periodHead}>{month}, closed: spend against budget.</strong> {through} Every day of {monthOnly} is complete, so
          each campaign is judged on what it spent in the month; pacing of {monthLabel(monthCalendar(shiftDay(cal.today, 1)), style.locale)} starts
          tomorrow, with its first complete day.
        </p>
      ) : (
        <p className={styles.period}>
          <strong className={styles.periodHead}>
            {month}: day {cal.elapsedDays + 1} of {cal.daysInMonth}.
          </strong>{' '}
          {through}
        </p>
      )}

      {data.allocationCount > 0 ? <PaceAlerts alerts={data.alerts} calendar={cal} judged={data.judgedCount} locale={style.locale} /> : null}

      {data.allocationCount > 0 ? (
        <section className={styles.section} aria-labelledby="totals-title">
          <h2 id="totals-title">{cal.closed ? `${month}, closed` : 'This month'}</h2>
          <TotalsTable platforms={data.totals.platforms} overall={data.totals.overall} style={style} calendar={cal} month={monthOnly} />
          {cal.closed ? (
            <p className={styles.note}>
              Month budget: the daily budget times the days of the month (from its first day for a campaign that started delivering in{' '}
              {monthOnly}). The month is closed: a campaign is on budget while its spend in the month is within {final} of its month budget,
              the band&apos;s final width. A budget changed during the month, or since it closed, is judged as if the current daily budget
              applied from the 1st. Paused and ended allocations are not judged: their budgets are left out, their spend counts.
            </p>
          ) : (
            <p className={styles.note}>
              Month budget: the daily budget times the days of the month (from its first day for a campaign that started delivering this
              month). A budget changed during the month is paced as if the current daily budget applied from the 1st. Projection: the spend
              so far plus the average daily spend of the last {RATE_DAYS} days times the {cal.remainingDays}{' '}
              {cal.remainingDays === 1 ? 'day' : 'days'} left, today included. A campaign is on pace while its projection is within{' '}
              {bandText(cal.band, style)} of its month budget today (the band narrows from {wide} on the 2nd to {final} once the month is
              closed). Paused and ended allocations are not paced: their budgets are left out, their spend so far counts.
            </p>
          )}
        </section>
      ) : null}

      {data.allocationCount > 0 ? (
        <section className={styles.section} aria-labelledby="budgets-title">
          <h2 id="budgets-title">Campaign budgets</h2>
          <form method="get" action="/budgets" className={`filters ${styles.filters}`} aria-label="Filter budgets">
            <div className="field">
              <label htmlFor="bf-platform">Platform</label>
              <select id="bf-platform" name="platform" defaultValue={filter.platform ?? ''}>
                <option value="">All platforms</option>
                {data.platforms.map((p) => (
                  <option key={p} value={p}>
                    {platformLabel(p)}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="bf-show">Show</label>
              <select id="bf-show" name="show" defaultValue={filter.show}>
                {SHOW.map((s) => (
                  <option key={s} value={s}>
                    {SHOW_LABEL[s]}
                  </option>
                ))}
              </select>
            </div>
            <div className="field field-submit">
              <button type="submit" className="button button-small">
                Filter
              </button>
              {filtered ? <Link href={budgetsHref({})}>Clear</Link> : null}
            </div>
          </form>
          {!canEdit ? <p className="muted">Viewers see the budgets; buyers and admins edit them and accept the recommended budgets.</p> : null}
          <BudgetTable
            rows={data.rows}
            style={style}
            calendar={cal}
            tenantId={tenant.tenantId}
            canEdit={canEdit}
            caption={`Campaign budgets${filtered ? ' (filtered)' : ''}: ${data.rows.length} of ${data.allocationCount}`}
            emptyText={filtered ? 'No allocation matches these filters.' : 'No allocations.'}
          />
          {filtered ? (
            <p className={styles.note}>
              Showing {data.rows.length} of {data.allocationCount} allocations; the totals and the count {cal.closed ? 'off budget' : 'off pace'}{' '}
              cover them all.
            </p>
          ) : null}
        </section>
      ) : null}

      {data.unallocated.length > 0 ? (
        <section className={styles.section} aria-labelledby="unallocated-title">
          <h2 id="unallocated-title">Campaigns without a budget</h2>
          <p className={styles.note}>
            {data.unallocatedTotal} {data.unallocatedTotal === 1 ? 'campaign' : 'campaigns'} delivered in the last {UNALLOCATED_DAYS} days without a
            budget allocation. The suggested daily budget is the average daily spend of the last 7 days, rounded to a whole unit.
          </p>
          <UnallocatedCampaigns campaigns={data.unallocated} total={data.unallocatedTotal} style={style} tenantId={tenant.tenantId} canEdit={canEdit} />
        </section>
      ) : null}
    </>
  );
}
