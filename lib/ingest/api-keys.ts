// API keys of the ingest API (docs/api.md): making, parsing and hashing a key,
// the admin's create / list / revoke on Settings -> API keys, and the look-up
// POST /api/v1/metrics makes before any tenant is known.
//
// A key is `aegis_<prefix>_<secret>`: a public 12-hex-character prefix (how the
// key is found and how the list names it) and 32 random bytes in base64url.
// Only the SHA-256 of the whole key is stored; the key itself is shown once,
// in the answer to the action that made it.
import 'server-only';
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/mutations';
import type { Db, Tx } from '@/lib/db';
import { ActionError, type ActionHandler } from '@/lib/request/action-core';
import type { Role } from '@/lib/tenancy/roles';

export const API_KEY_NAME_MAX = 100;
/** Keys not revoked, per tenant: enough for every system that loads metrics, few enough to review. */
export const MAX_ACTIVE_KEYS = 25;
/**
 * What a key may do. The API writes metrics and nothing else, which needs a
 * buyer; a key never carries admin (it could not use it) nor viewer (it could
 * not write). Fixed, not chosen on the form.
 */
export const API_KEY_ROLE: Role = 'buyer';

const KEY_SCHEME = 'aegis';
const PREFIX_BYTES = 6;
const SECRET_BYTES = 32;
const KEY_RE = /^aegis_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  /** The whole key, to show once. */
  key: string;
  prefix: string;
  /** SHA-256 of the whole key, hex: what is stored. */
  hash: string;
}

/** A new key: the prefix and the secret from the system's random source. */
export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(PREFIX_BYTES).toString('hex');
  const key = `${KEY_SCHEME}_${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/**
 * SHA-256 of the key, hex. A fast hash is right here: the secret is 256 random
 * bits, so there is no dictionary to try and nothing a slow hash would protect
 * (docs/api.md).
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The prefix and hash of a well-formed key, or null (anything else is no key at all). */
export function parseApiKey(key: string): { prefix: string; hash: Buffer } | null {
  const m = KEY_RE.exec(key);
  if (!m) return null;
  return { prefix: m[1]!, hash: createHash('sha256').update(key, 'utf8').digest() };
}

/** How the list shows a key: its public part only. */
export const displayPrefix = (prefix: string) => `${KEY_SCHEME}_${prefix}_…`;

// ---------------------------------------------------------------------------
// The look-up (the API, before any tenant is known)
// ---------------------------------------------------------------------------

export interface RateLimit {
  /** Requests allowed per key within the window. */
  max: number;
  windowSeconds: number;
}

/** The ingest API's limit per key: 60 requests a minute. */
export const API_RATE_LIMIT: RateLimit = { max: 60, windowSeconds: 60 };

export type Authentication =
  | { ok: false }
  | { ok: true; tenantId: string; keyId: string; role: Role; allowed: true; remaining: number }
  | { ok: true; tenantId: string; keyId: string; role: Role; allowed: false; retryAfterSeconds: number };

/**
 * Finds the key (ads_engine.api_key_authenticate: SECURITY DEFINER, the hash
 * compared in constant time), counts the request against its rate limit and
 * sets its last use. Not ok for a malformed, unknown, wrong or revoked key,
 * all alike. One statement on its own (it takes the key's row lock): never
 * inside a transaction that does more.
 */
export async function authenticateApiKey(db: Db, key: string, limit: RateLimit = API_RATE_LIMIT): Promise<Authentication> {
  const parsed = parseApiKey(key);
  if (!parsed) return { ok: false };
  const r = await sql<{ tenant_id: string; key_id: string; key_role: Role; allowed: boolean; retry_after_seconds: number; remaining: number }>`
    select tenant_id, key_id, key_role, allowed, retry_after_seconds, remaining
    from ads_engine.api_key_authenticate(${parsed.prefix}, ${parsed.hash}, make_interval(secs => ${limit.windowSeconds}), ${limit.max})`.execute(db);
  const row = r.rows[0];
  if (!row) return { ok: false };
  const base = { ok: true as const, tenantId: row.tenant_id, keyId: row.key_id, role: row.key_role };
  return row.allowed
    ? { ...base, allowed: true, remaining: row.remaining }
    : { ...base, allowed: false, retryAfterSeconds: row.retry_after_seconds };
}

// ---------------------------------------------------------------------------
// The settings page: list, create, revoke (admins)
// ---------------------------------------------------------------------------

export interface ApiKeyView {
  id: string;
  name: string;
  /** e.g. "aegis_1a2b3c4d5e6f_…" */
  prefix: string;
  role: Role;
  /** The creator's name or email; null when they are no longer a member (their account is not visible to the tenant). */
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** The tenant's keys, by name (active ones first); never the hash. */
export async function listApiKeys(trx: Tx, tenantId: string): Promise<ApiKeyView[]> {
  const rows = await trx
    .selectFrom('saas.api_keys as k')
    .leftJoin('saas.users as u', 'u.id', 'k.created_by')
    .select(['k.id', 'k.name', 'k.key_prefix', 'k.role', 'k.created_at', 'k.last_used_at', 'k.revoked_at', 'u.name as creator_name', 'u.email as creator_email'])
    .where('k.tenant_id', '=', tenantId)
    .orderBy(sql`k.revoked_at is not null`)
    .orderBy(sql`lower(k.name)`)
    .orderBy('k.created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: displayPrefix(r.key_prefix),
    role: r.role,
    createdBy: r.creator_name || r.creator_email || null,
    createdAt: iso(r.created_at)!,
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
  }));
}

const name = z
  .string({ error: 'Name: enter a name.' })
  .trim()
  .min(1, { error: 'Name: enter a name, like "Nightly Meta export".' })
  .max(API_KEY_NAME_MAX, { error: `Name: keep it under ${API_KEY_NAME_MAX} characters.` })
  .regex(/^[^\u0000-\u001f\u007f]*$/, { error: 'Name: must be a single line.' })
  // A lone UTF-16 surrogate cannot be stored in the audit log's JSON.
  .refine((v) => v.isWellFormed(), { error: 'Name: contains a broken character (half of an emoji); type it again.' });

export const createApiKeySchema = z.object({ name });
export const revokeApiKeySchema = z.object({
  id: z.uuid({ error: 'Key: not a valid id.' }),
  confirm: z.literal('revoke', { error: 'Confirm: revoking cannot be undone; confirm it.' }),
});

export interface CreatedApiKey {
  id: string;
  name: string;
  prefix: string;
  /** The whole key: in this answer once, never stored, never shown again. */
  key: string;
}

/** What the audit log keeps of a key: never the secret, never its hash. */
const auditView = (k: { name: string; key_prefix: string; role: Role; revoked_at?: Date | string | null }) => ({
  name: k.name,
  key_prefix: k.key_prefix,
  role: k.role,
  revoked_at: iso(k.revoked_at ?? null),
});

export const createApiKeyHandler: ActionHandler<typeof createApiKeySchema, CreatedApiKey> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  // Two admins creating at once must not both pass the count.
  await sql`select pg_advisory_xact_lock(hashtext('aegis.api_keys'), hashtext(${tenantId}))`.execute(trx);
  const { n } = (
    await sql<{ n: number }>`select count(*)::int as n from saas.api_keys where tenant_id = ${tenantId}::uuid and revoked_at is null`.execute(trx)
  ).rows[0]!;
  if (n >= MAX_ACTIVE_KEYS) throw new ActionError(`A tenant has at most ${MAX_ACTIVE_KEYS} active API keys: revoke one first.`);

  // A prefix already used in this tenant (1 chance in 2^48 a pair) is drawn again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const made = generateApiKey();
    const row = (
      await sql<{ id: string; created_at: Date }>`
        insert into saas.api_keys (tenant_id, name, key_prefix, key_hash, role, created_by)
        values (${tenantId}::uuid, ${input.name}, ${made.prefix}, ${made.hash}, ${API_KEY_ROLE}::saas.member_role, ${ctx.user.id}::uuid)
        on conflict (tenant_id, key_prefix) do nothing
        returning id, created_at`.execute(trx)
    ).rows[0];
    if (!row) continue;
    await recordAudit(trx, {
      action: 'api_key.create',
      entityType: 'api_key',
      entityId: row.id,
      after: auditView({ name: input.name, key_prefix: made.prefix, role: API_KEY_ROLE }),
    });
    return {
      message: 'API key created. Copy it now: it is not shown again.',
      data: { id: row.id, name: input.name, prefix: displayPrefix(made.prefix), key: made.key },
    };
  }
  throw new Error('could not draw an unused API key prefix');
};

export const API_KEY_NOT_FOUND = 'That API key was not found in this tenant.';

export const revokeApiKeyHandler: ActionHandler<typeof revokeApiKeySchema, undefined> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  const before = (
    await sql<{ name: string; key_prefix: string; role: Role; revoked_at: Date | null }>`
      select name, key_prefix, role, revoked_at from saas.api_keys
       where tenant_id = ${tenantId}::uuid and id = ${input.id}::uuid
       for update`.execute(trx)
  ).rows[0];
  if (!before) throw new ActionError(API_KEY_NOT_FOUND);
  if (before.revoked_at) return { message: `“${before.name}” was revoked already.` };
  const { revoked_at } = (
    await sql<{ revoked_at: Date }>`
      update saas.api_keys set revoked_at = now()
       where tenant_id = ${tenantId}::uuid and id = ${input.id}::uuid
       returning revoked_at`.execute(trx)
  ).rows[0]!;
  await recordAudit(trx, {
    action: 'api_key.revoke',
    entityType: 'api_key',
    entityId: input.id,
    before: auditView(before),
    after: auditView({ ...before, revoked_at }),
  });
  return { message: `“${before.name}” revoked: requests with it are refused from now on.` };
};

/**
 * The two actions as the wrapper runs them: schema, the role the server
 * checks, handler. lib/ingest/api-key-actions.ts wraps exactly these, and the
 * tests run exactly these.
 */
export const API_KEY_ACTIONS = {
  create: { schema: createApiKeySchema, minRole: 'admin' as Role, handler: createApiKeyHandler },
  revoke: { schema: revokeApiKeySchema, minRole: 'admin' as Role, handler: revokeApiKeyHandler },
} as const;
