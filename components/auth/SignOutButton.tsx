'use client';
import { signOut } from 'next-auth/react';
import { useTransition } from 'react';

export function SignOutButton() {
  const [pending, start] = useTransition();
  return (
    <button
      type="button"
      className="button button-secondary button-small"
      disabled={pending}
      onClick={() => start(() => signOut({ callbackUrl: '/signin' }))}
    >
      {pending ? 'Signing out…' : 'Sign out'}
    </button>
  );
}
