'use client';
// Email + password sign-in through next-auth (and the single-sign-on button
// when the server has an OIDC provider configured).
import { signIn } from 'next-auth/react';
import { useActionState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { TextField } from '@/components/ui/TextField';
// Only known codes become messages: any other ?error= text shows the generic one.
import { describeSignInError } from '@/lib/auth/sign-in-errors';

interface State {
  message: string | null;
  email: string;
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
