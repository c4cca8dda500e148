// Member management input, shared by the forms and the server actions.
import { z } from 'zod';
import { ROLES } from '@/lib/tenancy/roles';

const role = z.enum(ROLES as ['viewer', 'buyer', 'admin'], { error: 'Choose a role.' });
const userId = z.uuid({ error: 'Unknown member.' });

export const addMemberSchema = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .min(1, { error: 'Enter an email address.' })
    .max(320, { error: 'That email address is too long.' })
    .pipe(z.email({ error: 'Enter a valid email address, like name@example.com.' })),
  name: z
    .string()
    .trim()
    .max(200, { error: 'Keep the name under 200 characters.' })
    .optional()
    .transform((v) => (v ? v : null)),
  role,
});

export const changeRoleSchema = z.object({ userId, role });

export const removeMemberSchema = z.object({ userId });

export const resetPasswordSchema = z.object({ userId });

export type AddMemberInput = z.output<typeof addMemberSchema>;
