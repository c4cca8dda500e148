// The audit trail: every mutation records who did what to which entity, with
// the state before and after, in the same transaction as the change (so a
// rolled-back change leaves no audit row, and a change never lacks one).
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';

export interface AuditEntry {
  /** Verb in dotted form, e.g. 'member.add', 'recommendation.approve'. */
  action: string;
  /** Kind of entity changed, e.g. 'membership', 'recommendation'. */
  entityType: string;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
  /** Who; defaults to the transaction's saas.user_id. */
  actor?: { id: string | null; label?: string | null };
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Append one audit row for the tenant of the current withTenant transaction.
 * Fails (and so fails the change) when called outside one.
 */
export async function recordAudit(trx: Tx, e: AuditEntry): Promise<number> {
  const actorId = e.actor ? e.actor.id : null;
  // The label (the actor's email by default) keeps the row readable after the
  // actor leaves the tenant and their account is no longer visible to it.
  const r = await sql<{ id: number }>`
    with actor as (select coalesce(${actorId}::uuid, saas.current_user_id()) as id)
    insert into saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
    select saas.current_tenant_id(), actor.id,
           coalesce(${e.actor?.label ?? null}::text, (select u.email from saas.users u where u.id = actor.id)),
           ${e.action}, ${e.entityType}, ${e.entityId ?? null},
           ${json(e.before)}::jsonb, ${json(e.after)}::jsonb
    from actor
    returning id`.execute(trx);
  return r.rows[0]!.id;
}
