// A cap on the bodies of next-auth's endpoints, read before next-auth does any
// work: next-auth reads a whole body into memory (req.text()), so a few
// parallel posts of 100 MB passwords would cost the server gigabytes. A body
// over the cap is refused with 413 as soon as its Content-Length says so, or,
// without one (chunked), as soon as the bytes read pass the cap; the stream is
// then cancelled. next-auth gets a new request with the buffered body.
import 'server-only';
import { NextRequest } from 'next/server';

/** Sign-in forms post an email, a password and a few tokens: far below this. */
export const MAX_AUTH_BODY_BYTES = 16 * 1024;

export function payloadTooLarge(limit = MAX_AUTH_BODY_BYTES): Response {
  return new Response(`Request body too large (at most ${limit} bytes).`, {
    status: 413,
    headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
  });
}

/**
 * The request with its body read into memory, or a 413 response when the body
 * is (or says it is) over `limit` bytes. Bodiless requests pass unchanged.
 */
export async function boundedRequest(req: Request, limit = MAX_AUTH_BODY_BYTES): Promise<NextRequest | Response> {
  const declared = req.headers.get('content-length');
  if (declared !== null && (!/^\s*\d+\s*$/.test(declared) || Number(declared) > limit)) {
    await req.body?.cancel().catch(() => undefined);
    return payloadTooLarge(limit);
  }
  const asNext = (body: Uint8Array | null) => {
    const headers = new Headers(req.headers);
    headers.delete('content-length');
    headers.delete('transfer-encoding');
    return new NextRequest(req.url, { method: req.method, headers, body: body as BodyInit | null, signal: req.signal });
  };
  if (!req.body) return req instanceof NextRequest ? req : asNext(null);

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return asNext(body);
}
