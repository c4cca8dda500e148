// The column mapping a buyer adjusted for an export, remembered per tenant and
// platform (ads_engine.import_mappings): read by the /imports page for its
// mapping editor and by the import core for a file whose headers are not a
// known export; written by the editor and by an import given a mapping.
// Kysely for the page (its tenant transaction), raw pg for the core (its
// COPY connection): the same two statements either way.
import { sql } from 'kysely';
import type pg from 'pg';
import type { Tx } from '../db/pool';
import { CONTROL_CHARACTERS } from './values';
import { IMPORT_PLATFORMS, TARGET_FIELDS, type ColumnMapping, type ImportPlatform, type TargetField } from './types';

export const MAX_HEADER_LENGTH = 200;

/** The mapping with its fields checked and its header texts trimmed; throws on anything else (the callers validate input first). */
export function cleanMapping(mapping: unknown): ColumnMapping {
  if (mapping === null || typeof mapping !== 'object' || Array.isArray(mapping)) throw new Error('a column mapping is an object');
  const out: ColumnMapping = {};
  for (const [k, v] of Object.entries(mapping)) {
    if (!(TARGET_FIELDS as readonly string[]).includes(k)) throw new Error(`a column mapping has no field ${JSON.stringify(k)}`);
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw new Error(`the column of ${k} must be a header text`);
    const h = v.trim();
    if (h === '' || h.length > MAX_HEADER_LENGTH || CONTROL_CHARACTERS.test(h)) throw new Error(`the column of ${k} is not a header text`);
    out[k as TargetField] = h;
  }
  return out;
}

function checkPlatform(platform: string): asserts platform is ImportPlatform {
  if (!(IMPORT_PLATFORMS as readonly string[]).includes(platform)) throw new Error(`unknown platform ${JSON.stringify(platform)}`);
}

const LOAD = 'select m.mapping from ads_engine.import_mappings m where m.tenant_id = $1 and m.platform = $2';
const SAVE = `insert into ads_engine.import_mappings as m (tenant_id, platform, mapping, updated_at, updated_by)
  values ($1, $2, $3::jsonb, now(), saas.current_user_id())
  on conflict (tenant_id, platform) do update set mapping = excluded.mapping, updated_at = now(), updated_by = excluded.updated_by
  where m.mapping is distinct from excluded.mapping`;

/** The tenant's saved mapping for the platform, or null. */
export async function loadMapping(trx: Tx, tenantId: string, platform: ImportPlatform): Promise<ColumnMapping | null> {
  checkPlatform(platform);
  const r = await sql<{ mapping: unknown }>`
    select m.mapping from ads_engine.import_mappings m where m.tenant_id = ${tenantId} and m.platform = ${platform}`.execute(trx);
  return r.rows[0] ? safeMapping(r.rows[0].mapping) : null;
}

/** Save (or replace) the tenant's mapping for the platform; the transaction's user is recorded. */
export async function saveMapping(trx: Tx, tenantId: string, platform: ImportPlatform, mapping: ColumnMapping): Promise<void> {
  checkPlatform(platform);
  const clean = JSON.stringify(cleanMapping(mapping));
  await sql`
    insert into ads_engine.import_mappings as m (tenant_id, platform, mapping, updated_at, updated_by)
    values (${tenantId}, ${platform}, ${clean}::jsonb, now(), saas.current_user_id())
    on conflict (tenant_id, platform) do update set mapping = excluded.mapping, updated_at = now(), updated_by = excluded.updated_by
    where m.mapping is distinct from excluded.mapping`.execute(trx);
}

/** loadMapping on the import core's connection. */
export async function loadMappingOn(c: pg.ClientBase, tenantId: string, platform: ImportPlatform): Promise<ColumnMapping | null> {
  checkPlatform(platform);
  const r = await c.query<{ mapping: unknown }>(LOAD, [tenantId, platform]);
  return r.rows[0] ? safeMapping(r.rows[0].mapping) : null;
}

/** saveMapping on the import core's connection. */
export async function saveMappingOn(c: pg.ClientBase, tenantId: string, platform: ImportPlatform, mapping: ColumnMapping): Promise<void> {
  checkPlatform(platform);
  await c.query(SAVE, [tenantId, platform, JSON.stringify(cleanMapping(mapping))]);
}

/** A stored mapping as the code knows it (a field renamed since is dropped, not an error). */
function safeMapping(v: unknown): ColumnMapping {
  const out: ColumnMapping = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const f of TARGET_FIELDS) {
      const h = (v as Record<string, unknown>)[f];
      if (typeof h === 'string' && h.trim() !== '') out[f] = h;
    }
  }
  return out;
}
