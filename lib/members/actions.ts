'use server';
// Member management server actions (admin only), each through tenantAction.
import { tenantAction } from '@/lib/request/action';
import { changeMemberRole as change, inviteMember as invite, removeMember as remove, resendInvitation as resend, revokeInvitation as revoke } from './mutations';
import { changeRoleSchema, invitationSchema, inviteMemberSchema, removeMemberSchema } from './schema';

export const inviteMemberAction = tenantAction(inviteMemberSchema, 'admin', invite);
export const resendInvitationAction = tenantAction(invitationSchema, 'admin', resend);
export const revokeInvitationAction = tenantAction(invitationSchema, 'admin', revoke);
export const changeMemberRoleAction = tenantAction(changeRoleSchema, 'admin', change);
// Not revalidated: the member's page would turn into "not found" under the confirmation.
export const removeMemberAction = tenantAction(removeMemberSchema, 'admin', remove, { revalidate: false });
