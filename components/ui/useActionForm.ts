'use client';
// useActionState for a form bound to a server action, plus what every such
// form wants: its field errors, and the form cleared after a success (a
// failure keeps what the user typed).
import { useActionState, useEffect, useRef } from 'react';
import type { ActionResult } from '@/lib/request/result';

export function useActionForm<T>(
  action: (previous: ActionResult<T> | null, formData: FormData) => Promise<ActionResult<T>>,
  { resetOnSuccess = true }: { resetOnSuccess?: boolean } = {},
) {
  const [state, formAction, pending] = useActionState(action, null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state?.ok && resetOnSuccess) formRef.current?.reset();
  }, [state, resetOnSuccess]);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  return { state, formAction, pending, formRef, errors };
}
