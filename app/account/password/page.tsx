// Change password: where an account on a temporary password is held until it
// chooses its own, and where anyone signed in may change theirs.
import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { ChangePasswordForm } from '@/components/auth/ChangePasswordForm';
import { SignOutButton } from '@/components/auth/SignOutButton';
import { CHANGE_PASSWORD_PATH } from '@/lib/request/read-core';
import { getAccess } from '@/lib/tenancy/session';

export const metadata: Metadata = { title: 'Change password' };

export default async function ChangePasswordPage() {
  const access = await getAccess();
  if (!access) redirect(`/signin?callbackUrl=${encodeURIComponent(CHANGE_PASSWORD_PATH)}`);
  return (
    <main className="signin">
      <h1>Change your password</h1>
      {access.mustChangePassword ? (
        <p className="notice notice-warn" role="note">
          You signed in with a temporary password. Choose your own to continue: nothing else opens until you do.
        </p>
      ) : (
        <p>
          <Link href="/performance">← Back to the dashboard</Link>
        </p>
      )}
      <p className="muted">
        Signed in as <strong>{access.user.email}</strong>.
      </p>
      <ChangePasswordForm email={access.user.email} />
      <p>
        <SignOutButton />
      </p>
    </main>
  );
}
