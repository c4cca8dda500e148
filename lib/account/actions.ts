'use server';
// The signed-in user's own account: changing the password. Not a tenantAction:
// it must work for an account still on a temporary password (which every
// tenant action refuses) and for one with no membership.
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import type { ActionResult } from '@/lib/request/result';
import { clientAddress, trustedProxyHops } from '@/lib/auth/client-address';
import { changePassword, type PasswordChanged } from './mutations';
import { getPreferredTenantId, getSessionUserId } from '@/lib/tenancy/session';
import { authOptions, SESSION_MAX_AGE } from '@/lib/auth/options';
import { keepThisSession } from '@/lib/auth/session-version';

export async function changePasswordAction(
  _previous: ActionResult<PasswordChanged> | null,
  formData: FormData,
): Promise<ActionResult<PasswordChanged>> {
  const result = await changePassword({
    userId: await getSessionUserId(),
    preferredTenantId: await getPreferredTenantId(),
    address: clientAddress(Object.fromEntries((await headers()).entries()), trustedProxyHops()),
    input: formData,
  });
  // Every other session of the account ends; this one goes on.
  if (result.ok && result.data) await keepThisSession(result.data.sessionVersion, authOptions().secret, SESSION_MAX_AGE);
  // After the first sign-in's forced change, on to the dashboard.
  if (result.ok && result.data?.wasTemporary) redirect('/performance');
  return result;
}
