// The error line under a field: always rendered (empty when fine) so screen
// readers announce it when it fills; the input points at it with aria-describedby.
export function FieldError({ id, errors }: { id: string; errors?: string[] }) {
  return (
    <p id={id} className="field-error" aria-live="polite">
      {errors?.join(' ')}
    </p>
  );
}
