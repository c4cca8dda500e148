-- AEGIS sign-in functions: the look-ups that happen before a tenant is known
-- (login by email, a user's memberships), login rate limiting shared by every
-- web instance, the "last admin" rule, the admin-only look-up of an account
-- by email when adding a member, temporary-password resets, single-sign-on
-- look-up and linking, and the deletion of never-activated accounts.
--
-- saas.users, saas.memberships and saas.tenants are under forced row-level
-- security keyed on the tenant setting, so these reads go through SECURITY
-- DEFINER functions owned by aegis_owner. Each sets an empty search_path,
-- names every object in full, checks identity itself where there is one to
-- check, and is executable by aegis_app only (EXECUTE is revoked from PUBLIC).
--
-- Re-applied on every deploy, after the numbered migrations (it needs the
-- columns and the table of db/migrations/001_auth.sql): only functions, their
-- triggers and grants, all replaced, so running it again changes nothing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

DO $check$
BEGIN
  IF to_regclass('saas.login_attempts') IS NULL THEN
    RAISE EXCEPTION 'AEGIS sign-in tables are missing: run db/migrations/001_auth.sql first';
  END IF;
END
$check$;

SET LOCAL ROLE aegis_owner;

-- ---------------------------------------------------------------------------
-- Sign-in look-ups
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.auth_lookup(p_email text)
RETURNS TABLE (id uuid, password_hash text, disabled boolean, name text, password_temporary boolean, password_expired boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT u.id, u.password_hash, u.disabled_at IS NOT NULL, u.name, u.password_must_change,
         u.password_expires_at IS NOT NULL AND u.password_expires_at <= pg_catalog.now()
  FROM saas.users u
  WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
COMMENT ON FUNCTION saas.auth_lookup(text) IS
  'Sign-in look-up by email, before any tenant is known: the account id, its argon2id hash (NULL for single-sign-on '
  'accounts), whether it is disabled, whether its password is a temporary one and whether that has expired. '
  'SECURITY DEFINER; for the web tier''s credential check only, never sent to a browser.';

CREATE OR REPLACE FUNCTION saas.user_memberships(p_user_id uuid)
RETURNS TABLE (tenant_id uuid, tenant_name text, currency text, role saas.member_role)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  -- A caller may list only the memberships of the user its transaction acts for.
  IF p_user_id IS NULL OR p_user_id IS DISTINCT FROM saas.current_user_id() THEN
    RAISE EXCEPTION 'user_memberships: user % is not the current user (saas.user_id)', p_user_id
      USING ERRCODE = '42501';
  END IF;
  RETURN QUERY
    SELECT t.id, t.name, t.currency::text, m.role
    FROM saas.memberships m
    JOIN saas.tenants t ON t.id = m.tenant_id
    JOIN saas.users u ON u.id = m.user_id
    WHERE m.user_id = p_user_id
      AND u.disabled_at IS NULL
    ORDER BY t.name, t.id;
END
$$;
COMMENT ON FUNCTION saas.user_memberships(uuid) IS
  'The tenants a user belongs to, with tenant name, currency and role; nothing for a disabled account. '
  'SECURITY DEFINER; refuses any user other than saas.current_user_id(). Checked on every request.';

CREATE OR REPLACE FUNCTION saas.find_user_by_email(p_email text)
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_pending boolean;
BEGIN
  -- Only an admin of the current tenant may look an account up (to add it as a member).
  IF NOT EXISTS (SELECT 1 FROM saas.memberships m
                 WHERE m.tenant_id = saas.current_tenant_id()
                   AND m.user_id = saas.current_user_id()
                   AND m.role = 'admin') THEN
    RAISE EXCEPTION 'find_user_by_email: only an admin of the current tenant may look up accounts'
      USING ERRCODE = '42501';
  END IF;
  SELECT u.id, u.password_must_change INTO v_id, v_pending
  FROM saas.users u WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_email));
  -- An account still on a temporary password was created by another tenant's
  -- admin, who saw that password: adding it here would let that admin in.
  IF v_pending AND NOT EXISTS (SELECT 1 FROM saas.memberships m
                               WHERE m.tenant_id = saas.current_tenant_id() AND m.user_id = v_id) THEN
    RAISE EXCEPTION 'find_user_by_email: the account is pending activation in another tenant'
      USING ERRCODE = 'AEG02',
            HINT = 'Ask the person to sign in and choose their own password first.';
  END IF;
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION saas.find_user_by_email(text) IS
  'The id of the account with this email, or NULL. SECURITY DEFINER; refuses unless saas.current_user_id() is an admin '
  'of saas.current_tenant_id(). Raises SQLSTATE AEG02 for an account still on a temporary password that is not a member '
  'of the current tenant (pending activation elsewhere). Used to add an existing account as a member.';

CREATE OR REPLACE FUNCTION saas.reset_member_password(p_user_id uuid, p_password_hash text)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_tenant uuid := saas.current_tenant_id();
  v_role saas.member_role;
  v_expires timestamptz := pg_catalog.now() + interval '24 hours';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM saas.memberships m
                 WHERE m.tenant_id = v_tenant AND m.user_id = saas.current_user_id() AND m.role = 'admin') THEN
    RAISE EXCEPTION 'reset_member_password: only an admin of the current tenant may do this' USING ERRCODE = '42501';
  END IF;
  IF p_password_hash IS NULL OR p_password_hash NOT LIKE '$argon2id$%' THEN
    RAISE EXCEPTION 'reset_member_password: an argon2id hash is required' USING ERRCODE = '22023';
  END IF;
  SELECT m.role INTO v_role FROM saas.memberships m WHERE m.tenant_id = v_tenant AND m.user_id = p_user_id;
  IF v_role IS NULL THEN
    RAISE EXCEPTION 'reset_member_password: % is not a member of the current tenant', p_user_id USING ERRCODE = 'AEG03';
  END IF;
  IF p_user_id = saas.current_user_id() THEN
    RAISE EXCEPTION 'reset_member_password: change your own password on the account page' USING ERRCODE = 'AEG03';
  END IF;
  IF v_role = 'admin' THEN
    RAISE EXCEPTION 'reset_member_password: an admin''s password is reset by nobody else' USING ERRCODE = 'AEG04';
  END IF;
  -- Another tenant's data must not open to this admin through a password he chose.
  IF EXISTS (SELECT 1 FROM saas.memberships m WHERE m.user_id = p_user_id AND m.tenant_id <> v_tenant) THEN
    RAISE EXCEPTION 'reset_member_password: the account belongs to another tenant too' USING ERRCODE = 'AEG05';
  END IF;
  UPDATE saas.users u
  SET password_hash = p_password_hash, password_must_change = true, password_expires_at = v_expires
  WHERE u.id = p_user_id AND u.disabled_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'reset_member_password: the account is disabled' USING ERRCODE = 'AEG03';
  END IF;
  RETURN v_expires;
END
$$;
COMMENT ON FUNCTION saas.reset_member_password(uuid, text) IS
  'Gives a member a new temporary password (argon2id hash computed by the caller), valid 24 hours and to be changed at '
  'first sign-in; returns when it expires. SECURITY DEFINER; only an admin of the current tenant, and only for another, '
  'non-admin, enabled member who belongs to no other tenant (AEG03/AEG04/AEG05 otherwise).';

-- ---------------------------------------------------------------------------
-- Single sign-on: accounts are matched on (issuer, subject); the first
-- sign-in with a verified email links the identity to the account of that
-- email. The web tier decides (lib/auth/sso.ts); these functions read and link.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.sso_lookup(p_issuer text, p_subject text, p_email text)
RETURNS TABLE (matched_by text, id uuid, disabled boolean, linked boolean, pending boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT 'subject', u.id, u.disabled_at IS NOT NULL, true, u.password_must_change
  FROM saas.users u
  WHERE u.sso_issuer = p_issuer AND u.sso_subject = p_subject
  UNION ALL
  SELECT 'email', u.id, u.disabled_at IS NOT NULL, u.sso_subject IS NOT NULL, u.password_must_change
  FROM saas.users u
  WHERE p_email IS NOT NULL AND u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
COMMENT ON FUNCTION saas.sso_lookup(text, text, text) IS
  'The accounts a single-sign-on identity may map to: the one linked to (issuer, subject), and the one with the email, '
  'with whether each is disabled, already linked to an identity, or still on a temporary password. SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.sso_link(p_user_id uuid, p_email text, p_issuer text, p_subject text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  -- Links only an enabled, unlinked account whose email is the one the identity
  -- provider verified. A temporary password (one an admin saw) dies here: the
  -- person proved who they are through their identity provider instead.
  UPDATE saas.users u
  SET sso_issuer = p_issuer,
      sso_subject = p_subject,
      password_hash = CASE WHEN u.password_must_change THEN NULL ELSE u.password_hash END,
      password_expires_at = CASE WHEN u.password_must_change THEN NULL ELSE u.password_expires_at END,
      password_must_change = false
  WHERE u.id = p_user_id
    AND u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
    AND u.sso_subject IS NULL
    AND u.disabled_at IS NULL;
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION saas.sso_link(uuid, text, text, text) IS
  'Links a single-sign-on identity (issuer, subject) to the unlinked, enabled account with this email, dropping a '
  'temporary password; false when nothing matched. SECURITY DEFINER; the caller must have checked email_verified.';

-- ---------------------------------------------------------------------------
-- Login rate limiting: failures in a sliding window, per account and per address.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.login_throttle(
  p_account text,
  p_address text,
  p_window interval DEFAULT interval '15 minutes',
  p_max_account integer DEFAULT 5,
  p_max_address integer DEFAULT 50
)
RETURNS TABLE (blocked boolean, retry_after_seconds integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_since timestamptz := pg_catalog.now() - p_window;
  v_wait interval := interval '0';
  v_count integer;
  v_unblock timestamptz;
  v_scope text;
  v_key text;
  v_max integer;
BEGIN
  FOR v_scope, v_key, v_max IN
    SELECT * FROM (VALUES ('account', pg_catalog.lower(pg_catalog.btrim(p_account)), p_max_account),
                          ('address', p_address, p_max_address)) AS s (scope, key, max_failures)
    WHERE s.key IS NOT NULL AND s.key <> ''
  LOOP
    SELECT pg_catalog.count(*)::integer INTO v_count
    FROM saas.login_attempts a
    WHERE a.scope = v_scope AND a.key = v_key AND a.attempted_at > v_since;
    IF v_count >= v_max THEN
      -- Blocked until enough failures have left the window: the
      -- (count - max + 1)-th oldest one in it leaves last of those.
      SELECT a.attempted_at + p_window INTO v_unblock
      FROM saas.login_attempts a
      WHERE a.scope = v_scope AND a.key = v_key AND a.attempted_at > v_since
      ORDER BY a.attempted_at
      OFFSET v_count - v_max LIMIT 1;
      v_wait := GREATEST(v_wait, v_unblock - pg_catalog.now());
    END IF;
  END LOOP;
  blocked := v_wait > interval '0';
  retry_after_seconds := CASE WHEN blocked THEN GREATEST(1, ceil(extract(epoch FROM v_wait))::integer) ELSE 0 END;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION saas.login_throttle(text, text, interval, integer, integer) IS
  'Whether a sign-in for this account (email) from this address is blocked, and for how many seconds: blocked while '
  'the account has p_max_account failures, or the address p_max_address failures, within p_window. SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.login_failed(p_account text, p_address text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  INSERT INTO saas.login_attempts (scope, key)
  SELECT s.scope, s.key
  FROM (VALUES ('account', pg_catalog.lower(pg_catalog.btrim(p_account))), ('address', p_address)) AS s (scope, key)
  WHERE s.key IS NOT NULL AND s.key <> '';
  -- Nothing older than a day is ever counted.
  DELETE FROM saas.login_attempts a WHERE a.attempted_at < pg_catalog.now() - interval '1 day';
END
$$;
COMMENT ON FUNCTION saas.login_failed(text, text) IS
  'Records a failed sign-in for the account (email) and the address, and purges attempts older than a day. SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.login_succeeded(p_account text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
  -- The account's own failures are forgiven; the address keeps its count, so
  -- signing in to one account cannot reset the count of a guessing address.
  DELETE FROM saas.login_attempts a
  WHERE a.scope = 'account' AND a.key = pg_catalog.lower(pg_catalog.btrim(p_account))
$$;
COMMENT ON FUNCTION saas.login_succeeded(text) IS
  'Clears the failed attempts of an account after a successful sign-in (not those of the address). SECURITY DEFINER.';

-- ---------------------------------------------------------------------------
-- The last admin of a tenant can be neither removed nor demoted.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.tg_memberships_keep_an_admin()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF OLD.role <> 'admin' OR (TG_OP = 'UPDATE' AND NEW.role = 'admin' AND NEW.tenant_id = OLD.tenant_id) THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  -- Deleting the tenant or the account cascades here: nothing to keep then.
  IF NOT EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = OLD.tenant_id)
     OR NOT EXISTS (SELECT 1 FROM saas.users u WHERE u.id = OLD.user_id) THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  -- Two admins demoting each other at once must not both succeed: take turns per tenant.
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aegis.tenant_admins'), pg_catalog.hashtext(OLD.tenant_id::text));
  IF NOT EXISTS (SELECT 1 FROM saas.memberships m
                 WHERE m.tenant_id = OLD.tenant_id AND m.role = 'admin' AND m.user_id <> OLD.user_id) THEN
    RAISE EXCEPTION 'a tenant must keep at least one admin'
      USING ERRCODE = 'AEG01',
            HINT = 'Make another member admin first.';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION saas.tg_memberships_keep_an_admin() IS
  'Trigger: refuses (SQLSTATE AEG01) to delete or demote the last admin membership of a tenant. SECURITY DEFINER so it '
  'counts every admin of the tenant whatever the caller can see.';

DROP TRIGGER IF EXISTS memberships_keep_an_admin ON saas.memberships;
CREATE TRIGGER memberships_keep_an_admin
  BEFORE UPDATE OF role, tenant_id OR DELETE ON saas.memberships
  FOR EACH ROW EXECUTE FUNCTION saas.tg_memberships_keep_an_admin();

-- ---------------------------------------------------------------------------
-- An account that never left its temporary password is deleted with its last
-- membership: nobody else may take it over (its password was seen by an admin),
-- and its email becomes free for another tenant to invite.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.tg_memberships_forget_pending()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  DELETE FROM saas.users u
  WHERE u.id = OLD.user_id
    AND u.password_must_change
    AND NOT EXISTS (SELECT 1 FROM saas.memberships m WHERE m.user_id = OLD.user_id);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION saas.tg_memberships_forget_pending() IS
  'Trigger: after a membership is deleted, deletes the account if it has no membership left and is still on a temporary '
  'password (never activated). SECURITY DEFINER so it sees the account''s memberships in every tenant.';

DROP TRIGGER IF EXISTS memberships_forget_pending ON saas.memberships;
CREATE TRIGGER memberships_forget_pending
  AFTER DELETE ON saas.memberships
  FOR EACH ROW EXECUTE FUNCTION saas.tg_memberships_forget_pending();

-- ---------------------------------------------------------------------------
-- Grants: the app role, and nobody else, may call the functions.
-- ---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION saas.auth_lookup(text), saas.user_memberships(uuid), saas.find_user_by_email(text),
  saas.reset_member_password(uuid, text), saas.sso_lookup(text, text, text), saas.sso_link(uuid, text, text, text),
  saas.login_throttle(text, text, interval, integer, integer), saas.login_failed(text, text),
  saas.login_succeeded(text), saas.tg_memberships_keep_an_admin(), saas.tg_memberships_forget_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION saas.auth_lookup(text), saas.user_memberships(uuid), saas.find_user_by_email(text),
  saas.reset_member_password(uuid, text), saas.sso_lookup(text, text, text), saas.sso_link(uuid, text, text, text),
  saas.login_throttle(text, text, interval, integer, integer), saas.login_failed(text, text),
  saas.login_succeeded(text) TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_AUTH_FUNCTIONS', 'success', 'sign-in functions, the last-admin and pending-account triggers present');

COMMIT;
