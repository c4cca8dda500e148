import type { Metadata } from 'next';
import Link from 'next/link';
import { ForgotPasswordForm } from '@/components/auth/ForgotPasswordForm';

export const metadata: Metadata = { title: 'Reset your password' };

export default function ForgotPasswordPage() {
  return (
    <main className="signin">
      <h1>Reset your password</h1>
      <p>Enter the email you sign in with. We send a link to choose a new password; it works once, for one hour.</p>
      <ForgotPasswordForm />
      <p className="muted">
        <Link href="/signin">Back to sign in</Link>
      </p>
    </main>
  );
}
