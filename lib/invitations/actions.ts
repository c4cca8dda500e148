'use server';
// Answering an invitation link, and the password-reset link's actions. Not
// tenantActions: the person is not a member yet (or not signed in at all);
// the database functions check the link itself.
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import type { ActionResult } from '@/lib/request/result';
import { getSessionUserId, TENANT_COOKIE, tenantCookieOptions } from '@/lib/tenancy/session';
import { completePasswordReset, requestPasswordReset } from '@/lib/account/reset';
import { acceptWithNewPassword, answerAsSignedIn, type Joined } from './mutations';

export async function acceptInvitationWithPasswordAction(_previous: ActionResult<Joined> | null, formData: FormData): Promise<ActionResult<Joined>> {
  const result = await acceptWithNewPassword(formData);
  // The form signs in with the password just chosen; land in the tenant that invited.
  if (result.ok && result.data) (await cookies()).set(TENANT_COOKIE, result.data.tenantId, tenantCookieOptions());
  return result;
}

export async function acceptInvitationAction(_previous: ActionResult | null, formData: FormData): Promise<ActionResult> {
  const result = await answerAsSignedIn(await getSessionUserId(), 'accept', formData);
  if (!result.ok) return result;
  if (!result.data) return { ok: false, message: 'The invitation could not be accepted. Reload the page and try again.' };
  (await cookies()).set(TENANT_COOKIE, result.data.tenantId, tenantCookieOptions());
  redirect('/performance');
}

export async function declineInvitationAction(_previous: ActionResult | null, formData: FormData): Promise<ActionResult> {
  const result = await answerAsSignedIn(await getSessionUserId(), 'decline', formData);
  return result.ok ? { ok: true, message: result.message } : result;
}

export async function requestPasswordResetAction(_previous: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return requestPasswordReset(formData);
}

export async function completePasswordResetAction(
  _previous: ActionResult<{ email: string }> | null,
  formData: FormData,
): Promise<ActionResult<{ email: string }>> {
  return completePasswordReset(formData);
}
