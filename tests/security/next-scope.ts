// Next's request scope, stood in for by the suites that call the server actions as Next calls them: who the
// session says is signed in, the tenant cookie, the request's headers, revalidatePath and redirect. Nothing
// else is replaced.
//
// vi.mock is hoisted above a test file's imports, so its factory can only use what vi.hoisted made before it.
// A suite therefore loads this module inside vi.hoisted and hands one factory to each vi.mock:
//
//   const nextjs = await vi.hoisted(async () => (await import('./next-scope')).nextScope('security suite'));
//   vi.mock('next/headers', nextjs.headers);
//
// This module must import nothing (types aside): what it imported would be loaded before the mocks are
// registered, and a module of the app that reads Next's scope would keep the real one.

/** What the stand-in of Next's redirect() throws: the action ended by sending the browser to `to`. */
export class Redirected extends Error {
  constructor(readonly to: string) {
    super(`redirect to ${to}`);
  }
}

export interface RequestScope {
  /** Who the session says is signed in (null: no session). */
  userId: string | null;
  /** The tenant the request prefers (its tenant cookie). */
  tenantId: string | null;
  /** The cookies the actions set or read. */
  cookies: Map<string, string>;
  /** How many times revalidatePath was called. */
  revalidated: number;
}

/** A request scope and the mock factories that read and write it; `userAgent` is the requests' User-Agent header. */
export function nextScope(userAgent: string) {
  const scope: RequestScope = { userId: null, tenantId: null, cookies: new Map(), revalidated: 0 };
  return {
    scope,
    Redirected,
    /** The next call comes from `userId` preferring `tenantId`, with no cookie set yet. */
    enter(userId: string | null, tenantId: string | null): void {
      scope.userId = userId;
      scope.tenantId = tenantId;
      scope.cookies.clear();
    },
    /** lib/tenancy/session as it is, but for who is signed in and the preferred tenant. */
    session: async (importOriginal: () => Promise<unknown>) => ({
      ...((await importOriginal()) as object),
      getSessionUserId: async () => scope.userId,
      getPreferredTenantId: async () => scope.tenantId,
    }),
    /** next/cache: revalidatePath counts its calls. */
    cache: () => ({
      revalidatePath: () => {
        scope.revalidated++;
      },
    }),
    /** next/headers: the scope's cookies, and the User-Agent header. */
    headers: () => ({
      cookies: async () => ({
        get: (name: string) => (scope.cookies.has(name) ? { name, value: scope.cookies.get(name)! } : undefined),
        set: (name: string, value: string) => void scope.cookies.set(name, value),
      }),
      headers: async () => new Headers({ 'user-agent': userAgent }),
    }),
    /** next/navigation: redirect throws Redirected, as Next's own ends the action. */
    navigation: () => ({
      redirect: (to: string) => {
        throw new Redirected(to);
      },
    }),
  };
}
