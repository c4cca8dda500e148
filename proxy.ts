// Runs before every request but the build's static files (next.config.js
// gives those their headers): a Content-Security-Policy with a fresh nonce,
// which Next reads from the request to mark its own scripts; HSTS when the
// public URL is https; and refusals of what a client must not decide: the
// host the app answers for (X-Forwarded-Host) and cross-site writes; and,
// while a database outage that a page met goes on, 503 with Retry-After for
// the pages (lib/db/health.ts). docs/security-web.md explains each choice.
import { NextResponse, type NextRequest } from 'next/server';
import { appDatabaseUrl } from './lib/db/config';
import { databaseOutageRecorded, databaseStillDown } from './lib/db/health';
import { DATABASE_UNAVAILABLE_PAGE, DATABASE_UNAVAILABLE_TITLE, RETRY_AFTER_SECONDS } from './lib/db/unavailable';

export const HSTS = 'max-age=63072000; includeSubDomains';

export const FORWARDED_HOST_REFUSED = "X-Forwarded-Host does not name this application's public host.";
export const CROSS_SITE_REFUSED = "Changes are accepted from this application's own pages only.";
export const MALFORMED_PATH = 'Not found: the address has a malformed % escape.';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The public URL the app is configured with (NEXTAUTH_URL), or null when unset or not an http(s) URL. */
export function publicUrl(raw: string | undefined): URL | null {
  if (!raw?.trim()) return null;
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** HSTS only when the public URL is https, and never for a loopback host (a browser would pin it for every local port and subdomain). */
export function sendsHsts(pub: URL | null): boolean {
  return pub !== null && pub.protocol === 'https:' && !LOOPBACK.has(pub.hostname);
}

/**
 * The policy of every page. Scripts run only with this response's nonce (Next
 * adds it to its own tags) or when loaded by such a script ('strict-dynamic').
 * Style elements need the nonce too; style attributes stay allowed because
 * the server-rendered markup carries some (charts, layout) and an attribute
 * cannot run code. The dev server evaluates code and talks over a websocket.
 */
export function contentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    `style-src-elem 'self'${dev ? " 'unsafe-inline'" : ` 'nonce-${nonce}'`}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? ' ws:' : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

function hostOf(url: string | null): string | null {
  if (!url || url === 'null') return null;
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Next's server-action check compares Origin with X-Forwarded-Host (else Host),
 * and nothing stops a client from sending that header itself: only the reverse
 * proxy may set it, and only to the public host. `next start` fills it with
 * Host when a request has none, so repeating Host says nothing new and passes;
 * any other value is refused.
 */
function forwardedHostRefusal(request: Request, pub: URL | null): string | null {
  const forwarded = request.headers.get('x-forwarded-host');
  if (forwarded === null) return null;
  const allowed = [pub?.host.toLowerCase(), request.headers.get('host')?.toLowerCase()];
  const values = forwarded.split(',').map((v) => v.trim().toLowerCase());
  return values.every((v) => allowed.includes(v)) ? null : FORWARDED_HOST_REFUSED;
}

/**
 * A write (any method but GET/HEAD/OPTIONS) from a browser says where it comes
 * from in Sec-Fetch-Site and Origin; neither may name another site. Pages only
 * take writes as server actions, which a browser always sends with Origin, so
 * there Origin is required. Route handlers keep their own checks: the ingest
 * API (/api/v1) takes a key, never a cookie; next-auth checks its CSRF token;
 * the upload checks the origin itself.
 */
function crossSiteRefusal(request: NextRequest, pub: URL | null): string | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const path = request.nextUrl.pathname;
  if (path.startsWith('/api/v1/')) return null;
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin') return CROSS_SITE_REFUSED;
  const origin = request.headers.get('origin');
  if (origin === null) return path.startsWith('/api/') ? null : CROSS_SITE_REFUSED;
  const from = hostOf(origin);
  const ours = [pub?.host.toLowerCase(), request.headers.get('host')?.toLowerCase()];
  return from !== null && ours.includes(from) ? null : CROSS_SITE_REFUSED;
}

/** Next answers a dynamic route whose path it cannot percent-decode with a bare 500; such an address names nothing. */
function undecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return false;
  } catch {
    return true;
  }
}

/** The refusal, if any: status and message. */
function refusal(request: NextRequest, pub: URL | null): [number, string] | null {
  const forwarded = forwardedHostRefusal(request, pub);
  if (forwarded) return [400, forwarded];
  const crossSite = crossSiteRefusal(request, pub);
  if (crossSite) return [403, crossSite];
  return undecodable(request.nextUrl.pathname) ? [404, MALFORMED_PATH] : null;
}

/** A page request (the API answers its own 503, in JSON). */
function isPage(request: NextRequest): boolean {
  return SAFE_METHODS.has(request.method) && !request.nextUrl.pathname.startsWith('/api/') && !request.nextUrl.pathname.startsWith('/_next/');
}

const escapeHtml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The page a request gets while the database is away: what happened, that nothing changed, and a retry. */
export function unavailablePage(nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(DATABASE_UNAVAILABLE_TITLE)} · AEGIS</title>
<style nonce="${escapeHtml(nonce)}">body{font-family:system-ui,sans-serif;margin:0;padding:0 1rem;background:#f8fafc;color:#0f172a}main{max-width:32rem;margin:15vh auto;padding:1.5rem;background:#fff;border:1px solid #e2e8f0;border-radius:.5rem}h1{font-size:1.25rem;margin:0 0 .75rem}p{line-height:1.5;margin:0 0 1rem;color:#334155}a{display:inline-block;padding:.5rem 1rem;border-radius:.375rem;background:#1d4ed8;color:#fff;text-decoration:none}</style>
</head><body><main role="alert"><h1>${escapeHtml(DATABASE_UNAVAILABLE_TITLE)}</h1><p>${escapeHtml(DATABASE_UNAVAILABLE_PAGE)}</p><a href="">Try again</a></main></body></html>
`;
}

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const pub = publicUrl(process.env.NEXTAUTH_URL);
  const nonce = newNonce();
  const csp = contentSecurityPolicy(nonce, process.env.NODE_ENV === 'development');
  const refused = refusal(request, pub);
  let response: NextResponse;
  if (refused) {
    response = new NextResponse(`${refused[1]}\n`, {
      status: refused[0],
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    });
  } else if (isPage(request) && databaseOutageRecorded() && (await databaseStillDown(appDatabaseUrl))) {
    response = new NextResponse(request.method === 'HEAD' ? null : unavailablePage(nonce), {
      status: 503,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': String(RETRY_AFTER_SECONDS) },
    });
  } else {
    // Next takes the nonce from the request's policy when it renders.
    const headers = new Headers(request.headers);
    headers.set('content-security-policy', csp);
    response = NextResponse.next({ request: { headers } });
  }
  response.headers.set('Content-Security-Policy', csp);
  if (sendsHsts(pub)) response.headers.set('Strict-Transport-Security', HSTS);
  return response;
}

export const config = {
  // The build's static files carry no page; next.config.js gives them their headers.
  matcher: ['/((?!_next/static/|_next/image).*)'],
};
