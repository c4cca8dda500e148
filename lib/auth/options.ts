// next-auth configuration: email + password (argon2id) always; an OpenID
// Connect provider for single sign-on only when AUTH_OIDC_ISSUER,
// AUTH_OIDC_CLIENT_ID and AUTH_OIDC_CLIENT_SECRET are set (nothing is fetched
// otherwise). Sessions are JWTs carrying the account id and nothing secret;
// tenant and role are read from the database on every request. Single-sign-on
// accounts are matched by (issuer, subject), see ./sso.ts.
import 'server-only';
import type { AuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import type { OAuthConfig } from 'next-auth/providers/oauth';
import { appDb, type Db } from '@/lib/db';
import { authorizeCredentials, ssoRefusal, unexpected } from './authorize';
import { trustedProxyHops } from './client-address';
import { normaliseEmail } from './credentials';
import { currentSessionVersion } from './session-version';
import { decideSsoAccount, resolveSsoAccount, ssoAccountId, type OidcClaims } from './sso';

declare module 'next-auth' {
  interface Session {
    user: { id: string; email: string; name: string | null; sv: number };
  }
}
declare module 'next-auth/jwt' {
  interface JWT {
    uid?: string;
    /** The account's session_version when the token was issued: a later password change or reset ends it. */
    sv?: number;
  }
}

/** Session lifetime: a working day. */
export const SESSION_MAX_AGE = 12 * 60 * 60;

export const OIDC_PROVIDER_ID = 'oidc';

type OidcProfile = OidcClaims & { sub: string };

export function oidcConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AUTH_OIDC_ISSUER && env.AUTH_OIDC_CLIENT_ID && env.AUTH_OIDC_CLIENT_SECRET);
}

/** The configured issuer without trailing slashes: half of every linked identity. */
export function oidcIssuer(env: NodeJS.ProcessEnv = process.env): string {
  return (env.AUTH_OIDC_ISSUER ?? '').replace(/\/+$/, '');
}

function oidcProvider(env: NodeJS.ProcessEnv): OAuthConfig<OidcProfile> {
  const issuer = oidcIssuer(env);
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

export function buildAuthOptions(env: NodeJS.ProcessEnv = process.env, db: () => Db = () => appDb().db): AuthOptions {
  if (!env.NEXTAUTH_SECRET && env.NODE_ENV === 'production' && env.NEXT_PHASE !== 'phase-production-build') {
    throw new Error('NEXTAUTH_SECRET must be set in production (a long random string).');
  }
  const secure = (env.NEXTAUTH_URL ?? '').startsWith('https://');
  // Read once, so a bad value stops the server at start rather than at a sign-in.
  const proxyHops = trustedProxyHops(env);
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
        // Throws only sign-in error codes: next-auth hands the message to the sign-in page as ?error=.
        authorize: (credentials, req) => authorizeCredentials(() => appDb().db, credentials, req?.headers, proxyHops),
      }),
      ...(oidcConfigured(env) ? [oidcProvider(env)] : []),
    ],
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.provider !== OIDC_PROVIDER_ID) return true;
        // Found by (issuer, subject), or linked / created for a verified email;
        // a thrown message reaches the sign-in page as ?error=, so only codes
        // are thrown (sign-in-errors.ts). What the claims alone refuse (no
        // subject, unverified email) is refused before any query.
        const claims = (profile ?? {}) as OidcClaims;
        const early = decideSsoAccount(claims, null, null);
        if (early.action === 'refuse') throw ssoRefusal(early.message);
        let r: Awaited<ReturnType<typeof resolveSsoAccount>>;
        try {
          r = await resolveSsoAccount(appDb().db, oidcIssuer(env), claims);
        } catch (err) {
          throw unexpected('single sign-on account resolution failed', err);
        }
        if (!r.ok) throw ssoRefusal(r.message);
        return true;
      },
      async jwt({ token, user, account, profile }) {
        if (account?.provider === OIDC_PROVIDER_ID) {
          const p = profile as OidcProfile | undefined;
          const id = p?.sub ? await ssoAccountId(appDb().db, oidcIssuer(env), p.sub) : null;
          if (!id) throw new Error('This single-sign-on account cannot sign in here.');
          token.uid = id;
          token.email = p?.email ? normaliseEmail(p.email) : token.email;
        } else if (user) {
          token.uid = user.id;
        }
        // At sign-in, the account's session version: checked on every request (lib/tenancy/session.ts).
        if ((user || account) && token.uid) token.sv = (await currentSessionVersion(db(), token.uid)) ?? undefined;
        // Nothing else rides in the token: no hash, no role (roles are read from the database).
        delete token.picture;
        return token;
      },
      async session({ session, token }) {
        session.user = { id: token.uid ?? '', email: token.email ?? '', name: token.name ?? null, sv: token.sv ?? 1 };
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
