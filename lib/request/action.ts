// The one wrapper for tenant server actions:
//   session -> membership (database) -> role -> zod safeParse -> withTenant(handler).
// Usage, in a 'use server' module:
//   export const removeMember = tenantAction(removeMemberSchema, 'admin', async (trx, input, ctx) => { ... });
// The returned function has the (previousState, formData) shape useActionState expects;
// its spec is recorded (registry.ts) so that tests can list and drive every action.
import 'server-only';
import { revalidatePath } from 'next/cache';
import type { z } from 'zod';
import type { ActionResult } from './result';
import { runTenantAction, type ActionHandler } from './action-core';
import { registerTenantAction } from './registry';
import type { Role } from '@/lib/tenancy/roles';
import { getPreferredTenantId, getSessionUserId } from '@/lib/tenancy/session';

export { ActionError } from './action-core';

export interface TenantActionOptions {
  /**
   * Re-render the pages after a success (default true), so lists and the
   * navigation counts show the change. Off for an action whose page would
   * then vanish (e.g. removing the member the page is about).
   */
  revalidate?: boolean;
}

export function tenantAction<S extends z.ZodType, T = undefined>(
  schema: S,
  minRole: Role,
  handler: ActionHandler<S, T>,
  options: TenantActionOptions = {},
) {
  const action = async function action(_previous: ActionResult<T> | null, input: FormData): Promise<ActionResult<T>> {
    const result = await runTenantAction({
      schema,
      minRole,
      handler,
      userId: await getSessionUserId(),
      preferredTenantId: await getPreferredTenantId(),
      input,
    });
    // Every page is rendered per request; refresh them all (navigation counts included).
    if (result.ok && options.revalidate !== false) revalidatePath('/', 'layout');
    return result;
  };
  registerTenantAction(action, { schema, minRole, handler: handler as ActionHandler<z.ZodType, unknown> });
  return action;
}
