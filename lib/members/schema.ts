// Member management input, shared by the forms and the server actions.
import { z } from 'zod';
import { emailField } from '@/lib/account/schema';
import { ROLES } from '@/lib/tenancy/roles';

const role = z.enum(ROLES as ['viewer', 'buyer', 'admin'], { error: 'Choose a role.' });
const userId = z.uuid({ error: 'Unknown member.' });

export const inviteMemberSchema = z.object({ email: emailField, role });

export const invitationSchema = z.object({ invitationId: z.uuid({ error: 'Unknown invitation.' }) });

export const changeRoleSchema = z.object({ userId, role });

export const removeMemberSchema = z.object({ userId });

export type InviteMemberInput = z.output<typeof inviteMemberSchema>;
