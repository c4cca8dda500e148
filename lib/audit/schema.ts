// Audit page filters, read from the URL's search params.
import { z } from 'zod';
import { DAY_PATTERN } from '@/lib/format/time';

const text = z.string().trim().max(200).optional().transform((v) => (v ? v : undefined));
const day = z
  .string()
  .regex(DAY_PATTERN)
  .optional()
  .catch(undefined);

/** The columns the audit table can be ordered by (the URL's ?sort=). */
export const AUDIT_SORT_KEYS = ['occurredAt', 'actor', 'action', 'entityType'] as const;
export type AuditSortKey = (typeof AUDIT_SORT_KEYS)[number];

export const auditFilterSchema = z.object({
  action: text.catch(undefined),
  entity: text.catch(undefined),
  actor: text.catch(undefined),
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
  /** Column the list is ordered by (newest first when absent). */
  sort: z.enum(AUDIT_SORT_KEYS).optional().catch(undefined),
  dir: z.enum(['asc', 'desc']).optional().catch(undefined),
});

export type AuditFilter = z.output<typeof auditFilterSchema>;

export const AUDIT_PAGE_SIZE = 25;

/** The first value of each search param, as the schema wants. */
export function parseAuditFilter(params: Record<string, string | string[] | undefined>): AuditFilter {
  const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  return auditFilterSchema.parse(flat);
}
