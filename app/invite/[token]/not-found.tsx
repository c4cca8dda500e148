// An invitation link the database does not know: answered with a 404 status
// and the likely cause (a link cut short in the mail).
import Link from 'next/link';

export default function InvitationNotFound() {
  return (
    <main className="signin">
      <h1>Invitation</h1>
      <p className="notice notice-error" role="alert">
        This invitation link is not valid. Check that you opened the whole link from the mail.
      </p>
      <p>
        <Link href="/signin">Sign in</Link>
      </p>
    </main>
  );
}
