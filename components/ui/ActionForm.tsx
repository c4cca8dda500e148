'use client';
// A form bound to a server action through useActionState. It submits in a
// transition instead of letting React reset the form, so what the user typed
// stays in place when the server answers with field errors. Without
// JavaScript the plain form post still reaches the same action.
import { startTransition, type FormEvent, type ReactNode, type Ref } from 'react';

export function ActionForm({
  action,
  children,
  className,
  'aria-label': ariaLabel,
  ref,
}: {
  action: (formData: FormData) => void;
  children: ReactNode;
  className?: string;
  'aria-label'?: string;
  ref?: Ref<HTMLFormElement>;
}) {
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    // The button that submitted counts (Approve or Dismiss of one form), as in a plain post.
    const submitter = (e.nativeEvent as SubmitEvent).submitter;
    const data = new FormData(e.currentTarget, submitter instanceof HTMLButtonElement || submitter instanceof HTMLInputElement ? submitter : null);
    startTransition(() => action(data));
  };
  return (
    <form ref={ref} action={action} onSubmit={onSubmit} className={className} aria-label={ariaLabel} noValidate>
      {children}
    </form>
  );
}
