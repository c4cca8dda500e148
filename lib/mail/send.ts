// sendMail: write the message to saas.mail_outbox, then deliver it. Call it
// after the transaction that made the message's reason (an invitation, a
// reset token) has committed: it opens its own short transactions, so a slow
// or failing mail server neither holds the caller's transaction open nor
// rolls back its data. A delivery failure is returned, never thrown: the
// caller decides (show "the mail could not be sent", offer to send again).
//
// With a mail server (SMTP_URL) the row records the attempt but not the body
// (it carries a single-use link an admin reading the outbox must not be able
// to use). Without one, the body is kept and printed to the server's log,
// so a demo's invitation link can be followed from there.
// Not server-only: scripts (the worker) may send too.
import { sql } from 'kysely';
import { z } from 'zod';
import { appDb, withTenant, type Db, type Tx } from '../db/pool';
import type { FieldErrors } from '../request/result';
import { mailInputSchema, type Mail, type MailInput } from './schema';
import { mailConfig, smtpTransport } from './transport';

export type { MailInput } from './schema';

export type SendMailResult =
  /** Refused before anything was written: the input is malformed (e.g. a line break in the subject). */
  | { ok: false; delivered: false; message: string; fieldErrors: FieldErrors }
  /** The mail server accepted it. */
  | { ok: true; delivered: true; status: 'sent'; id: number }
  /** No mail server configured: kept in the outbox and printed to the server log. */
  | { ok: true; delivered: false; status: 'kept'; id: number }
  /** The mail server refused it or could not be reached; the row records the error. */
  | { ok: true; delivered: false; status: 'failed'; id: number; error: string };

export const INVALID_MAIL = 'The message was not sent: some fields need attention.';

async function insertRow(trx: Tx, mail: Mail, transport: 'smtp' | 'outbox'): Promise<number> {
  // The app may not read back a system (NULL-tenant) row, so RETURNING is
  // out: the id comes from the sequence first (see db/migrations/002_mail.sql).
  const { rows } = await sql<{ id: number }>`select nextval('saas.mail_outbox_id_seq') as id`.execute(trx);
  const id = rows[0]!.id;
  await trx
    .insertInto('saas.mail_outbox')
    .values({
      id,
      tenant_id: mail.tenantId,
      kind: mail.kind,
      to_address: mail.to,
      subject: mail.subject,
      body_text: transport === 'outbox' ? mail.text : null,
      transport,
    })
    .execute();
  return id;
}

/** Runs fn in the message's tenant transaction, or in one with no tenant set for system mail. */
function inScope<T>(db: Db, tenantId: string | null, fn: (trx: Tx) => Promise<T>): Promise<T> {
  return tenantId ? withTenant(tenantId, fn, {}, db) : db.transaction().execute(fn);
}

function describeError(err: unknown): string {
  const message = err instanceof Error && err.message ? err.message : String(err);
  return message.slice(0, 2000);
}

/**
 * Writes the message to the outbox and delivers it. `db` is the app's Kysely
 * instance (appDb().db by default), never a transaction: the caller's
 * transaction should have committed already.
 */
export async function sendMail(input: MailInput, db: Db = appDb().db): Promise<SendMailResult> {
  const parsed = mailInputSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, delivered: false, message: INVALID_MAIL, fieldErrors: z.flattenError(parsed.error).fieldErrors as FieldErrors };
  }
  const mail = parsed.data;
  const config = mailConfig();
  const transporter = smtpTransport();

  if (!config.smtp || !transporter) {
    const id = await inScope(db, mail.tenantId, (trx) => insertRow(trx, mail, 'outbox'));
    // Our own log line: the only delivery there is without a mail server.
    console.log(`[mail] to ${mail.to}: ${mail.subject}\n${mail.text}`);
    return { ok: true, delivered: false, status: 'kept', id };
  }

  const id = await inScope(db, mail.tenantId, (trx) => insertRow(trx, mail, 'smtp'));
  let error: string | null = null;
  try {
    const info = await transporter.sendMail({ from: config.from, to: mail.to, subject: mail.subject, text: mail.text });
    if (info.rejected.length > 0) error = `the mail server refused the recipient: ${info.response}`.slice(0, 2000);
  } catch (err) {
    error = describeError(err);
  }

  try {
    await inScope(db, mail.tenantId, (trx) => sql`select saas.mail_mark(${id}, ${error === null}, ${error})`.execute(trx));
  } catch (err) {
    // The message went (or did not) whatever the row says; a failed mark must not hide that.
    console.error(`[mail] could not record the delivery of message ${id}: ${describeError(err)}`);
  }
  if (error !== null) {
    console.error(`[mail] message ${id} (${mail.kind}) was not delivered: ${error}`);
    return { ok: true, delivered: false, status: 'failed', id, error };
  }
  return { ok: true, delivered: true, status: 'sent', id };
}
