import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { SignOutButton } from '@/components/auth/SignOutButton';
import { CHANGE_PASSWORD_PATH } from '@/lib/request/read-core';
import { getAccess } from '@/lib/tenancy/session';

export const metadata: Metadata = { title: 'No access' };

export default async function NoAccessPage() {
  const access = await getAccess();
  if (!access) redirect('/signin');
  if (access.mustChangePassword) redirect(CHANGE_PASSWORD_PATH);
  if (access.current) redirect('/performance');
  return (
    <main className="landing">
      <h1>No tenant yet</h1>
      <p>
        You are signed in as <strong>{access.user.email}</strong>, but you are not a member of any tenant, so there is
        nothing to show. Ask an admin of your organisation to add you on their Members page, then sign in again.
      </p>
      <SignOutButton />
    </main>
  );
}
