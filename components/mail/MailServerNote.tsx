// Says where this deployment's mail goes (SMTP_URL), without the URL itself.
import type { MailServerStatus } from '@/lib/mail/transport';

export function MailServerNote({ status }: { status: MailServerStatus }) {
  switch (status.kind) {
    case 'outbox':
      return (
        <p className="notice notice-warn">
          No mail server is configured (<code>SMTP_URL</code>): messages are kept here and printed in the server log instead of being sent — for
          the demo and local runs.
        </p>
      );
    case 'smtp':
      return (
        <p className="notice notice-ok">
          Mail is sent through <strong>{status.host}</strong> (<code>SMTP_URL</code>); bodies are not kept, since they carry single-use links.
        </p>
      );
    case 'invalid':
      return (
        <p className="notice notice-error" role="alert">
          Mail cannot be sent: {status.message}
        </p>
      );
  }
}
