// next-auth's endpoints refuse bodies over 16 KB with 413 before next-auth
// reads them: by Content-Length, and by counting the bytes of a body without
// one; a small body reaches next-auth intact. The route handler itself is
// driven here with next-auth replaced by a stand-in (it needs Next's request
// scope), to see what it hands over and that the device cookie is added.
import { describe, expect, it, vi } from 'vitest';
import { boundedRequest, MAX_AUTH_BODY_BYTES } from '../../lib/auth/bounded-request';
import { offerDeviceToken } from '../../lib/auth/known-device';

const seen: Request[] = [];
vi.mock('next-auth', () => ({
  default: async (req: Request) => {
    seen.push(req);
    const body = await req.text();
    // As authorize does after a successful sign-in; next-auth then sets the session cookie.
    if (body.includes('sign-me-in')) {
      offerDeviceToken('A'.repeat(43));
      return new Response(null, { status: 302, headers: { location: '/performance', 'set-cookie': 'next-auth.session-token=abc; Path=/; HttpOnly' } });
    }
    return new Response(`next-auth read ${body.length} bytes`, { status: 200 });
  },
}));

const URL_ = 'http://localhost:3000/api/auth/callback/credentials';
const context = { params: Promise.resolve({ nextauth: ['callback', 'credentials'] }) };

/** A 100 MB body produced lazily, 64 KB at a time, counting what was pulled. */
function hugeStream(total = 100 * 1024 * 1024, chunk = 64 * 1024) {
  const stats = { produced: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stats.produced >= total) return controller.close();
      stats.produced += chunk;
      controller.enqueue(new Uint8Array(chunk).fill(0x61));
    },
    cancel() {
      stats.cancelled = true;
    },
  });
  return { stream, stats };
}

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request(URL_, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, duplex: 'half' } as RequestInit);

describe('the auth route handler', () => {
  it('refuses a 100 MB streamed body (no Content-Length) with 413, having read at most 16 KB and one chunk', async () => {
    const { POST } = await import('../../app/api/auth/[...nextauth]/route');
    const { stream, stats } = hugeStream();
    const started = Date.now();
    const res = await POST(post(stream), context);
    expect(res.status).toBe(413);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(stats.produced).toBeLessThanOrEqual(MAX_AUTH_BODY_BYTES + 64 * 1024);
    expect(stats.cancelled).toBe(true);
    expect(seen).toHaveLength(0);
  });

  it('refuses a body whose Content-Length is over 16 KB (or malformed) without reading it', async () => {
    const { POST } = await import('../../app/api/auth/[...nextauth]/route');
    for (const length of [String(100 * 1024 * 1024), String(MAX_AUTH_BODY_BYTES + 1), 'lots']) {
      const { stream, stats } = hugeStream();
      const res = await POST(post(stream, { 'content-length': length }), context);
      expect(res.status).toBe(413);
      expect(stats.produced).toBeLessThanOrEqual(64 * 1024);
    }
    expect(seen).toHaveLength(0);
  });

  it('hands a small body to next-auth intact, as a NextRequest', async () => {
    const { POST, GET } = await import('../../app/api/auth/[...nextauth]/route');
    const form = `email=ann%40auth.test&password=${'p'.repeat(1000)}&csrfToken=t&json=true`;
    const res = await POST(post(form), context);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`next-auth read ${form.length} bytes`);
    const got = seen.at(-1) as Request & { nextUrl?: URL };
    expect(got.nextUrl?.pathname).toBe('/api/auth/callback/credentials');
    expect(got.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(res.headers.getSetCookie()).toEqual([]);
    // A bodiless GET passes too.
    expect((await GET(new Request('http://localhost:3000/api/auth/csrf'), { params: Promise.resolve({ nextauth: ['csrf'] }) })).status).toBe(200);
  });

  it('adds the aegis-device cookie when a sign-in succeeds', async () => {
    const { POST } = await import('../../app/api/auth/[...nextauth]/route');
    const res = await POST(post('sign-me-in'), context);
    expect(res.status).toBe(302);
    const cookies = res.headers.getSetCookie();
    expect(cookies[0]).toMatch(/^next-auth\.session-token=abc/);
    expect(cookies[1]).toBe(`aegis-device=${'A'.repeat(43)}; Path=/; Max-Age=15552000; HttpOnly; SameSite=Lax`);
  });
});

describe('boundedRequest', () => {
  it('passes a chunked body of exactly 16 KB, refuses one byte more', async () => {
    const body = (n: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let left = n; left > 0; left -= 1000) c.enqueue(new Uint8Array(Math.min(1000, left)).fill(0x62));
          c.close();
        },
      });
    const ok = await boundedRequest(post(body(MAX_AUTH_BODY_BYTES)));
    expect(ok).not.toBeInstanceOf(Response);
    expect((await (ok as Request).arrayBuffer()).byteLength).toBe(MAX_AUTH_BODY_BYTES);
    expect(((await boundedRequest(post(body(MAX_AUTH_BODY_BYTES + 1)))) as Response).status).toBe(413);
  });

  it('reads at most 16 KB and a chunk even when the Content-Length understates the body', async () => {
    const { stream, stats } = hugeStream();
    const res = await boundedRequest(post(stream, { 'content-length': '10' }));
    expect((res as Response).status).toBe(413);
    expect(stats.produced).toBeLessThanOrEqual(MAX_AUTH_BODY_BYTES + 64 * 1024);
  });
});
