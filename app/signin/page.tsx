import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { SignInForm } from '@/components/auth/SignInForm';
import { oidcConfigured } from '@/lib/auth/options';
import { getAccess } from '@/lib/tenancy/session';

export const metadata: Metadata = { title: 'Sign in' };

/** Only paths of this site are followed after sign-in. */
function safeCallback(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return '/performance';
  try {
    const url = new URL(s, 'http://x');
    if (url.origin !== 'http://x' || url.pathname === '/signin') return '/performance';
    return `${url.pathname}${url.search}`;
  } catch {
    return '/performance';
  }
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  if (await getAccess()) redirect('/performance');
  const error = Array.isArray(params.error) ? params.error[0] : params.error;
  return (
    <main className="signin">
      <h1>Sign in to AEGIS</h1>
      <SignInForm
        callbackUrl={safeCallback(params.callbackUrl)}
        initialError={error ?? null}
        sso={oidcConfigured() ? { name: process.env.AUTH_OIDC_NAME || 'single sign-on' } : null}
      />
      <p className="muted">
        <Link href="/forgot-password">Forgot your password?</Link> · <Link href="/">About AEGIS Media Buying</Link>
      </p>
    </main>
  );
}
