// next-auth's endpoints (sign-in, callback, session, CSRF, sign-out).
import NextAuth from 'next-auth';
import { authOptions } from '@/lib/auth/options';

type Context = { params: Promise<{ nextauth: string[] }> };

async function handler(req: Request, context: Context): Promise<Response> {
  return NextAuth(req as never, context as never, authOptions());
}

export { handler as GET, handler as POST };
