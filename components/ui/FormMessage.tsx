import type { ActionResult } from '@/lib/request/result';

/** The form-level outcome: a polite status on success, an alert on failure. */
export function FormMessage({ state, id }: { state: ActionResult<unknown> | null; id?: string }) {
  return (
    <div id={id} aria-live="polite" className="form-message-slot">
      {state && state.message ? (
        <p className={state.ok ? 'notice notice-ok' : 'notice notice-error'} role={state.ok ? 'status' : 'alert'}>
          {state.message}
        </p>
      ) : null}
    </div>
  );
}
