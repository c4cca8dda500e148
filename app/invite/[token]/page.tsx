// An invitation link: who invites whom to what, and the one way to answer it
// that fits the invited email's account (choose a password, or sign in and
// accept). Open signed out; the link itself is checked by the database.
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { ChoosePasswordForm } from '@/components/auth/ChoosePasswordForm';
import { SignOutButton } from '@/components/auth/SignOutButton';
import { AnswerInvitationForm } from '@/components/invitations/AnswerInvitationForm';
import { acceptInvitationWithPasswordAction } from '@/lib/invitations/actions';
import { lookupInvitation } from '@/lib/invitations/queries';
import { formatUtc } from '@/lib/format/time';
import { getAccess } from '@/lib/tenancy/session';
import { ROLE_LABEL } from '@/lib/tenancy/roles';

export const metadata: Metadata = { title: 'Invitation' };

const CLOSED: Record<string, string> = {
  expired: 'This invitation has expired. Ask the person who invited you to send it again.',
  accepted: 'This invitation has already been accepted.',
  declined: 'This invitation was declined.',
  revoked: 'This invitation was withdrawn by the organisation.',
};

export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const invitation = await lookupInvitation(decodeURIComponent(token));
  // An unknown link answers 404 (./not-found.tsx); a known one that is closed says why.
  if (!invitation) notFound();
  if (invitation.status !== 'open') {
    return (
      <main className="signin">
        <h1>Invitation</h1>
        <p className="notice notice-error" role="alert">
          {CLOSED[invitation.status]}
        </p>
        <p>
          <Link href="/signin">Sign in</Link>
        </p>
      </main>
    );
  }
  const access = await getAccess();
  const signedInAs = access?.user.email ?? null;
  const callback = `/invite/${token}`;
  let body;
  if (invitation.account === 'disabled') {
    body = <p className="notice notice-error" role="alert">The account of {invitation.email} is disabled, so it cannot join.</p>;
  } else if (invitation.account === 'verified') {
    body =
      signedInAs === invitation.email ? (
        <AnswerInvitationForm token={token} tenantName={invitation.tenantName} />
      ) : signedInAs ? (
        <>
          <p>
            You are signed in as <strong>{signedInAs}</strong>, but this invitation is for <strong>{invitation.email}</strong>. Sign
            out, then sign in as {invitation.email} to answer it.
          </p>
          <SignOutButton />
        </>
      ) : (
        <>
          <p>This email already has an account: sign in with it to accept or decline.</p>
          <p>
            <Link className="button" href={`/signin?callbackUrl=${encodeURIComponent(callback)}`}>
              Sign in to answer
            </Link>
          </p>
        </>
      );
  } else {
    body = (
      <>
        <p>Choose a password for {invitation.email}: you will sign in with it from now on.</p>
        <ChoosePasswordForm action={acceptInvitationWithPasswordAction} token={token} email={invitation.email} askName submitLabel="Create my account and join" />
      </>
    );
  }
  return (
    <main className="signin">
      <h1>Join {invitation.tenantName}</h1>
      <p>
        {invitation.invitedBy ? `${invitation.invitedBy} invites` : 'You are invited'} <strong>{invitation.email}</strong> to{' '}
        {invitation.tenantName} on AEGIS Media Buying as <strong>{ROLE_LABEL[invitation.role]}</strong>. The link works until{' '}
        <time dateTime={invitation.expiresAt}>{formatUtc(invitation.expiresAt, 'minutes')}</time>.
      </p>
      {body}
    </main>
  );
}
