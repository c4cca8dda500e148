// The client address used for the per-address sign-in limit, from
// X-Forwarded-For and the number of proxies we trust (AUTH_TRUSTED_PROXY_HOPS).
//
// What Next gives us: `next start` fills X-Forwarded-For with the socket's
// remote address only when the request has no such header (it never appends),
// and route handlers and server actions see headers, not the socket. So:
//   - 0 (default, the app is reached directly): the rightmost entry, which is the
//     socket address that Next wrote. A client that sends its own header chooses
//     this value; the per-account limit still holds whatever it sends.
//   - N >= 1 (N proxies that each append the address they received from, e.g.
//     nginx's $proxy_add_x_forwarded_for): the N-th entry from the right, the
//     address the outermost trusted proxy saw. Fewer than N entries means the
//     request did not come through the proxies: no address.
// Set N to the number of proxies in front of the app and make sure the app is
// not reachable around them.

export const TRUSTED_PROXY_HOPS_ENV = 'AUTH_TRUSTED_PROXY_HOPS';
const MAX_HOPS = 10;

/** AUTH_TRUSTED_PROXY_HOPS as a whole number 0..10 (0 when unset); throws on anything else. */
export function trustedProxyHops(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[TRUSTED_PROXY_HOPS_ENV]?.trim();
  if (!raw) return 0;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_HOPS) {
    throw new Error(`${TRUSTED_PROXY_HOPS_ENV} must be a whole number from 0 to ${MAX_HOPS} (the proxies in front of the app); got "${raw}".`);
  }
  return Number(raw);
}

// An IPv4 or IPv6 address as proxies write them (no port, no brackets); anything
// else is not used as a rate-limit key.
const ADDRESS_RE = /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

export type HeaderBag = Record<string, unknown> | undefined;

function header(headers: HeaderBag, name: string): string {
  const v = headers?.[name];
  return Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : '';
}

/** The client's address for rate limiting, or null when it cannot be told. Pure. */
export function clientAddress(headers: HeaderBag, trustedHops: number): string | null {
  const hops = header(headers, 'x-forwarded-for')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const fromRight = Math.max(1, Math.trunc(trustedHops));
  if (hops.length < fromRight) return null;
  const address = hops[hops.length - fromRight]!;
  return address.length <= 45 && ADDRESS_RE.test(address) ? address.toLowerCase() : null;
}
