'use server';
// Member management server actions (admin only), each through tenantAction.
import { tenantAction } from '@/lib/request/action';
import { addMember as add, changeMemberRole as change, removeMember as remove, resetMemberPassword as reset } from './mutations';
import { addMemberSchema, changeRoleSchema, removeMemberSchema, resetPasswordSchema } from './schema';

export const addMemberAction = tenantAction(addMemberSchema, 'admin', add);
export const changeMemberRoleAction = tenantAction(changeRoleSchema, 'admin', change);
// Not revalidated: the member's page would turn into "not found" under the confirmation.
export const removeMemberAction = tenantAction(removeMemberSchema, 'admin', remove, { revalidate: false });
export const resetMemberPasswordAction = tenantAction(resetPasswordSchema, 'admin', reset);
