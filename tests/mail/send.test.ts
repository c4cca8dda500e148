// sendMail against a real SMTP server on loopback and the real outbox table:
// what arrives (To, From, Subject, body), what the row keeps (no body once a
// mail server has it), a server that is down or refuses the recipient (a
// result, never a throw), the demo mode without SMTP_URL (body kept and
// printed), and header injection refused before anything is written.
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sendMail } from '../../lib/mail/send';
import { DEFAULT_MAIL_FROM, MailConfigError, mailServerStatus, readMailConfig, resetTransportForTests } from '../../lib/mail/transport';
import type { Db } from '../../lib/db/pool';
import type { SaasMailOutbox } from '../../lib/db/schema.generated';
import { appKysely } from '../helpers/app-db';
import { createTenant, ownerPool } from '../helpers/db';
import { startSmtp, type TestSmtp } from '../helpers/smtp';

type OutboxRecord = Pick<
  Selectable<SaasMailOutbox>,
  'tenant_id' | 'kind' | 'to_address' | 'subject' | 'body_text' | 'transport' | 'sent_at' | 'attempts' | 'last_error'
>;

let owner: pg.Pool;
let db: Db;
let tenant: string;
let smtp: TestSmtp;
const saved = { SMTP_URL: process.env.SMTP_URL, MAIL_FROM: process.env.MAIL_FROM };
const LOGIN = { user: 'mailer', pass: 'p@ss:word' };
const FROM = 'AEGIS Test <no-reply@aegis.test>';
// Longer than a mail line (76): exercises the transfer encoding on the way.
const LINK = `https://ads.example.test/invitations/accept?token=${'t'.repeat(90)}`;

async function row(id: number): Promise<OutboxRecord> {
  const r = await owner.query<OutboxRecord>(
    'select tenant_id, kind, to_address, subject, body_text, transport, sent_at, attempts, last_error from saas.mail_outbox where id = $1',
    [id],
  );
  return r.rows[0]!;
}

async function rowsTo(address: string): Promise<number> {
  const r = await owner.query<{ n: number }>('select count(*)::int as n from saas.mail_outbox where to_address = $1', [address]);
  return r.rows[0]!.n;
}

function useSmtp(port: number, login: { user: string; pass: string } | null = LOGIN): void {
  const auth = login ? `${encodeURIComponent(login.user)}:${encodeURIComponent(login.pass)}@` : '';
  process.env.SMTP_URL = `smtp://${auth}127.0.0.1:${port}`;
  process.env.MAIL_FROM = FROM;
  resetTransportForTests();
}

function useNoSmtp(): void {
  delete process.env.SMTP_URL;
  delete process.env.MAIL_FROM;
  resetTransportForTests();
}

const address = (tag: string) => `${tag}-${randomUUID().slice(0, 8)}@invitee.test`;

beforeAll(async () => {
  owner = ownerPool();
  db = appKysely().db;
  tenant = await createTenant(owner, 'Mail tenant');
  smtp = await startSmtp({ login: LOGIN, rejectRecipient: (a) => a.startsWith('nobody-') });
});

afterAll(async () => {
  await smtp.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetTransportForTests();
});

beforeEach(() => {
  smtp.received.length = 0;
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('with a mail server (SMTP_URL)', () => {
  beforeEach(() => useSmtp(smtp.port));

  it('delivers the message with To, From (MAIL_FROM), Subject and text; the row is marked sent and keeps no body', async () => {
    const to = address('invitee');
    const text = `You are invited to Mail tenant.\n\nAccept: ${LINK}\n\nThe link works once, for 7 days.`;
    const r = await sendMail({ tenantId: tenant, kind: 'invitation', to, subject: 'You are invited to Mail tenant', text }, db);

    expect(r).toEqual({ ok: true, delivered: true, status: 'sent', id: expect.any(Number) });
    expect(smtp.received).toHaveLength(1);
    const m = smtp.received[0]!;
    expect(smtp.logins).toContain(LOGIN.user); // the credentials of SMTP_URL, decoded
    expect(m.envelopeTo).toEqual([to]);
    expect(m.envelopeFrom).toBe('no-reply@aegis.test');
    expect(m.headers.get('to')).toBe(to);
    expect(m.headers.get('from')).toBe(FROM);
    expect(m.headers.get('subject')).toBe('You are invited to Mail tenant');
    expect(m.text).toBe(text);

    if (!r.ok) throw new Error('unreachable');
    const stored = await row(r.id);
    expect(stored).toMatchObject({ tenant_id: tenant, kind: 'invitation', to_address: to, transport: 'smtp', body_text: null, attempts: 1, last_error: null });
    expect(stored.sent_at).toBeInstanceOf(Date);
  });

  it('sends system mail (no tenant) and marks its row sent', async () => {
    const to = address('reset');
    const r = await sendMail({ tenantId: null, kind: 'password_reset', to, subject: 'Reset your password', text: `Reset: ${LINK}` }, db);
    expect(r).toMatchObject({ ok: true, delivered: true, status: 'sent' });
    expect(smtp.received.map((m) => m.headers.get('subject'))).toEqual(['Reset your password']);
    if (!r.ok) throw new Error('unreachable');
    expect(await row(r.id)).toMatchObject({ tenant_id: null, transport: 'smtp', body_text: null, attempts: 1, last_error: null, sent_at: expect.any(Date) });
  });

  it('a recipient the server refuses: delivered false with the error, recorded on the row', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const to = address('nobody');
    const r = await sendMail({ tenantId: tenant, kind: 'invitation', to, subject: 'Hello', text: 'Hi' }, db);
    expect(r).toMatchObject({ ok: true, delivered: false, status: 'failed' });
    if (r.ok && r.status === 'failed') {
      expect(r.error).toMatch(/does not exist|rejected/);
      const stored = await row(r.id);
      expect(stored).toMatchObject({ sent_at: null, attempts: 1, body_text: null });
      expect(stored.last_error).toBe(r.error);
    } else {
      throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
    }
    expect(smtp.received).toEqual([]);
    // The server log names the message by id and kind, never its body.
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/^\[mail\] message \d+ \(invitation\) was not delivered: /));
  });

  it('a server that is down (connection refused): delivered false, the row records the error, nothing throws', async () => {
    const down = await startSmtp();
    const port = down.port;
    await down.close();
    useSmtp(port, null);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);

    const to = address('down');
    const r = await sendMail({ tenantId: tenant, kind: 'invitation', to, subject: 'Hello', text: `Accept: ${LINK}` }, db);
    expect(r).toMatchObject({ ok: true, delivered: false, status: 'failed', error: expect.stringMatching(/ECONNREFUSED/) });
    if (!r.ok) throw new Error('unreachable');
    expect(await row(r.id)).toMatchObject({
      transport: 'smtp',
      body_text: null,
      sent_at: null,
      attempts: 1,
      last_error: expect.stringMatching(/ECONNREFUSED/),
    });
    // The same for system mail, marked in a transaction with no tenant.
    const sys = await sendMail({ tenantId: null, kind: 'password_reset', to, subject: 'Reset', text: 'x' }, db);
    expect(sys).toMatchObject({ ok: true, delivered: false, status: 'failed' });
    if (sys.ok) expect(await row(sys.id)).toMatchObject({ tenant_id: null, attempts: 1, last_error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('refuses header injection (CR/LF in the subject or the address) with a field message, and writes and sends nothing', async () => {
    const to = address('inject');
    const subject = await sendMail({ tenantId: tenant, kind: 'invitation', to, subject: 'Hello\r\nBcc: x@y.test', text: 'Hi' }, db);
    expect(subject).toMatchObject({ ok: false, delivered: false, fieldErrors: { subject: [expect.stringMatching(/single line/)] } });
    const bcc = `${to}\r\nBcc: x@y.test`;
    const toField = await sendMail({ tenantId: tenant, kind: 'invitation', to: bcc, subject: 'Hello', text: 'Hi' }, db);
    expect(toField).toMatchObject({ ok: false, fieldErrors: { to: [expect.stringMatching(/single line/)] } });
    expect(await rowsTo(to)).toBe(0);
    expect(await rowsTo(bcc)).toBe(0);
    expect(smtp.received).toEqual([]);
  });

  it('refuses other malformed input: bad address, empty or long subject, bad kind, a tenant that is not a uuid', async () => {
    const base = { tenantId: tenant, kind: 'invitation', to: address('ok'), subject: 'Hi', text: 'Body' };
    expect(await sendMail({ ...base, to: 'not-an-address' }, db)).toMatchObject({ ok: false, fieldErrors: { to: [expect.any(String)] } });
    expect(await sendMail({ ...base, subject: '  ' }, db)).toMatchObject({ ok: false, fieldErrors: { subject: [expect.any(String)] } });
    expect(await sendMail({ ...base, subject: 'x'.repeat(201) }, db)).toMatchObject({ ok: false, fieldErrors: { subject: [expect.any(String)] } });
    expect(await sendMail({ ...base, kind: 'Invitation!' }, db)).toMatchObject({ ok: false, fieldErrors: { kind: [expect.any(String)] } });
    expect(await sendMail({ ...base, tenantId: 'tenant-a' }, db)).toMatchObject({ ok: false, fieldErrors: { tenantId: [expect.any(String)] } });
    expect(await sendMail({ ...base, text: '' }, db)).toMatchObject({ ok: false, fieldErrors: { text: [expect.any(String)] } });
    expect(await rowsTo(base.to)).toBe(0);
    expect(smtp.received).toEqual([]);
  });

  it('says which server the page names, never the URL (it holds the password)', () => {
    expect(mailServerStatus()).toEqual({ kind: 'smtp', host: '127.0.0.1' });
  });
});

describe('without a mail server (demo, local runs)', () => {
  beforeEach(() => useNoSmtp());

  it('keeps the body in the outbox (transport outbox) and prints the message to the server log', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const to = address('demo');
    const text = `You are invited.\nAccept: ${LINK}`;
    const r = await sendMail({ tenantId: tenant, kind: 'invitation', to, subject: 'You are invited', text }, db);
    expect(r).toEqual({ ok: true, delivered: false, status: 'kept', id: expect.any(Number) });
    expect(log).toHaveBeenCalledWith(`[mail] to ${to}: You are invited\n${text}`);
    if (!r.ok) throw new Error('unreachable');
    expect(await row(r.id)).toMatchObject({ tenant_id: tenant, transport: 'outbox', body_text: text, sent_at: null, attempts: 0, last_error: null });
    expect(smtp.received).toEqual([]);
    expect(mailServerStatus()).toEqual({ kind: 'outbox' });
  });

  it('keeps system mail too', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const to = address('demo-reset');
    const r = await sendMail({ tenantId: null, kind: 'password_reset', to, subject: 'Reset your password', text: `Reset: ${LINK}` }, db);
    expect(r).toMatchObject({ ok: true, status: 'kept' });
    if (r.ok) expect(await row(r.id)).toMatchObject({ tenant_id: null, transport: 'outbox', body_text: `Reset: ${LINK}` });
  });
});

describe('configuration (SMTP_URL, MAIL_FROM)', () => {
  it('reads smtp:// and smtps:// URLs with their default ports, and the default sender', () => {
    expect(readMailConfig({})).toEqual({ smtp: null, from: DEFAULT_MAIL_FROM });
    expect(readMailConfig({ SMTP_URL: 'smtp://u:p@mail.example.test' }).smtp).toMatchObject({ host: 'mail.example.test', port: 587, secure: false });
    expect(readMailConfig({ SMTP_URL: 'smtps://mail.example.test' }).smtp).toMatchObject({ port: 465, secure: true });
    expect(readMailConfig({ SMTP_URL: 'smtp://mail.example.test:2525', MAIL_FROM: 'ops@example.test' })).toMatchObject({
      smtp: { port: 2525 },
      from: 'ops@example.test',
    });
  });

  it('refuses a bad value with an error naming the variable, without repeating the URL', () => {
    const bad = (env: Record<string, string>) => {
      try {
        readMailConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(MailConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ SMTP_URL: 'https://u:secret@mail.example.test' })).toMatch(/^SMTP_URL must start with smtp:\/\/ or smtps:\/\//);
    expect(bad({ SMTP_URL: 'not a url secret' })).toMatch(/^SMTP_URL is not a valid URL/);
    expect(bad({ SMTP_URL: 'not a url secret' })).not.toMatch(/secret/);
    expect(bad({ MAIL_FROM: 'AEGIS <no-reply@x.test>\r\nBcc: a@b.test' })).toMatch(/^MAIL_FROM must be one line/);
    expect(bad({ MAIL_FROM: 'AEGIS' })).toMatch(/^MAIL_FROM must be an address/);
  });

  it('sendMail fails loudly on a bad SMTP_URL (a deployment error), and writes nothing', async () => {
    process.env.SMTP_URL = 'http://mail.example.test';
    resetTransportForTests();
    const to = address('config');
    await expect(sendMail({ tenantId: tenant, kind: 'invitation', to, subject: 'Hi', text: 'x' }, db)).rejects.toThrow(/SMTP_URL/);
    expect(await rowsTo(to)).toBe(0);
    expect(mailServerStatus()).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/SMTP_URL/) });
    useNoSmtp();
  });
});
