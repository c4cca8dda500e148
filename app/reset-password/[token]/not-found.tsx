// A reset link that no longer works (unknown, used or expired): a 404 status,
// and the way to get a new one.
import Link from 'next/link';
import { RESET_LINK_INVALID } from '@/lib/account/reset';

export default function ResetLinkNotFound() {
  return (
    <main className="signin">
      <h1>Choose a new password</h1>
      <p className="notice notice-error" role="alert">
        {RESET_LINK_INVALID}
      </p>
      <p className="muted">
        <Link href="/forgot-password">Ask for a new link</Link> · <Link href="/signin">Sign in</Link>
      </p>
    </main>
  );
}
