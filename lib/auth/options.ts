// next-auth configuration: email + password (argon2id) always; an OpenID
// Connect provider for single sign-on only when AUTH_OIDC_ISSUER,
// AUTH_OIDC_CLIENT_ID and AUTH_OIDC_CLIENT_SECRET are set (nothing is fetched
// otherwise). Sessions are JWTs carrying the account id and nothing secret;
// tenant and role are read from the database on every request.
import 'server-only';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import type { OAuthConfig } from 'next-auth/providers/oauth';
import { appDb } from '@/lib/db';
import { checkCredentials, normaliseEmail } from './credentials';

declare module 'next-auth' {
  interface Session {
    user: { id: string; email: string; name: string | null };
  }
}
declare module 'next-auth/jwt' {
  interface JWT {
    uid?: string;
  }
}

/** Session lifetime: a working day. */
const SESSION_MAX_AGE = 12 * 60 * 60;

export const OIDC_PROVIDER_ID = 'oidc';

interface OidcProfile {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export function oidcConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AUTH_OIDC_ISSUER && env.AUTH_OIDC_CLIENT_ID && env.AUTH_OIDC_CLIENT_SECRET);
}

function oidcProvider(env: NodeJS.ProcessEnv): OAuthConfig<OidcProfile> {
  const issuer = env.AUTH_OIDC_ISSUER!.replace(/\/+$/, '');
  return {
    id: OIDC_PROVIDER_ID,
    name: env.AUTH_OIDC_NAME || 'Single sign-on',
    type: 'oauth',
    wellKnown: `${issuer}/.well-known/openid-configuration`,
    issuer,
    clientId: env.AUTH_OIDC_CLIENT_ID,
    clientSecret: env.AUTH_OIDC_CLIENT_SECRET,
    authorization: { params: { scope: 'openid email profile' } },
    idToken: true,
    checks: ['pkce', 'state'],
    profile: (p) => ({ id: p.sub, email: p.email ? normaliseEmail(p.email) : null, name: p.name ?? null }),
  };
}

/** The account for a verified single-sign-on email, created (with no password and no membership) when missing. */
async function accountForSso(email: string, name: string | null): Promise<string | null> {
  const { db } = appDb();
  const found = await sql<{ id: string; disabled: boolean }>`select id, disabled from saas.auth_lookup(${email})`.execute(db);
  const row = found.rows[0];
  if (row) return row.disabled ? null : row.id;
  const id = randomUUID();
  // No RETURNING: the new row is not visible to the app role until it is someone's member.
  await db.insertInto('saas.users').values({ id, email, name }).onConflict((oc) => oc.column('email').doNothing()).execute();
  const again = await sql<{ id: string; disabled: boolean }>`select id, disabled from saas.auth_lookup(${email})`.execute(db);
  return again.rows[0] && !again.rows[0].disabled ? again.rows[0].id : null;
}

/** The address a sign-in came from: the hop nearest to us in X-Forwarded-For (set by Next or the load balancer). */
export function clientAddress(headers: Record<string, unknown> | undefined): string | null {
  const xff = headers?.['x-forwarded-for'];
  const value = Array.isArray(xff) ? xff.join(',') : typeof xff === 'string' ? xff : '';
  const hops = value.split(',').map((s) => s.trim()).filter(Boolean);
  const real = headers?.['x-real-ip'];
  return hops.at(-1) ?? (typeof real === 'string' && real ? real : null);
}

export function buildAuthOptions(env: NodeJS.ProcessEnv = process.env): AuthOptions {
  if (!env.NEXTAUTH_SECRET && env.NODE_ENV === 'production' && env.NEXT_PHASE !== 'phase-production-build') {
    throw new Error('NEXTAUTH_SECRET must be set in production (a long random string).');
  }
  const secure = (env.NEXTAUTH_URL ?? '').startsWith('https://');
  return {
    secret: env.NEXTAUTH_SECRET,
    session: { strategy: 'jwt', maxAge: SESSION_MAX_AGE },
    jwt: { maxAge: SESSION_MAX_AGE },
    // httpOnly and SameSite=Lax are next-auth's defaults; Secure (and the __Secure- prefix) over HTTPS.
    useSecureCookies: secure,
    pages: { signIn: '/signin', error: '/signin' },
    providers: [
      CredentialsProvider({
        id: 'credentials',
        name: 'Email and password',
        credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
        async authorize(credentials, req) {
          const result = await checkCredentials(appDb().db, {
            email: credentials?.email ?? '',
            password: credentials?.password ?? '',
            address: clientAddress(req?.headers),
          });
          if (result.ok) return { id: result.user.id, email: result.user.email, name: result.user.name };
          // next-auth hands the message to the sign-in page as ?error=.
          throw new Error(result.message);
        },
      }),
      ...(oidcConfigured(env) ? [oidcProvider(env)] : []),
    ],
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.provider !== OIDC_PROVIDER_ID) return true;
        const p = profile as OidcProfile | undefined;
        return Boolean(p?.email && p.email_verified !== false);
      },
      async jwt({ token, user, account, profile }) {
        if (account?.provider === OIDC_PROVIDER_ID) {
          const p = profile as OidcProfile | undefined;
          const id = p?.email ? await accountForSso(normaliseEmail(p.email), p.name ?? null) : null;
          if (!id) throw new Error('This single-sign-on account cannot sign in here.');
          token.uid = id;
          token.email = normaliseEmail(p!.email!);
        } else if (user) {
          token.uid = user.id;
        }
        // Nothing else rides in the token: no hash, no role (roles are read from the database).
        delete token.picture;
        return token;
      },
      async session({ session, token }) {
        session.user = { id: token.uid ?? '', email: token.email ?? '', name: token.name ?? null };
        return session;
      },
    },
  };
}

let cached: AuthOptions | undefined;
export function authOptions(): AuthOptions {
  cached ??= buildAuthOptions();
  return cached;
}
