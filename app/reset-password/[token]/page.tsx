// A password-reset link: choose a new password. Every session of the
// account ends, and the email counts as verified (the link proved it).
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { ChoosePasswordForm } from '@/components/auth/ChoosePasswordForm';
import { completePasswordResetAction } from '@/lib/invitations/actions';
import { resetLinkEmail } from '@/lib/account/reset';

export const metadata: Metadata = { title: 'Choose a new password' };

export default async function ResetPasswordPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const email = await resetLinkEmail(decodeURIComponent(token));
  // A link that is unknown, used or expired answers 404 (./not-found.tsx).
  if (!email) notFound();
  return (
    <main className="signin">
      <h1>Choose a new password</h1>
      <p>
        For <strong>{email}</strong>. Every other session of this account ends.
      </p>
      <ChoosePasswordForm action={completePasswordResetAction} token={token} email={email} submitLabel="Set my password" />
      <p className="muted">
        <Link href="/forgot-password">Ask for a new link</Link> · <Link href="/signin">Sign in</Link>
      </p>
    </main>
  );
}
