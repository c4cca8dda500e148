// Words for the queue: recommendation types, impact units, time left. Pure.
import { formatMoney, formatNumber, type NumberStyle } from '@/lib/format/number';

export const TYPE_LABEL: Readonly<Record<string, string>> = {
  budget_increase: 'Budget increase',
  budget_decrease: 'Budget decrease',
  pause: 'Pause',
  bid_adjustment: 'Bid adjustment',
  audience: 'Audience',
  creative: 'Creative',
  timing: 'Timing',
};

/** An estimated impact with its unit ("€840 saved per week", "+12 conversions per week"). */
export function impactText(value: number | null, unit: string | null, style: NumberStyle): string {
  if (value === null || !Number.isFinite(value)) return '—';
  switch (unit) {
    case 'spend_saved_per_week':
      return `${formatMoney(value, style)} spend saved per week`;
    case 'value_per_week':
      return `${formatMoney(value, style)} more value per week`;
    case 'value_lost_per_week':
      return `${formatMoney(value, style)} value per week`;
    case 'conversions_per_week':
      return `${formatNumber(value, style, 1)} more conversions per week`;
    case 'conversions_lost_per_week':
      return `${formatNumber(value, style, 1)} conversions per week`;
    case 'clicks_per_week':
      return `${formatNumber(value, style, 0)} more clicks per week`;
    default:
      return unit ? `${formatNumber(value, style, 2)} ${unit.replace(/_/g, ' ')}` : formatNumber(value, style, 2);
  }
}

/** Time left before an instant, coarse ("2 days", "5 hours", "expired"). */
export function timeLeft(expiresAt: string, now: number): string {
  const ms = Date.parse(expiresAt) - now;
  if (!Number.isFinite(ms) || ms <= 0) return 'expired';
  const hours = Math.floor(ms / 3_600_000);
  if (hours >= 48) return `${Math.floor(hours / 24)} days`;
  if (hours >= 1) return `${hours} hour${hours === 1 ? '' : 's'}`;
  return 'under an hour';
}
