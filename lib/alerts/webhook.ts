// Posting to a webhook under the safety rules of ./policy.ts: the host is
// resolved first and every address it has (IPv4 and IPv6) must be public; the
// connection then goes to exactly those addresses (a custom lookup), so a DNS
// answer that changes between the check and the connect (rebinding) cannot
// reach an internal address. One deadline covers DNS, connect, TLS and the
// answer; a redirect is a failure, never followed; at most maxResponseBytes
// of the answer are read. Not server-only: the worker posts too.
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { blockedReason } from './address';
import { maskHost, webhookPortProblem, webhookUrlProblem, type WebhookPolicy } from './policy';
import { cutText } from './text';

export type WebhookOutcome =
  | { ok: true; status: number }
  /** permanent: trying again cannot help without a change of the channel (the URL is refused by the rules). */
  | { ok: false; status: number | null; error: string; permanent: boolean };

interface Resolved {
  address: string;
  family: 4 | 6;
}

class Refused extends Error {}

async function resolve(host: string, policy: WebhookPolicy, signal: AbortSignal): Promise<Resolved[]> {
  const literal = host.replace(/^\[|\]$/g, '');
  const kind = isIP(literal);
  const found: Resolved[] = kind
    ? [{ address: literal, family: kind as 4 | 6 }]
    : (await Promise.race([
        dnsLookup(literal, { all: true, verbatim: true }),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('timed out resolving the host')), { once: true })),
      ])).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
  if (found.length === 0) throw new Error(`the host ${literal} has no address`);
  if (!policy.allowPrivate) {
    for (const a of found) {
      const reason = blockedReason(a.address);
      if (reason) throw new Refused(`refused: ${literal} resolves to ${a.address}, a ${reason} address`);
    }
  }
  return found;
}

/** A lookup that answers with the addresses already checked, and nothing else. */
function pinned(addresses: Resolved[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options === 'object' && options ? options.family : undefined;
    const usable = addresses.filter((a) => !family || family === 0 || a.family === family || (family as unknown) === `IPv${a.family}`);
    const list = usable.length ? usable : addresses;
    if (typeof options === 'object' && options && options.all) {
      (callback as unknown as (err: null, addrs: { address: string; family: number }[]) => void)(null, list);
    } else {
      callback(null, list[0]!.address, list[0]!.family);
    }
  };
}

/** One line, at most `max` code points, well formed (a receiver's answer is anything: emoji cut in half included). */
const clean = (s: string, max = 300) => cutText(s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(), max);

/**
 * POSTs `body` to `url` with `headers`. Never throws for a delivery failure:
 * the outcome says what happened (status, error, whether it is worth retrying).
 */
export async function postWebhook(url: string, body: string, headers: Record<string, string>, policy: WebhookPolicy): Promise<WebhookOutcome> {
  const problem = webhookUrlProblem(url, policy.allowPrivate, false);
  if (problem) return { ok: false, status: null, error: `refused: the URL ${problem}`, permanent: true };
  const u = new URL(url);
  // Error texts go to the delivery log, which every member reads: the host name is masked there as on the page.
  const bare = u.hostname.replace(/^\[|\]$/g, '');
  const redact = (s: string) => (bare && !isIP(bare) ? s.split(bare).join(maskHost(bare)) : s);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), policy.timeoutMs);
  try {
    const addresses = await resolve(u.hostname, policy, controller.signal);
    // The port after the addresses (an internal address is the graver refusal, and named first); still before any connection.
    const port = webhookPortProblem(u, policy.allowPrivate);
    if (port) return { ok: false, status: null, error: `refused: the URL ${port}`, permanent: true };
    return await new Promise<WebhookOutcome>((done) => {
      let settled = false;
      const finish = (o: WebhookOutcome) => {
        if (!settled) {
          settled = true;
          done(o);
        }
      };
      const client = u.protocol === 'https:' ? https : http;
      const req = client.request(
        {
          method: 'POST',
          protocol: u.protocol,
          hostname: u.hostname.replace(/^\[|\]$/g, ''),
          port: u.port || undefined,
          path: `${u.pathname}${u.search}`,
          headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
          lookup: pinned(addresses),
          agent: false,
          signal: controller.signal,
          // TLS checks the certificate against the URL's host name (the default servername), not the address.
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          const conclude = () => {
            const snippet = clean(Buffer.concat(chunks).toString('utf8'), 200);
            if (status >= 200 && status < 300) finish({ ok: true, status });
            else if (status >= 300 && status < 400) {
              finish({ ok: false, status, error: `HTTP ${status}: redirects are not followed (answered with a redirect${res.headers.location ? ' elsewhere' : ''})`, permanent: false });
            } else finish({ ok: false, status, error: `HTTP ${status}${snippet ? `: ${snippet}` : ''}`, permanent: false });
          };
          res.on('data', (chunk: Buffer) => {
            if (size >= policy.maxResponseBytes) return;
            chunks.push(chunk.subarray(0, policy.maxResponseBytes - size));
            size += chunk.length;
            if (size >= policy.maxResponseBytes) {
              // Enough read: the rest of the answer is not ours to wait for.
              conclude();
              res.destroy();
            }
          });
          res.on('end', conclude);
          res.on('error', () => conclude());
          res.on('close', conclude);
        },
      );
      req.on('error', (err) => {
        const timedOut = controller.signal.aborted;
        finish({ ok: false, status: null, error: timedOut ? `timed out after ${policy.timeoutMs / 1000} s` : clean(redact(err.message)), permanent: false });
      });
      req.end(body);
    });
  } catch (err) {
    if (err instanceof Refused) return { ok: false, status: null, error: clean(redact(err.message)), permanent: true };
    const message = controller.signal.aborted ? `timed out after ${policy.timeoutMs / 1000} s` : clean(redact(err instanceof Error ? err.message : String(err)));
    return { ok: false, status: null, error: message, permanent: false };
  } finally {
    clearTimeout(timer);
  }
}
