// The new password and its confirmation, as every form that sets one asks
// for them (change, invitation, reset): same rules, hint and autocomplete.
import { MIN_PASSWORD_LENGTH } from '@/lib/account/schema';
import type { FieldErrors } from '@/lib/request/result';
import { TextField } from '@/components/ui/TextField';

export function NewPasswordFields({ idPrefix, label, confirmLabel, errors }: { idPrefix: string; label: string; confirmLabel: string; errors?: FieldErrors }) {
  return (
    <>
      <TextField
        id={`${idPrefix}-password`}
        name="newPassword"
        label={label}
        type="password"
        autoComplete="new-password"
        minLength={MIN_PASSWORD_LENGTH}
        required
        hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
        errors={errors?.newPassword}
        invalid={Boolean(errors?.newPassword)}
      />
      <TextField
        id={`${idPrefix}-confirm`}
        name="confirmPassword"
        label={confirmLabel}
        type="password"
        autoComplete="new-password"
        required
        errors={errors?.confirmPassword}
        invalid={Boolean(errors?.confirmPassword)}
      />
    </>
  );
}
