// Single sign-on accounts. An identity is (issuer, subject): once linked to an
// account, later sign-ins find the account by it, never by email. The first
// sign-in of an identity links it to the account of its email only when the
// identity provider says that email is verified (email_verified === true);
// a missing claim is not a yes. decideSsoAccount is the pure rule (tested on
// its own); resolveSsoAccount reads, links or creates in the database.
import 'server-only';
import { sql } from 'kysely';
import type { Db } from '@/lib/db';
import { normaliseEmail } from './credentials';
import { SIGN_IN_MESSAGES } from './sign-in-errors';

export interface OidcClaims {
  sub?: string;
  email?: string;
  email_verified?: unknown;
  name?: string;
}

/** An account the identity may map to, as saas.sso_lookup describes it. */
export interface SsoCandidate {
  id: string;
  disabled: boolean;
  /** Already linked to a single-sign-on identity. */
  linked: boolean;
  /** Still on a temporary password an admin was shown. */
  pending: boolean;
}

export type SsoDecision =
  | { action: 'refuse'; message: string }
  | { action: 'use'; userId: string }
  | { action: 'link'; userId: string; email: string }
  | { action: 'create'; email: string; name: string | null };

// The texts live with their codes (sign-in-errors.ts): the sign-in page shows a refusal by its code only.
export const SSO_NO_SUBJECT = SIGN_IN_MESSAGES['sso-no-subject'];
export const SSO_UNVERIFIED = SIGN_IN_MESSAGES['sso-unverified'];
export const SSO_DISABLED = SIGN_IN_MESSAGES['sso-disabled'];
export const SSO_OTHER_IDENTITY = SIGN_IN_MESSAGES['sso-other-identity'];
export const SSO_RACE = SIGN_IN_MESSAGES['sso-race'];

export function decideSsoAccount(claims: OidcClaims, bySubject: SsoCandidate | null, byEmail: SsoCandidate | null): SsoDecision {
  if (!claims.sub) return { action: 'refuse', message: SSO_NO_SUBJECT };
  if (claims.email_verified !== true || !claims.email) return { action: 'refuse', message: SSO_UNVERIFIED };
  if (bySubject) return bySubject.disabled ? { action: 'refuse', message: SSO_DISABLED } : { action: 'use', userId: bySubject.id };
  const email = normaliseEmail(claims.email);
  if (byEmail) {
    if (byEmail.disabled) return { action: 'refuse', message: SSO_DISABLED };
    // Linked to some other (issuer, subject): an email is not an identity.
    if (byEmail.linked) return { action: 'refuse', message: SSO_OTHER_IDENTITY };
    return { action: 'link', userId: byEmail.id, email };
  }
  // saas.users keeps a name of at most 200 characters.
  return { action: 'create', email, name: claims.name?.trim().slice(0, 200) || null };
}

interface LookupRow extends SsoCandidate {
  matched_by: 'subject' | 'email';
}

async function lookup(db: Db, issuer: string, subject: string, email: string | null) {
  const r = await sql<LookupRow>`
    select matched_by, id, disabled, linked, pending from saas.sso_lookup(${issuer}, ${subject}, ${email})`.execute(db);
  const pick = (m: LookupRow['matched_by']) => {
    const row = r.rows.find((x) => x.matched_by === m);
    return row ? { id: row.id, disabled: row.disabled, linked: row.linked, pending: row.pending } : null;
  };
  return { bySubject: pick('subject'), byEmail: pick('email') };
}

export type SsoResolution = { ok: true; userId: string } | { ok: false; message: string };

/** The account for a single-sign-on identity: found by (issuer, subject), linked by verified email, or created. */
export async function resolveSsoAccount(db: Db, issuer: string, claims: OidcClaims): Promise<SsoResolution> {
  const email = claims.email ? normaliseEmail(claims.email) : null;
  const found = claims.sub ? await lookup(db, issuer, claims.sub, email) : { bySubject: null, byEmail: null };
  const decision = decideSsoAccount(claims, found.bySubject, found.byEmail);
  switch (decision.action) {
    case 'refuse':
      return { ok: false, message: decision.message };
    case 'use':
      return { ok: true, userId: decision.userId };
    case 'link': {
      const r = await sql<{ linked: boolean }>`
        select saas.sso_link(${decision.userId}, ${decision.email}, ${issuer}, ${claims.sub!}) as linked`.execute(db);
      return r.rows[0]?.linked ? { ok: true, userId: decision.userId } : { ok: false, message: SSO_RACE };
    }
    case 'create': {
      // saas.sso_create marks the email verified with this identity, now (the
      // app role inserts no account itself). NULL: created meanwhile by a
      // simultaneous first sign-in, or the email was taken since the look-up.
      const r = await sql<{ id: string | null }>`
        select saas.sso_create(${decision.email}, ${decision.name}, ${issuer}, ${claims.sub!}) as id`.execute(db);
      const created = r.rows[0]?.id;
      if (created) return { ok: true, userId: created };
      const again = await lookup(db, issuer, claims.sub!, null);
      return again.bySubject && !again.bySubject.disabled ? { ok: true, userId: again.bySubject.id } : { ok: false, message: SSO_RACE };
    }
  }
}

/** The account linked to this identity (for the session token), or null. */
export async function ssoAccountId(db: Db, issuer: string, subject: string): Promise<string | null> {
  const { bySubject } = await lookup(db, issuer, subject, null);
  return bySubject && !bySubject.disabled ? bySubject.id : null;
}
