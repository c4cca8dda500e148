// The count of campaigns off pace at the top of the page, and each one's
// verdict in words with a link to its row. Off pace is a projection outside
// the day's tolerance band (lib/budgets/pacing.ts).
import type { MonthCalendar } from '@/lib/budgets/pacing';
import type { BudgetRowView } from '@/lib/budgets/queries';
import styles from './budgets.module.css';

export function PaceAlerts({ alerts, calendar, judged }: { alerts: BudgetRowView[]; calendar: MonthCalendar; judged: number }) {
  if (alerts.length === 0) {
    if (calendar.elapsedDays === 0) {
      return (
        <section className={`${styles.alerts} ${styles.alertsQuiet}`} aria-labelledby="pace-title">
          <h2 id="pace-title">Pacing starts tomorrow</h2>
          <p className="muted">Today is the first day of the month: no day of it is complete yet, so no campaign is judged.</p>
        </section>
      );
    }
    if (judged === 0) return null;
    return (
      <section className={`${styles.alerts} ${styles.alertsOk}`} aria-labelledby="pace-title">
        <h2 id="pace-title">Every paced campaign is on pace</h2>
        <p className="muted">
          {judged} active {judged === 1 ? 'campaign is' : 'campaigns are'} projected within the day&apos;s tolerance band of {judged === 1 ? 'its' : 'their'} month
          budget.
        </p>
      </section>
    );
  }
  const over = alerts.filter((a) => a.pacing.state === 'over').length;
  const under = alerts.length - over;
  const split = [over ? `${over} over` : null, under ? `${under} under` : null].filter(Boolean).join(', ');
  return (
    <section className={styles.alerts} aria-labelledby="pace-title" role="status">
      <h2 id="pace-title">
        {alerts.length} {alerts.length === 1 ? 'campaign' : 'campaigns'} off pace ({split})
      </h2>
      <ul>
        {alerts.map((a) => (
          <li key={a.id}>
            <a href={`#budget-${a.id}`}>
              <strong>{a.label}</strong>
            </a>{' '}
            <span className="muted">({a.platformLabel})</span>, {a.paceLabel.toLowerCase()}: {a.paceSentence}
          </li>
        ))}
      </ul>
    </section>
  );
}
