// Reads of the audit log for the audit page (inside the tenant's transaction).
import 'server-only';
import type { Json } from '@/lib/db/schema.generated';
import { sql, type Tx } from '@/lib/db';
import { AUDIT_PAGE_SIZE, type AuditFilter } from './schema';

export interface AuditRow {
  id: number;
  occurredAt: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string | null;
}

export interface AuditDetail extends AuditRow {
  before: Json | null;
  after: Json | null;
}

export interface AuditPage {
  rows: AuditRow[];
  total: number;
  page: number;
  pages: number;
  actions: string[];
  entityTypes: string[];
}

function actorLabel(label: string | null, email: string | null, id: string | null): string {
  return label ?? email ?? (id ? `user ${id.slice(0, 8)}` : 'system');
}

export async function listAudit(trx: Tx, tenantId: string, f: AuditFilter): Promise<AuditPage> {
  let q = trx
    .selectFrom('saas.audit_log as a')
    .leftJoin('saas.users as u', 'u.id', 'a.actor_user_id')
    .where('a.tenant_id', '=', tenantId);
  if (f.action) q = q.where('a.action', '=', f.action);
  if (f.entity) q = q.where('a.entity_type', '=', f.entity);
  if (f.actor) {
    const pattern = `%${f.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('a.actor_label', 'ilike', pattern), eb('u.email', 'ilike', pattern)]));
  }
  if (f.from) q = q.where('a.occurred_at', '>=', new Date(`${f.from}T00:00:00Z`));
  if (f.to) q = q.where('a.occurred_at', '<', new Date(new Date(`${f.to}T00:00:00Z`).getTime() + 86_400_000));

  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const pages = Math.max(1, Math.ceil(Number(total) / AUDIT_PAGE_SIZE));
  const page = Math.min(f.page, pages);
  const dir = f.dir ?? (f.sort && f.sort !== 'occurredAt' ? 'asc' : 'desc');
  let ordered = q.select(['a.id', 'a.occurred_at', 'a.actor_user_id', 'a.actor_label', 'a.action', 'a.entity_type', 'a.entity_id', 'u.email']);
  // The sort key comes from a closed list (lib/audit/schema.ts), never from raw input;
  // ties fall back to newest first, so pages never overlap.
  switch (f.sort) {
    case 'actor':
      ordered = ordered.orderBy(sql`coalesce(a.actor_label, u.email)`, dir).orderBy('a.occurred_at', 'desc').orderBy('a.id', 'desc');
      break;
    case 'action':
      ordered = ordered.orderBy('a.action', dir).orderBy('a.occurred_at', 'desc').orderBy('a.id', 'desc');
      break;
    case 'entityType':
      ordered = ordered.orderBy('a.entity_type', dir).orderBy('a.occurred_at', 'desc').orderBy('a.id', 'desc');
      break;
    default:
      ordered = ordered.orderBy('a.occurred_at', dir).orderBy('a.id', dir);
  }
  const rows = await ordered
    .limit(AUDIT_PAGE_SIZE)
    .offset((page - 1) * AUDIT_PAGE_SIZE)
    .execute();
  const facets = await trx
    .selectFrom('saas.audit_log')
    .where('tenant_id', '=', tenantId)
    .select(['action', 'entity_type'])
    .distinct()
    .execute();
  return {
    rows: rows.map(toAuditRow),
    total: Number(total),
    page,
    pages,
    actions: [...new Set(facets.map((x) => x.action))].sort(),
    entityTypes: [...new Set(facets.map((x) => x.entity_type))].sort(),
  };
}

interface AuditRecord {
  id: number;
  occurred_at: Date;
  actor_user_id: string | null;
  actor_label: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  email: string | null;
}

function toAuditRow(r: AuditRecord): AuditRow {
  return {
    id: r.id,
    occurredAt: r.occurred_at.toISOString(),
    actor: actorLabel(r.actor_label, r.email, r.actor_user_id),
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
  };
}

export async function getAuditEntry(trx: Tx, tenantId: string, id: string): Promise<AuditDetail | null> {
  if (!/^\d{1,18}$/.test(id)) return null;
  const r = await trx
    .selectFrom('saas.audit_log as a')
    .leftJoin('saas.users as u', 'u.id', 'a.actor_user_id')
    .where('a.tenant_id', '=', tenantId)
    .where('a.id', '=', Number(id))
    .select(['a.id', 'a.occurred_at', 'a.actor_user_id', 'a.actor_label', 'a.action', 'a.entity_type', 'a.entity_id', 'a.before', 'a.after', 'u.email'])
    .executeTakeFirst();
  if (!r) return null;
  return { ...toAuditRow(r), before: r.before, after: r.after };
}
