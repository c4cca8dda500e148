-- AEGIS accounts that prove their email, the one-time part: when an account's
-- owner proved control of its email (an invitation link, a reset link, or
-- single sign-on with a verified email), a session version that ends every
-- session when it moves, invitations (a single-use emailed link: nobody joins
-- an organisation without accepting), and password-reset links.
--
-- Tokens are never stored: only the SHA-256 of the secret part of a link.
-- The functions that use these tables (look-up and acceptance by token, before
-- a tenant is known) are in db/functions/invitations.sql.
--
-- Idempotent: objects are created when missing and policies replaced.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_INVITATIONS_START', 'started', '004_invitations: verified emails, session versions, invitations, password resets');

-- ---------------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------------
ALTER TABLE saas.users ADD COLUMN IF NOT EXISTS email_verified_at timestamptz;
ALTER TABLE saas.users ADD COLUMN IF NOT EXISTS session_version integer NOT NULL DEFAULT 1;
COMMENT ON COLUMN saas.users.email_verified_at IS
  'When the owner of the account proved control of its email (invitation or reset link, or single sign-on with a '
  'verified email); NULL for an account nobody has proved, which counts as nobody''s: an accepted invitation to its '
  'email replaces its credentials.';
COMMENT ON COLUMN saas.users.session_version IS
  'Carried in every session token and checked on every request: a password change, a reset or replaced credentials '
  'move it, which ends every other session of the account.';

-- Accounts linked to single sign-on were linked only with a verified email.
UPDATE saas.users SET email_verified_at = created_at
WHERE email_verified_at IS NULL AND sso_subject IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Invitations: tenant data (an admin lists, resends and revokes them under
-- the tenant policy); the invitee reaches one by its link only, through the
-- SECURITY DEFINER functions of db/functions/invitations.sql.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS saas.invitations (
  tenant_id     uuid             NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id            uuid             NOT NULL DEFAULT gen_random_uuid(),
  email         text             NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%' AND length(email) <= 320),
  role          saas.member_role NOT NULL,
  token_hash    bytea            NOT NULL CHECK (length(token_hash) = 32),
  invited_by    uuid             REFERENCES saas.users (id) ON DELETE SET NULL,
  created_at    timestamptz      NOT NULL DEFAULT now(),
  sent_at       timestamptz      NOT NULL DEFAULT now(),
  expires_at    timestamptz      NOT NULL,
  accepted_at   timestamptz,
  accepted_by   uuid             REFERENCES saas.users (id) ON DELETE SET NULL,
  declined_at   timestamptz,
  revoked_at    timestamptz,
  revoked_by    uuid             REFERENCES saas.users (id) ON DELETE SET NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK (num_nonnulls(accepted_at, declined_at, revoked_at) <= 1)
);
-- The link carries the invitation id: the look-up before a tenant is known.
CREATE INDEX IF NOT EXISTS invitations_id_idx ON saas.invitations (id);
-- One open invitation per email and tenant (a resend renews it).
CREATE UNIQUE INDEX IF NOT EXISTS invitations_open_key ON saas.invitations (tenant_id, email)
  WHERE accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL;
COMMENT ON TABLE saas.invitations IS
  'Invitations to join a tenant with a role, sent by email as a single-use link (/invite/<id>.<secret>) valid 72 hours. '
  'Only the SHA-256 of the secret is kept. Open while not accepted, declined, revoked or expired.';
CALL aegis_deploy.isolate_by_tenant('saas.invitations');
GRANT SELECT, INSERT, UPDATE ON saas.invitations TO aegis_app;

-- ---------------------------------------------------------------------------
-- Password resets: not tenant data (an account may belong to no tenant, and
-- a reset happens signed out). The app role has no privilege on the table.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS saas.password_resets (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid        NOT NULL REFERENCES saas.users (id) ON DELETE CASCADE,
  token_hash  bytea       NOT NULL CHECK (length(token_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX IF NOT EXISTS password_resets_user_idx ON saas.password_resets (user_id, created_at);
COMMENT ON TABLE saas.password_resets IS
  'Password-reset links (/reset-password/<id>.<secret>), valid one hour, single use; only the SHA-256 of the secret is '
  'kept. Written and read only by the functions of db/functions/invitations.sql.';
ALTER TABLE saas.password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE saas.password_resets FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS definer_only ON saas.password_resets;
CREATE POLICY definer_only ON saas.password_resets FOR ALL TO aegis_owner USING (true) WITH CHECK (true);
REVOKE ALL ON saas.password_resets FROM PUBLIC, aegis_app;

-- The functions find an invitation by its link before its tenant is known,
-- and lock and close it. These policies name aegis_owner: the app role gets
-- nothing from them.
DROP POLICY IF EXISTS definer_read ON saas.invitations;
CREATE POLICY definer_read ON saas.invitations FOR SELECT TO aegis_owner USING (true);
DROP POLICY IF EXISTS definer_write ON saas.invitations;
CREATE POLICY definer_write ON saas.invitations FOR UPDATE TO aegis_owner USING (true) WITH CHECK (true);

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_INVITATIONS', 'success', 'saas.users verified email and session version, saas.invitations, saas.password_resets present');

COMMIT;
