// The core of every tenant server action, free of Next's request context so it
// can be tested directly: account and membership from the database (an account
// on a temporary password is refused), role check, input validation, then the
// handler in one withTenant transaction.
// Expected failures come back as { ok: false, message, fieldErrors }; the
// handler signals one by throwing ActionError, which also rolls back its work.
import 'server-only';
import { z } from 'zod';
import { appDb, withTenant, type Db, type Tx } from '@/lib/db';
import type { ActionResult, FieldErrors } from './result';
import { loadAccess, type Membership, type SessionUser } from '@/lib/tenancy/membership';
import { hasRole, ROLE_LABEL, type Role } from '@/lib/tenancy/roles';

export class ActionError extends Error {
  readonly fieldErrors?: FieldErrors;
  constructor(message: string, fieldErrors?: FieldErrors) {
    super(message);
    this.name = 'ActionError';
    this.fieldErrors = fieldErrors;
  }
}

export interface ActionContext {
  user: SessionUser;
  tenant: Membership;
  role: Role;
}

export interface ActionSuccess<T> {
  message?: string;
  data?: T;
  /**
   * Work that must follow the commit and never be undone with it (sending a
   * mail about what was just saved). Runs after the transaction commits; what
   * it returns replaces the message. It must not throw for expected failures.
   * It gets the database the action ran on (not the transaction: that is over).
   */
  afterCommit?: (db: Db) => Promise<string | void>;
}

export type ActionHandler<S extends z.ZodType, T> = (
  trx: Tx,
  input: z.output<S>,
  ctx: ActionContext,
) => Promise<ActionSuccess<T> | void>;

export const SIGNED_OUT = 'Your session has ended. Sign in again.';
export const NO_MEMBERSHIP = 'You are not a member of any tenant.';
export const TENANT_CHANGED = 'You switched tenant in another window. Reload the page and try again.';
export const NOT_A_MEMBER = 'You are not a member of that tenant.';
export const INVALID_INPUT = 'Some fields need attention.';
export const PASSWORD_CHANGE_REQUIRED = 'Choose your own password first (you signed in with a temporary one).';

export function roleRefusal(min: Role, actual: Role): string {
  return `This needs the ${ROLE_LABEL[min]} role; you are ${ROLE_LABEL[actual]}.`;
}

/** Form fields to a plain object ($ACTION_* fields of Next are dropped; repeated names become arrays). */
export function formDataToObject(input: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of input.entries()) {
    if (key.startsWith('$ACTION')) continue;
    const v = typeof value === 'string' ? value : value.name;
    const prev = out[key];
    out[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Form fields (or a plain object, from tests and the API) parsed by a schema. */
export function parseInput<S extends z.ZodType>(schema: S, input: FormData | unknown) {
  return schema.safeParse(input instanceof FormData ? formDataToObject(input) : input);
}

/** A rejected input as the form's answer: the schema's form-level message (or INVALID_INPUT) and the errors by field. */
export function invalidInput(error: z.ZodError): { ok: false; message: string; fieldErrors: FieldErrors } {
  const flat = z.flattenError(error);
  return { ok: false, message: flat.formErrors[0] ?? INVALID_INPUT, fieldErrors: flat.fieldErrors as FieldErrors };
}

/** Field the forms carry so an action from a stale tab cannot land in another tenant. */
export const EXPECTED_TENANT_FIELD = '_tenant';

export interface RunOptions<S extends z.ZodType, T> {
  schema: S;
  minRole: Role;
  handler: ActionHandler<S, T>;
  /** The signed-in user's id from the session, or null. */
  userId: string | null;
  /** The tenant the user chose (cookie); only a preference among memberships. */
  preferredTenantId: string | null;
  input: FormData | unknown;
  db?: Db;
}

export async function runTenantAction<S extends z.ZodType, T>(o: RunOptions<S, T>): Promise<ActionResult<T>> {
  if (!o.userId) return { ok: false, message: SIGNED_OUT };
  const access = await loadAccess(o.userId, o.preferredTenantId, o.db);
  if (!access) return { ok: false, message: SIGNED_OUT };
  // A temporary password was seen by an admin: nothing happens under it.
  if (access.mustChangePassword) return { ok: false, message: PASSWORD_CHANGE_REQUIRED };
  const tenant = access.current;
  if (!tenant) return { ok: false, message: NO_MEMBERSHIP };
  if (!hasRole(tenant.role, o.minRole)) return { ok: false, message: roleRefusal(o.minRole, tenant.role) };

  const raw = o.input instanceof FormData ? formDataToObject(o.input) : o.input;
  if (raw && typeof raw === 'object' && EXPECTED_TENANT_FIELD in raw) {
    const { [EXPECTED_TENANT_FIELD]: expected, ...rest } = raw as Record<string, unknown>;
    if (expected !== tenant.tenantId) return { ok: false, message: TENANT_CHANGED };
    return parseAndRun(o, rest, access.user, tenant);
  }
  return parseAndRun(o, raw, access.user, tenant);
}

async function parseAndRun<S extends z.ZodType, T>(
  o: RunOptions<S, T>,
  raw: unknown,
  user: SessionUser,
  tenant: Membership,
): Promise<ActionResult<T>> {
  const parsed = o.schema.safeParse(raw);
  if (!parsed.success) return invalidInput(parsed.error);
  try {
    const result = await withTenant(
      tenant.tenantId,
      (trx) => o.handler(trx, parsed.data, { user, tenant, role: tenant.role }),
      { userId: user.id },
      o.db,
    );
    const after = result?.afterCommit ? await result.afterCommit(o.db ?? appDb().db) : undefined;
    return { ok: true, message: after ?? result?.message, data: result?.data };
  } catch (err) {
    if (err instanceof ActionError) return { ok: false, message: err.message, fieldErrors: err.fieldErrors };
    throw err;
  }
}
