// The constants of alert channels and their delivery, free of server modules
// so that client components (the settings form) can import them.

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ANOMALY_TYPES = ['spike', 'drop', 'tracking_loss', 'trend_change', 'outlier'] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];
export const CHANNEL_KINDS = ['email', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];
export const MODES = ['immediate', 'digest'] as const;
export type AlertMode = (typeof MODES)[number];
export const DELIVERY_STATUSES = ['queued', 'failed', 'sent', 'gave_up'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type DeliveryKind = 'immediate' | 'digest' | 'test';

export const SEVERITY_LABEL: Record<Severity, string> = { low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' };
export const TYPE_LABEL: Record<AnomalyType, string> = {
  spike: 'Spike',
  drop: 'Drop',
  tracking_loss: 'Tracking loss',
  trend_change: 'Trend change',
  outlier: 'Outlier',
};

export const CHANNEL_NAME_MAX = 80;
export const MAX_CHANNELS = 20;
export const MAX_ADDRESSES = 20;
export const MAX_MEMBERS = 50;

/** Attempts of a message before it is given up, and the wait before each retry (after attempts 1, 2, 3, 4). */
export const MAX_ATTEMPTS = 5;
export const BACKOFF_MS: readonly number[] = [60_000, 5 * 60_000, 30 * 60_000, 2 * 60 * 60_000];
/** Anomalies listed in one message (the JSON); the rest are counted in `more`. */
export const MESSAGE_MAX_ANOMALIES = 50;
/** Only anomalies created this recently are taken for a channel (a bound on the scan; see docs/alerts.md). */
export const LOOKBACK_DAYS = 7;
/** Send test, per channel: at most one test in this interval, and TESTS_PER_HOUR in an hour. */
export const TEST_INTERVAL_MS = 60_000;
export const TESTS_PER_HOUR = 10;
/** Send test, all channels of a tenant together, in an hour (counted from the audit log: deleting a channel does not reset it). */
export const TESTS_PER_TENANT_HOUR = 30;
