// next-auth configuration: credentials always; the OIDC provider only when its
// three variables are set (and so nothing is fetched otherwise); JWT sessions;
// a secret required in production; a bad AUTH_TRUSTED_PROXY_HOPS stops the start.
import { describe, expect, it } from 'vitest';
import { buildAuthOptions, oidcConfigured } from '../../lib/auth/options';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { createUser } from './fixtures';

const base = { NODE_ENV: 'test', NEXTAUTH_SECRET: 'x'.repeat(32) } as NodeJS.ProcessEnv;

describe('auth options', () => {
  it('has only the credentials provider when OIDC is not configured', () => {
    const o = buildAuthOptions(base);
    expect(o.providers.map((p) => p.id)).toEqual(['credentials']);
    expect(o.session).toMatchObject({ strategy: 'jwt' });
    expect(o.useSecureCookies).toBe(false);
    expect(oidcConfigured({ ...base, AUTH_OIDC_ISSUER: 'https://idp.example' })).toBe(false);
  });

  it('adds the OIDC provider, with PKCE and state, when issuer, client id and secret are set', () => {
    const o = buildAuthOptions({
      ...base,
      AUTH_OIDC_ISSUER: 'https://idp.example/realms/x/',
      AUTH_OIDC_CLIENT_ID: 'aegis',
      AUTH_OIDC_CLIENT_SECRET: 'secret',
      NEXTAUTH_URL: 'https://aegis.example',
    });
    const oidc = o.providers.find((p) => p.id === 'oidc') as unknown as Record<string, unknown>;
    expect(oidc).toMatchObject({
      type: 'oauth',
      wellKnown: 'https://idp.example/realms/x/.well-known/openid-configuration',
      clientId: 'aegis',
      idToken: true,
      checks: ['pkce', 'state'],
    });
    // Served over HTTPS: Secure cookies.
    expect(o.useSecureCookies).toBe(true);
  });

  it('refuses to run in production without NEXTAUTH_SECRET', () => {
    expect(() => buildAuthOptions({ NODE_ENV: 'production' } as NodeJS.ProcessEnv)).toThrow(/NEXTAUTH_SECRET must be set/);
    expect(() => buildAuthOptions({ NODE_ENV: 'production', NEXTAUTH_SECRET: 's' } as NodeJS.ProcessEnv)).not.toThrow();
  });

  it('puts the account id and its session version, and nothing secret, in the session', async () => {
    const owner = ownerPool();
    const app = appKysely();
    const u = await createUser(owner, { email: `options-${Date.now()}@auth.test` });
    await owner.query('update saas.users set session_version = 3 where id = $1', [u.id]);
    const o = buildAuthOptions(base, () => app.db);
    const token = await o.callbacks!.jwt!({
      token: { email: u.email, name: 'A', picture: 'p' },
      user: { id: u.id, email: u.email, name: 'A' },
      account: { provider: 'credentials', type: 'credentials', providerAccountId: 'x' },
    } as never);
    expect(token).toEqual({ email: u.email, name: 'A', uid: u.id, sv: 3 });
    const session = await o.callbacks!.session!({ session: { expires: 'later', user: {} }, token } as never);
    expect(session).toEqual({ expires: 'later', user: { id: u.id, email: u.email, name: 'A', sv: 3 } });
  });

  it('refuses to start with a malformed AUTH_TRUSTED_PROXY_HOPS', () => {
    expect(() => buildAuthOptions({ ...base, AUTH_TRUSTED_PROXY_HOPS: 'two' })).toThrow(/AUTH_TRUSTED_PROXY_HOPS must be a whole number/);
    expect(() => buildAuthOptions({ ...base, AUTH_TRUSTED_PROXY_HOPS: '2' })).not.toThrow();
  });
});
