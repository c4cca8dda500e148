// next-auth's endpoints (sign-in, callback, session, CSRF, sign-out). Bodies
// over 16 KB are refused before next-auth reads them (lib/auth/bounded-request.ts);
// a password sign-in that succeeds also gets the aegis-device cookie
// (lib/auth/known-device.ts).
import NextAuth from 'next-auth';
import { boundedRequest } from '@/lib/auth/bounded-request';
import { withDeviceCookie } from '@/lib/auth/known-device';
import { authOptions } from '@/lib/auth/options';

type Context = { params: Promise<{ nextauth: string[] }> };

async function handler(req: Request, context: Context): Promise<Response> {
  const bounded = await boundedRequest(req);
  if (bounded instanceof Response) return bounded;
  const options = authOptions();
  return withDeviceCookie(() => NextAuth(bounded as never, context as never, options), Boolean(options.useSecureCookies));
}

export { handler as GET, handler as POST };
