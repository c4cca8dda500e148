// The safety rules of webhooks, shared by the form's validation and the
// sender: https only, no credentials in the URL, no private, loopback,
// link-local or metadata address; 5 s per request, no redirects followed, at
// most 4 KB of the answer read. One development allowance, for tests and
// local receivers: AEGIS_ALERTS_ALLOW_PRIVATE_URLS=1 permits http:// and
// private addresses, and is ignored when NODE_ENV is production.
// Not server-only: the worker applies the same rules.
import { isIP } from 'node:net';
import { blockedReason } from './address';

export const ALLOW_PRIVATE_ENV = 'AEGIS_ALERTS_ALLOW_PRIVATE_URLS';
export const WEBHOOK_URL_MAX = 2048;
export const WEBHOOK_TIMEOUT_MS = 5_000;
export const WEBHOOK_MAX_RESPONSE_BYTES = 4_096;

export interface WebhookPolicy {
  /** The development allowance: http:// and private or loopback addresses. */
  allowPrivate: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
}

export function webhookPolicy(env: Record<string, string | undefined> = process.env): WebhookPolicy {
  return {
    allowPrivate: env[ALLOW_PRIVATE_ENV] === '1' && env.NODE_ENV !== 'production',
    timeoutMs: WEBHOOK_TIMEOUT_MS,
    maxResponseBytes: WEBHOOK_MAX_RESPONSE_BYTES,
  };
}

// Names that only ever resolve inside a network (RFC 6761, 6762, cloud metadata).
const LOCAL_NAME = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/**
 * What is wrong with a webhook URL before any DNS look-up (the form's check),
 * or null. The sender checks again, with every address the host resolves to
 * (and the port after that: `checkPort` false leaves it to the caller).
 */
export function webhookUrlProblem(raw: string, allowPrivate: boolean, checkPort = true): string | null {
  if (raw.length > WEBHOOK_URL_MAX) return `keep it under ${WEBHOOK_URL_MAX} characters.`;
  if (/[\u0000-\u0020\u007f]/.test(raw)) return 'must not contain spaces or control characters.';
  if (!raw.isWellFormed()) return 'contains a broken character (half of an emoji).';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'not a valid URL; enter one like https://hooks.example.com/aegis.';
  }
  if (u.protocol !== 'https:' && !(allowPrivate && u.protocol === 'http:')) return 'must start with https://.';
  if (u.username || u.password) return 'must not hold a user name or password (put a token in the path or query instead).';
  if (!u.hostname) return 'names no host.';
  if (allowPrivate) return null;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const reason = blockedReason(host);
    if (reason) return `points to a ${reason} address; webhooks go to public addresses only.`;
  } else if (LOCAL_NAME.test(host.replace(/\.$/, ''))) {
    return 'names a local host; webhooks go to public addresses only.';
  }
  return checkPort ? webhookPortProblem(u, allowPrivate) : null;
}

/**
 * Outside the development allowance, only the standard https port: no POST to a
 * public host's mail, SSH or database port (cross-protocol requests, port
 * probing through the delivery log). The URL parser drops the default port
 * (https://x:443/ has port ''), so any port left is another one.
 */
export function webhookPortProblem(u: URL, allowPrivate: boolean): string | null {
  if (allowPrivate || u.port === '') return null;
  return `must use the standard https port (443, or none), not ${u.port}.`;
}

// Second-level labels under which registries sell names (example.co.uk): the
// registrable domain is then three labels. A short list, not the public
// suffix list: a miss only shows one label less or more of a public name.
const SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gov', 'net', 'org', 'ne', 'or', 'go', 'gv', 'mil', 'nic', 'ltd', 'plc', 'sch', 'gob']);

/**
 * The host as a page shows it: an IP address as it is, a name reduced to its
 * registrable domain ("…​.pipedream.net"), since the labels on the left may be
 * the credential (https://<token>.m.pipedream.net, https://<id>.ngrok.app).
 */
export function maskHost(hostname: string): string {
  const host = hostname.replace(/\.$/, '');
  if (isIP(host.replace(/^\[|\]$/g, ''))) return hostname;
  const labels = host.split('.');
  const keep = labels.length >= 3 && labels.at(-1)!.length === 2 && SECOND_LEVEL.has(labels.at(-2)!) ? 3 : 2;
  if (labels.length <= keep) return host;
  return `….${labels.slice(-keep).join('.')}`;
}

/**
 * The URL as pages, the delivery log and the audit log show it: the scheme,
 * the registrable domain (left-most labels masked), the port, and the last 4
 * characters of the path and query (the path is often the credential, as in
 * Slack's; the host name may be one too).
 */
export function maskWebhookUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const origin = `${u.protocol}//${maskHost(u.hostname)}${u.port ? `:${u.port}` : ''}`;
    // The serialised URL (ASCII: percent-encoded, punycode), not the text as typed.
    const rest = `${u.pathname}${u.search}`;
    if (rest === '' || rest === '/') return origin + '/';
    return `${origin}/…${rest.length > 12 ? rest.slice(-4) : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
