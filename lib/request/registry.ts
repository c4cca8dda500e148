// Which function is which tenant action. tenantAction records the schema, the
// role and the handler of every action it makes, so that the security tests
// can list every server action and drive each one exactly as it is wired,
// without Next's request context. A 'use server' module may export only async
// functions: the action itself stays one, and its spec lives here, keyed by it.
import type { z } from 'zod';
import type { ActionHandler } from './action-core';
import type { Role } from '@/lib/tenancy/roles';

export interface TenantActionSpec {
  schema: z.ZodType;
  minRole: Role;
  handler: ActionHandler<z.ZodType, unknown>;
}

const specs = new WeakMap<object, TenantActionSpec>();

export function registerTenantAction(action: object, spec: TenantActionSpec): void {
  specs.set(action, spec);
}

/** The spec of a function made by tenantAction, or undefined for any other value. */
export function tenantActionSpec(value: unknown): TenantActionSpec | undefined {
  return typeof value === 'function' ? specs.get(value) : undefined;
}
