// Reads of the outbox for the outbox page (inside the tenant's transaction).
// System mail (no tenant) is not readable by the app role at all.
import 'server-only';
import type { Tx } from '@/lib/db';
import { OUTBOX_PAGE_SIZE, type OutboxFilter } from './schema';

export interface OutboxRow {
  id: number;
  kind: string;
  to: string;
  subject: string;
  /** The text as sent with link secrets masked, kept only without a mail server (transport 'outbox'); null otherwise. */
  body: string | null;
  createdAt: string;
  sentAt: string | null;
  transport: 'smtp' | 'outbox';
  attempts: number;
  lastError: string | null;
}

export interface OutboxPage {
  rows: OutboxRow[];
  total: number;
  page: number;
  pages: number;
}

// A link's secret opens an account (an invitation to a new or unproved
// account, a reset): an admin reading the outbox must not be able to use the
// invitee's link. The page shows the mail with the secret masked; the full
// link is only in the server log (no mail server: the demo, local runs).
const LINK_SECRET = /(\/(?:invite|reset-password)\/[0-9a-fA-F-]{36}\.)[A-Za-z0-9_-]+/g;
export const MASKED_SECRET = '[secret hidden: the invitee follows the link from their mail, or the server log]';

export function maskLinkSecrets(text: string): string {
  return text.replace(LINK_SECRET, (_m, head: string) => `${head}${MASKED_SECRET}`);
}

export async function listOutbox(trx: Tx, tenantId: string, f: Pick<OutboxFilter, 'page'>): Promise<OutboxPage> {
  const base = trx.selectFrom('saas.mail_outbox').where('tenant_id', '=', tenantId);
  const { total } = await base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const pages = Math.max(1, Math.ceil(Number(total) / OUTBOX_PAGE_SIZE));
  const page = Math.min(Math.max(1, Math.trunc(f.page) || 1), pages);
  const rows = await base
    .select(['id', 'kind', 'to_address', 'subject', 'body_text', 'created_at', 'sent_at', 'transport', 'attempts', 'last_error'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(OUTBOX_PAGE_SIZE)
    .offset((page - 1) * OUTBOX_PAGE_SIZE)
    .execute();
  return {
    rows: rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      to: r.to_address,
      subject: r.subject,
      body: r.body_text === null ? null : maskLinkSecrets(r.body_text),
      createdAt: r.created_at.toISOString(),
      sentAt: r.sent_at ? r.sent_at.toISOString() : null,
      transport: r.transport === 'smtp' ? 'smtp' : 'outbox',
      attempts: r.attempts,
      lastError: r.last_error,
    })),
    total: Number(total),
    page,
    pages,
  };
}
