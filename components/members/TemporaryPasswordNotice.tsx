// A temporary password, shown once to the admin who created or reset it.
import { formatUtc } from '@/lib/format/time';
import type { TemporaryPassword } from '@/lib/members/mutations';

export function TemporaryPasswordNotice({ temporary }: { temporary: TemporaryPassword }) {
  return (
    <div className="one-time" role="region" aria-label="Temporary password">
      <p>
        Temporary password for <strong>{temporary.email}</strong>. Copy it now and hand it over safely: it will not be
        shown again. It works until <time dateTime={temporary.expiresAt}>{formatUtc(temporary.expiresAt, 'minutes')}</time>, and they
        must choose their own password when they first sign in.
      </p>
      <code className="secret">{temporary.password}</code>
    </div>
  );
}
