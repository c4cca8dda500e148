'use server';
// Switching tenant: the choice is re-checked against the user's memberships in
// the database before the preference cookie is set.
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import type { ActionResult } from '@/lib/request/result';
import { NO_MEMBERSHIP, NOT_A_MEMBER, parseInput, PASSWORD_CHANGE_REQUIRED, SIGNED_OUT } from '@/lib/request/action-core';
import { loadAccess } from './membership';
import { switchTenantSchema } from './schema';
import { getSessionUserId, TENANT_COOKIE, tenantCookieOptions } from './session';

export async function switchTenantAction(_previous: ActionResult | null, formData: FormData): Promise<ActionResult> {
  const userId = await getSessionUserId();
  if (!userId) return { ok: false, message: SIGNED_OUT };
  // A client may call the action with any value, not only the form: parsed as every action's input is.
  const parsed = parseInput(switchTenantSchema, formData);
  if (!parsed.success) return { ok: false, message: 'Choose a tenant.', fieldErrors: z.flattenError(parsed.error).fieldErrors };
  const access = await loadAccess(userId, parsed.data.tenantId);
  if (!access) return { ok: false, message: SIGNED_OUT };
  if (access.mustChangePassword) return { ok: false, message: PASSWORD_CHANGE_REQUIRED };
  if (!access.current) return { ok: false, message: NO_MEMBERSHIP };
  if (access.current.tenantId !== parsed.data.tenantId) return { ok: false, message: NOT_A_MEMBER };
  (await cookies()).set(TENANT_COOKIE, parsed.data.tenantId, tenantCookieOptions());
  redirect('/performance');
}
