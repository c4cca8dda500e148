// What the sign-in page may say. The server reports a refusal as a CODE (the
// ?error= of next-auth's redirect, or signIn()'s res.error), never as text:
// the page maps codes through this fixed list and says "Sign-in failed. Try
// again." for anything else, so no text put in a link is ever shown. Shared by
// the server (lib/auth/credentials.ts, sso.ts, options.ts) and the browser
// (components/auth/SignInForm.tsx): no server-only imports here.

/** Our own codes, thrown by authorize and the single-sign-on signIn callback. */
export const SIGN_IN_MESSAGES = {
  invalid: 'Email or password is incorrect.',
  expired: 'Your temporary password has expired. Ask an admin of your organisation for a new one.',
  'bad-email': 'That email address contains characters that are not allowed (such as line breaks or control characters).',
  throttled: 'Too many attempts, try again later.',
  'sso-no-subject': 'Single sign-on did not say who you are. Try again.',
  'sso-unverified': 'Your identity provider has not verified your email address, so it cannot sign you in here.',
  'sso-disabled': 'This account is disabled.',
  'sso-other-identity': 'This email address is already linked to another single-sign-on identity.',
  'sso-race': 'Single sign-on could not finish (the account changed meanwhile). Try again.',
  failed: 'Sign-in failed. Try again.',
} as const;

export type SignInErrorCode = keyof typeof SIGN_IN_MESSAGES;

/** The codes next-auth itself puts in ?error=. */
const NEXT_AUTH_MESSAGES: Record<string, string> = {
  CredentialsSignin: SIGN_IN_MESSAGES.invalid,
  AccessDenied: 'This account cannot sign in here.',
  OAuthSignin: 'Single sign-on is not reachable right now. Try again, or use your password.',
  OAuthCallback: 'Single sign-on did not complete. Try again.',
  SessionRequired: 'Sign in to continue.',
  Configuration: 'Sign-in is misconfigured on the server. Tell your administrator.',
};

export const GENERIC_SIGN_IN_ERROR = SIGN_IN_MESSAGES.failed;

/** The wait, in words: seconds under a minute, else whole minutes rounded up. */
export function tooManyAttemptsMessage(retryAfterSeconds: number): string {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  if (seconds < 60) return `Too many attempts, try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
  const minutes = Math.ceil(seconds / 60);
  return `Too many attempts, try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/** 'throttled:<seconds>' carries the wait; capped at a day so the text stays sane. */
export function throttledCode(retryAfterSeconds: number): string {
  return `throttled:${Math.min(86_400, Math.max(1, Math.ceil(retryAfterSeconds)))}`;
}

const THROTTLED_RE = /^throttled:(\d{1,5})$/;

/** The message for a code; null for none; the generic message for anything not on the lists. */
export function describeSignInError(code: string | null | undefined): string | null {
  if (!code) return null;
  const wait = THROTTLED_RE.exec(code);
  if (wait) return tooManyAttemptsMessage(Number(wait[1]));
  if (Object.hasOwn(SIGN_IN_MESSAGES, code)) return SIGN_IN_MESSAGES[code as SignInErrorCode];
  if (Object.hasOwn(NEXT_AUTH_MESSAGES, code)) return NEXT_AUTH_MESSAGES[code]!;
  return GENERIC_SIGN_IN_ERROR;
}

/** The code of one of our messages (the single-sign-on refusals carry their text); 'failed' for any other. */
export function signInCodeOf(message: string): SignInErrorCode {
  const found = (Object.keys(SIGN_IN_MESSAGES) as SignInErrorCode[]).find((k) => SIGN_IN_MESSAGES[k] === message);
  return found ?? 'failed';
}
