// Account input, shared by the forms and the server actions: change password,
// choose one from an emailed link (invitation, reset), ask for a reset link.
import { z } from 'zod';

export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;
export const MAX_EMAIL_LENGTH = 320;

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** An email address as accounts store it: trimmed, lower-cased, bounded, no control characters. */
export const emailField = z
  .string({ error: 'Enter an email address.' })
  .trim()
  .toLowerCase()
  .min(1, { error: 'Enter an email address.' })
  .max(MAX_EMAIL_LENGTH, { error: 'That email address is too long.' })
  .refine((v) => !CONTROL_CHARS.test(v), { error: 'An email address cannot contain control characters.' })
  .pipe(z.email({ error: 'Enter a valid email address, like name@example.com.' }));

const newPassword = z
  .string({ error: `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.` })
  .min(MIN_PASSWORD_LENGTH, { error: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
  .max(MAX_PASSWORD_LENGTH, { error: `Keep it under ${MAX_PASSWORD_LENGTH} characters.` });
const confirmPassword = z.string({ error: 'Type the new password again.' });

function confirmed(v: { newPassword?: string; confirmPassword?: string }, ctx: z.RefinementCtx) {
  if (v.newPassword && v.confirmPassword !== v.newPassword) {
    ctx.addIssue({ code: 'custom', path: ['confirmPassword'], message: 'The two new passwords differ.' });
  }
}

export const changePasswordSchema = z
  .object({
    currentPassword: z
      .string({ error: 'Enter your current password.' })
      .min(1, { error: 'Enter your current password.' })
      .max(MAX_PASSWORD_LENGTH, { error: 'That is not your current password.' }),
    newPassword,
    confirmPassword,
  })
  .superRefine((v, ctx) => {
    confirmed(v, ctx);
    if (v.newPassword && v.newPassword === v.currentPassword) {
      ctx.addIssue({ code: 'custom', path: ['newPassword'], message: 'Choose a password different from the current one.' });
    }
  });

export type ChangePasswordInput = z.output<typeof changePasswordSchema>;

/** The token of an emailed link, checked again (parseLinkToken) by the action. */
const token = z.string({ error: 'This link is incomplete.' }).min(1, { error: 'This link is incomplete.' }).max(100, { error: 'This link is not valid.' });

export const forgotPasswordSchema = z.object({ email: emailField });

export const resetPasswordSchema = z.object({ token, newPassword, confirmPassword }).superRefine(confirmed);

export const acceptInvitationSchema = z
  .object({
    token,
    name: z
      .string({ error: 'Enter your name as text.' })
      .trim()
      .max(200, { error: 'Keep the name under 200 characters.' })
      .refine((v) => !CONTROL_CHARS.test(v), { error: 'A name cannot contain control characters.' })
      .refine((v) => v.isWellFormed(), { error: 'The name contains a broken character (half of an emoji): type it again.' })
      .optional()
      .transform((v) => (v ? v : null)),
    newPassword,
    confirmPassword,
  })
  .superRefine(confirmed);

export const invitationTokenSchema = z.object({ token });
