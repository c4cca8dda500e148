// The change-password form's input, shared by the form and the server action.
import { z } from 'zod';

export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;

export const changePasswordSchema = z
  .object({
    currentPassword: z
      .string({ error: 'Enter your current password.' })
      .min(1, { error: 'Enter your current password.' })
      .max(MAX_PASSWORD_LENGTH, { error: 'That is not your current password.' }),
    newPassword: z
      .string({ error: `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.` })
      .min(MIN_PASSWORD_LENGTH, { error: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
      .max(MAX_PASSWORD_LENGTH, { error: `Keep it under ${MAX_PASSWORD_LENGTH} characters.` }),
    confirmPassword: z.string({ error: 'Type the new password again.' }),
  })
  .superRefine((v, ctx) => {
    if (v.newPassword && v.confirmPassword !== v.newPassword) {
      ctx.addIssue({ code: 'custom', path: ['confirmPassword'], message: 'The two new passwords differ.' });
    }
    if (v.newPassword && v.newPassword === v.currentPassword) {
      ctx.addIssue({ code: 'custom', path: ['newPassword'], message: 'Choose a password different from the current one.' });
    }
  });

export type ChangePasswordInput = z.output<typeof changePasswordSchema>;
