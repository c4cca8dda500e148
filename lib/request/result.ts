// What a server action returns to its form. Shared by server and client code.

export type FieldErrors = Record<string, string[] | undefined>;

export type ActionResult<T = undefined> =
  | { ok: true; message?: string; data?: T }
  | { ok: false; message: string; fieldErrors?: FieldErrors };

/** The starting state of a form's useActionState. */
export const IDLE = null;
