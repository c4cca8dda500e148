// What a message may hold (checked before anything is written or sent), and
// the outbox page's search params. Limits match saas.mail_outbox's checks.
import { z } from 'zod';

export const MAIL_SUBJECT_MAX = 200;
export const MAIL_TEXT_MAX = 20_000;
export const OUTBOX_PAGE_SIZE = 50;

// CR or LF in a header value would start a new header ("\r\nBcc: ..."); no
// other control character belongs in one either.
const HEADER_SAFE = /^[^\u0000-\u001f\u007f]*$/;
const ONE_LINE = { error: 'Must be a single line (no line breaks or control characters).' };

export const mailInputSchema = z.object({
  /** The tenant the message is sent for, or null for mail that belongs to no tenant (a password reset). */
  tenantId: z.uuid({ error: 'Unknown tenant.' }).nullable(),
  kind: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'Kind must be a lower-case identifier, like invitation.' }),
  to: z
    .string()
    .regex(HEADER_SAFE, ONE_LINE)
    .trim()
    .max(320, { error: 'That email address is too long.' })
    .pipe(z.email({ error: 'Enter a valid email address, like name@example.com.' })),
  subject: z
    .string()
    .regex(HEADER_SAFE, ONE_LINE)
    .trim()
    .min(1, { error: 'A subject is needed.' })
    .max(MAIL_SUBJECT_MAX, { error: `Keep the subject under ${MAIL_SUBJECT_MAX} characters.` }),
  text: z
    .string()
    .min(1, { error: 'The message is empty.' })
    .max(MAIL_TEXT_MAX, { error: `Keep the message under ${MAIL_TEXT_MAX} characters.` }),
});

export type MailInput = z.input<typeof mailInputSchema>;
export type Mail = z.output<typeof mailInputSchema>;

export const outboxFilterSchema = z.object({
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
});

export type OutboxFilter = z.output<typeof outboxFilterSchema>;

/** The first value of each search param; anything malformed falls back to page 1. */
export function parseOutboxFilter(params: Record<string, string | string[] | undefined>): OutboxFilter {
  const page = params.page;
  return outboxFilterSchema.parse({ page: Array.isArray(page) ? page[0] : page });
}
