// Where mail goes: the mail server of SMTP_URL (one nodemailer transport per
// process), or, without it, nowhere but the outbox table and the server log
// (the demo, local runs). Both variables are checked at first use, with an
// error naming the variable. Not server-only: scripts (the worker) may send too.
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

export const DEFAULT_MAIL_FROM = 'AEGIS <no-reply@localhost>';

/** Connection, greeting and socket timeouts: a stuck mail server fails the send instead of hanging the request. */
export const SMTP_TIMEOUT_MS = 10_000;

export interface SmtpServer {
  /** SMTP_URL as given (it may hold the password: never shown or logged). */
  url: string;
  host: string;
  port: number;
  /** smtps:// (TLS from the start) rather than smtp:// (STARTTLS when the server offers it). */
  secure: boolean;
}

export interface MailConfig {
  /** null: no mail server (SMTP_URL unset), messages are kept in the outbox and printed. */
  smtp: SmtpServer | null;
  /** The From header, e.g. `AEGIS <no-reply@ads.example.com>`. */
  from: string;
}

export class MailConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailConfigError';
  }
}

// One address, with no display name, spaces, angle brackets or line breaks.
// Looser than a form's check on purpose: no-reply@localhost is a fine sender.
const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+$/;
// Control characters (CR and LF among them) would let a value add mail headers.
const CONTROL = /[\u0000-\u001f\u007f]/;

function parseSmtpUrl(raw: string): SmtpServer {
  const example = 'smtp://user:password@mail.example.com:587 or smtps://user:password@mail.example.com:465';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // The value may hold a password: it is not repeated in the message.
    throw new MailConfigError(`SMTP_URL is not a valid URL; expected ${example}.`);
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') {
    throw new MailConfigError(`SMTP_URL must start with smtp:// or smtps:// (it starts with ${u.protocol}//); expected ${example}.`);
  }
  if (!u.hostname) throw new MailConfigError(`SMTP_URL names no host; expected ${example}.`);
  const secure = u.protocol === 'smtps:';
  // new URL() already refuses ports above 65535; an empty port means the default.
  const port = u.port ? Number(u.port) : secure ? 465 : 587;
  return { url: raw, host: u.hostname, port, secure };
}

function parseMailFrom(raw: string): string {
  const value = raw.trim();
  if (CONTROL.test(value)) throw new MailConfigError('MAIL_FROM must be one line (it contains a line break or another control character).');
  if (value.length > 320) throw new MailConfigError('MAIL_FROM is too long (320 characters at most).');
  const named = /^(.*?)\s*<([^<>]+)>$/.exec(value);
  const address = named ? named[2]! : value;
  if (!ADDRESS.test(address)) {
    throw new MailConfigError('MAIL_FROM must be an address, or a name and an address: AEGIS <no-reply@ads.example.com>.');
  }
  return value;
}

/** Reads and checks SMTP_URL and MAIL_FROM (from env, process.env by default); throws MailConfigError naming the variable. */
export function readMailConfig(env: Record<string, string | undefined> = process.env): MailConfig {
  const url = env.SMTP_URL?.trim();
  const from = env.MAIL_FROM?.trim();
  return { smtp: url ? parseSmtpUrl(url) : null, from: parseMailFrom(from || DEFAULT_MAIL_FROM) };
}

interface State {
  config: MailConfig;
  transporter: Transporter<SMTPTransport.SentMessageInfo> | null;
}

let state: State | undefined;

function current(): State {
  if (!state) {
    const config = readMailConfig();
    const transporter = config.smtp
      ? nodemailer.createTransport({
          url: config.smtp.url,
          connectionTimeout: SMTP_TIMEOUT_MS,
          greetingTimeout: SMTP_TIMEOUT_MS,
          socketTimeout: SMTP_TIMEOUT_MS,
        })
      : null;
    state = { config, transporter };
  }
  return state;
}

/** The process's mail configuration, checked on the first call. */
export function mailConfig(): MailConfig {
  return current().config;
}

/** The process's one SMTP transport, or null when no mail server is configured. */
export function smtpTransport(): Transporter<SMTPTransport.SentMessageInfo> | null {
  return current().transporter;
}

export type MailServerStatus =
  | { kind: 'outbox' }
  | { kind: 'smtp'; host: string }
  | { kind: 'invalid'; message: string };

/** What the outbox page says about delivery: never the URL itself (it may hold a password). */
export function mailServerStatus(): MailServerStatus {
  try {
    const { smtp } = mailConfig();
    return smtp ? { kind: 'smtp', host: smtp.host } : { kind: 'outbox' };
  } catch (err) {
    if (err instanceof MailConfigError) return { kind: 'invalid', message: err.message };
    throw err;
  }
}

/** Forget the configuration and close the transport, so the next use reads the environment again (tests). */
export function resetTransportForTests(): void {
  state?.transporter?.close();
  state = undefined;
}
