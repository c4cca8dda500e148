// The mails of emailed links: an invitation to a tenant and a password reset.
// Sent after the transaction that stored the link commits; a delivery that
// fails is reported to the caller (the link stays valid and can be resent).
import 'server-only';
import { publicBaseUrl } from '@/lib/auth/link-token';
import type { Db } from '@/lib/db';
import { sendMail, type SendMailResult } from '@/lib/mail/send';
import { ROLE_LABEL, type Role } from '@/lib/tenancy/roles';

export interface InvitationMail {
  tenantId: string;
  tenantName: string;
  inviter: { email: string; name: string | null };
  email: string;
  role: Role;
  /** `<id>.<secret>`: never stored, only mailed. */
  token: string;
}

export function invitationLink(token: string): string {
  return `${publicBaseUrl()}/invite/${token}`;
}

export async function sendInvitationMail(m: InvitationMail, db?: Db): Promise<boolean> {
  const who = m.inviter.name ? `${m.inviter.name} (${m.inviter.email})` : m.inviter.email;
  const r = await sendMail({
    tenantId: m.tenantId,
    kind: 'invitation',
    to: m.email,
    subject: `You are invited to ${m.tenantName} on AEGIS Media Buying`,
    text: [
      `${who} invites you to join ${m.tenantName} on AEGIS Media Buying as ${ROLE_LABEL[m.role]}.`,
      '',
      'To accept, open this link (it works once, for 72 hours):',
      invitationLink(m.token),
      '',
      'If you did not expect this invitation, ignore this mail: nothing happens unless you accept.',
    ].join('\n'),
  }, db);
  return handedOver(r);
}

/** Sent, or kept in the outbox where no mail server is configured (the demo): either way the person can be reached. */
function handedOver(r: SendMailResult): boolean {
  return r.ok && r.status !== 'failed';
}

export function resetLink(token: string): string {
  return `${publicBaseUrl()}/reset-password/${token}`;
}

export async function sendPasswordResetMail(email: string, token: string, db?: Db): Promise<boolean> {
  const r = await sendMail({
    tenantId: null,
    kind: 'password_reset',
    to: email,
    subject: 'Reset your AEGIS Media Buying password',
    text: [
      'Someone (we hope you) asked to reset the password of this account.',
      '',
      'To choose a new password, open this link (it works once, for one hour):',
      resetLink(token),
      '',
      'If it was not you, ignore this mail: your password stays as it is.',
    ].join('\n'),
  }, db);
  return handedOver(r);
}
