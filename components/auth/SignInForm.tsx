'use client';
// Email + password sign-in through next-auth (and the single-sign-on button
// when the server has an OIDC provider configured).
import { signIn } from 'next-auth/react';
import { useActionState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';

interface State {
  message: string | null;
  email: string;
}

const MESSAGES: Record<string, string> = {
  CredentialsSignin: 'Email or password is incorrect.',
  AccessDenied: 'This account cannot sign in here.',
  OAuthSignin: 'Single sign-on is not reachable right now. Try again, or use your password.',
  OAuthCallback: 'Single sign-on did not complete. Try again.',
  SessionRequired: 'Sign in to continue.',
  Configuration: 'Sign-in is misconfigured on the server. Tell your administrator.',
};

export function describeSignInError(code: string | null | undefined): string | null {
  if (!code) return null;
  // Messages of our own (e.g. the rate limit) arrive as sentences; next-auth's codes are single words.
  return MESSAGES[code] ?? (/\s/.test(code) ? code : 'Sign-in failed. Try again.');
}

export function SignInForm({ callbackUrl, initialError, sso }: { callbackUrl: string; initialError: string | null; sso: { name: string } | null }) {
  const [state, formAction, pending] = useActionState<State, FormData>(
    async (_previous, formData) => {
      const email = String(formData.get('email') ?? '').trim();
      const password = String(formData.get('password') ?? '');
      if (!email || !password) return { message: 'Enter your email and password.', email };
      const res = await signIn('credentials', { redirect: false, email, password, callbackUrl });
      if (!res || res.error || !res.ok) return { message: describeSignInError(res?.error ?? 'CredentialsSignin'), email };
      // A full navigation, so the server renders the next page with the new session cookie.
      window.location.assign(callbackUrl);
      return { message: null, email };
    },
    { message: describeSignInError(initialError), email: '' },
  );
  const errorId = 'signin-error';
  return (
    <div className="signin-card">
      <ActionForm action={formAction} aria-label="Sign in" className="form">
        <TextField
          id="email"
          name="email"
          label="Email"
          type="email"
          autoComplete="username"
          defaultValue={state.email}
          required
          errorId={errorId}
          invalid={Boolean(state.message)}
        />
        <TextField
          id="password"
          name="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          errorId={errorId}
          invalid={Boolean(state.message)}
        />
        <div id={errorId} aria-live="assertive" className="form-message-slot">
          {state.message ? (
            <p className="notice notice-error" role="alert">
              {state.message}
            </p>
          ) : null}
        </div>
        <SubmitButton pending={pending} pendingLabel="Signing in…">
          Sign in
        </SubmitButton>
      </ActionForm>
      {sso ? (
        <div className="sso">
          <p className="muted">or</p>
          <button type="button" className="button button-secondary" onClick={() => void signIn('oidc', { callbackUrl })}>
            Continue with {sso.name}
          </button>
        </div>
      ) : null}
    </div>
  );
}
