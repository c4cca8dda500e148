-- AEGIS sign-in support, the one-time part: the columns of temporary
-- passwords (accounts an admin creates must choose their own password within
-- 24 hours, and cannot be added to a second tenant before they have) and of
-- single-sign-on identities (issuer + subject), the table of login attempts
-- (rate limiting shared by every web instance), and the policies of the rule
-- that an account is changed only by its owner (or, for a temporary password,
-- by the admin of its only tenant).
--
-- The functions that use them (the look-ups that happen before a tenant is
-- known, the rate limit, the "last admin" rule) are in db/functions/auth.sql,
-- re-applied on every deploy after the numbered migrations.
--
-- Idempotent: objects are created when missing and policies replaced, so
-- running the file again changes nothing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_AUTH_START', 'started', '001_auth: temporary passwords, SSO identities, login attempts, sign-in policies');

-- ---------------------------------------------------------------------------
-- The owner reads through RLS only inside the SECURITY DEFINER functions of
-- db/functions/auth.sql (aegis_owner never logs in; migrations run as a
-- superuser or a member). These policies name aegis_owner, so they give the
-- app role nothing.
-- ---------------------------------------------------------------------------
DROP POLICY IF EXISTS definer_read ON saas.users;
CREATE POLICY definer_read ON saas.users FOR SELECT TO aegis_owner USING (true);
DROP POLICY IF EXISTS definer_read ON saas.memberships;
CREATE POLICY definer_read ON saas.memberships FOR SELECT TO aegis_owner USING (true);
DROP POLICY IF EXISTS definer_read ON saas.tenants;
CREATE POLICY definer_read ON saas.tenants FOR SELECT TO aegis_owner USING (true);
-- saas.reset_member_password and saas.sso_link update another user's row, and
-- saas.tg_memberships_forget_pending deletes a never-activated account.
DROP POLICY IF EXISTS definer_write ON saas.users;
CREATE POLICY definer_write ON saas.users FOR UPDATE TO aegis_owner USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS definer_delete ON saas.users;
CREATE POLICY definer_delete ON saas.users FOR DELETE TO aegis_owner USING (true);

-- ---------------------------------------------------------------------------
-- Accounts: temporary passwords and single-sign-on identities.
-- ---------------------------------------------------------------------------
ALTER TABLE saas.users ADD COLUMN IF NOT EXISTS password_must_change boolean NOT NULL DEFAULT false;
ALTER TABLE saas.users ADD COLUMN IF NOT EXISTS password_expires_at timestamptz;
ALTER TABLE saas.users ADD COLUMN IF NOT EXISTS sso_issuer text;
ALTER TABLE saas.users ADD COLUMN IF NOT EXISTS sso_subject text;
DO $constraints$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                 WHERE conrelid = 'saas.users'::regclass AND conname = 'users_temporary_password_check') THEN
    ALTER TABLE saas.users ADD CONSTRAINT users_temporary_password_check
      CHECK (NOT password_must_change OR (password_hash IS NOT NULL AND password_expires_at IS NOT NULL));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                 WHERE conrelid = 'saas.users'::regclass AND conname = 'users_sso_identity_check') THEN
    ALTER TABLE saas.users ADD CONSTRAINT users_sso_identity_check
      CHECK ((sso_issuer IS NULL) = (sso_subject IS NULL)
             AND (sso_subject IS NULL OR length(sso_subject) BETWEEN 1 AND 255)
             AND (sso_issuer IS NULL OR length(sso_issuer) BETWEEN 1 AND 500));
  END IF;
END
$constraints$;
CREATE UNIQUE INDEX IF NOT EXISTS users_sso_identity_key ON saas.users (sso_issuer, sso_subject);
COMMENT ON COLUMN saas.users.password_must_change IS
  'True while the password is a temporary one an admin was shown (new account, or reset): the account must choose its own '
  'before anything else, and cannot be added to another tenant until it has (see saas.find_user_by_email).';
COMMENT ON COLUMN saas.users.password_expires_at IS
  'When the temporary password stops working (24 hours after it was issued); NULL for a password the user chose.';
COMMENT ON COLUMN saas.users.sso_issuer IS
  'OpenID Connect issuer of the single-sign-on identity linked to this account (with sso_subject), or NULL.';
COMMENT ON COLUMN saas.users.sso_subject IS
  'The "sub" claim of the linked single-sign-on identity: later sign-ins match on (sso_issuer, sso_subject), never on email.';

-- ---------------------------------------------------------------------------
-- An account is updated by its owner only (deploy.sql's user_update). This
-- RESTRICTIVE policy keeps the rule for the app role whatever permissive
-- policy is added later. Admin-side changes go through
-- saas.reset_member_password (SECURITY DEFINER).
-- ---------------------------------------------------------------------------
DROP POLICY IF EXISTS user_update_self_only ON saas.users;
CREATE POLICY user_update_self_only ON saas.users AS RESTRICTIVE FOR UPDATE TO aegis_app
  USING (id = (SELECT saas.current_user_id()))
  WITH CHECK (id = (SELECT saas.current_user_id()));

-- ---------------------------------------------------------------------------
-- Login attempts. Not tenant data (a login happens before a tenant is known);
-- the app role has no privilege on the table and reaches it only through the
-- functions of db/functions/auth.sql. Only failures are kept, for one day at most.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS saas.login_attempts (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  scope         text        NOT NULL CHECK (scope IN ('account', 'address')),
  key           text        NOT NULL CHECK (length(key) BETWEEN 1 AND 320),
  attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS login_attempts_key_idx ON saas.login_attempts (scope, key, attempted_at);
CREATE INDEX IF NOT EXISTS login_attempts_time_idx ON saas.login_attempts (attempted_at);
COMMENT ON TABLE saas.login_attempts IS
  'Failed sign-in attempts per account (lower-cased email) and per client address, for rate limiting across web instances. '
  'Written and read only by saas.login_throttle / saas.login_failed / saas.login_succeeded; rows older than a day are purged.';

ALTER TABLE saas.login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE saas.login_attempts FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS definer_only ON saas.login_attempts;
CREATE POLICY definer_only ON saas.login_attempts FOR ALL TO aegis_owner USING (true) WITH CHECK (true);
REVOKE ALL ON saas.login_attempts FROM PUBLIC, aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_AUTH', 'success', 'temporary-password and SSO columns, saas.login_attempts and the sign-in policies present');

COMMIT;
