// The count of campaigns off pace at the top of the page, and each one's
// verdict in words with a link to its row. Off pace is a projection outside
// the day's tolerance band (lib/budgets/pacing.ts); once the month is closed
// (on the 1st), off budget is its spend outside the final band (±5 %) of its
// month budget.
import { bandText, monthLabel, type MonthCalendar } from '@/lib/budgets/pacing';
import type { BudgetRowView } from '@/lib/budgets/queries';
import styles from './budgets.module.css';

export function PaceAlerts({ alerts, calendar, judged, locale }: { alerts: BudgetRowView[]; calendar: MonthCalendar; judged: number; locale: string }) {
  const month = monthLabel(calendar, locale);
  if (alerts.length === 0) {
    if (judged === 0) return null;
    return (
      <section className={`${styles.alerts} ${styles.alertsOk}`} aria-labelledby="pace-title">
        <h2 id="pace-title">{calendar.closed ? `Every campaign judged closed ${month} on budget` : 'Every paced campaign is on pace'}</h2>
        <p className="muted">
          {calendar.closed
            ? `${judged} active ${judged === 1 ? 'campaign' : 'campaigns'} spent within ${bandText(calendar.band, { locale })} of ${judged === 1 ? 'its' : 'their'} month budget.`
            : `${judged} active ${judged === 1 ? 'campaign is' : 'campaigns are'} projected within the day's tolerance band of ${judged === 1 ? 'its' : 'their'} month budget.`}
        </p>
      </section>
    );
  }
  const over = alerts.filter((a) => a.pacing.state === 'over').length;
  const under = alerts.length - over;
  const split = [over ? `${over} over` : null, under ? `${under} under` : null].filter(Boolean).join(', ');
  const count = `${alerts.length} ${alerts.length === 1 ? 'campaign' : 'campaigns'}`;
  return (
    <section className={styles.alerts} aria-labelledby="pace-title" role="status">
      <h2 id="pace-title">{calendar.closed ? `${count} off budget in ${month} (${split})` : `${count} off pace (${split})`}</h2>
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
