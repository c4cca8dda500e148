-- AEGIS sign-in functions: the look-ups that happen before a tenant is known
-- (login by email, a user's memberships), login rate limiting shared by every
-- web instance, the "last admin" rule, single-sign-on look-up and linking,
-- and the deletion of never-activated accounts. (Joining a tenant and
-- password resets go through emailed links: db/functions/invitations.sql.)
--
-- saas.users, saas.memberships and saas.tenants are under forced row-level
-- security keyed on the tenant setting, so these reads go through SECURITY
-- DEFINER functions owned by aegis_owner. Each sets search_path to
-- pg_catalog, pg_temp (temporary objects searched last), names every object in full, checks identity itself where there is one to
-- check, and is executable by aegis_app only (EXECUTE is revoked from PUBLIC).
--
-- Re-applied on every deploy, after the numbered migrations (it needs the
-- columns and the table of db/migrations/001_auth.sql) and after accounts.sql:
-- functions, their triggers and grants, all replaced, and the key of the sign-in
-- decoys, created once and then kept, so running it again changes nothing.

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
-- Sign-in look-ups. The stored hash never leaves the database. PostgreSQL has
-- no argon2, so the web tier does the hashing: saas.auth_params gives the head
-- of an email's hash (algorithm, parameters and salt, never the digest), the
-- web tier hashes the password typed with it, and saas.auth_check returns the
-- account only when the result is the stored hash, whole.
--
-- An email without a password to check (no account, or single sign-on only)
-- gets a head of the same shape: the app's parameters and a salt derived from
-- the email and a secret key, the same on every call. So neither the answer,
-- nor its repetition, nor the work that follows tells which emails have an
-- account. The key is 32 random bytes made at the first deployment, in a
-- table only the owner reads.
-- ---------------------------------------------------------------------------
DROP FUNCTION IF EXISTS saas.auth_lookup(text);

CREATE TABLE IF NOT EXISTS aegis_deploy.auth_decoy_key (
  id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
  key        bytea       NOT NULL CHECK (pg_catalog.length(key) = 32),
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE aegis_deploy.auth_decoy_key IS
  'One row: the secret key from which saas.auth_params derives the salt it gives for an email without a password. '
  'Made once (random), never sent anywhere; owner only.';
REVOKE ALL ON TABLE aegis_deploy.auth_decoy_key FROM PUBLIC;
-- gen_random_uuid draws from the server's strong random source: two give 244 random bits.
INSERT INTO aegis_deploy.auth_decoy_key (id, key)
VALUES (true, pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, 'UTF8')))
ON CONFLICT (id) DO NOTHING;

CREATE OR REPLACE FUNCTION saas.auth_params(p_email text)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_email text := pg_catalog.lower(pg_catalog.btrim(p_email));
  v_decoy text;
  v_params text;
BEGIN
  IF v_email IS NULL OR v_email = '' OR pg_catalog.length(v_email) > 320 THEN
    RAISE EXCEPTION 'auth_params: an email of 1 to 320 characters is required' USING ERRCODE = '22023';
  END IF;
  -- Derived for every email, so that each answer costs the same. The parameters
  -- are the app's (lib/auth/password-hash.ts PASSWORD_PARAMS; a test compares).
  SELECT '$argon2id$v=19$m=19456,t=2,p=1$'
         || pg_catalog.rtrim(pg_catalog.encode(
              pg_catalog.substr(pg_catalog.sha256(k.key || '\x00'::bytea || pg_catalog.convert_to(v_email, 'UTF8')), 1, 16),
              'base64'), '=')
    INTO v_decoy
  FROM aegis_deploy.auth_decoy_key k
  WHERE k.id;
  IF v_decoy IS NULL THEN
    RAISE EXCEPTION 'auth_params: the decoy key is missing; apply db/functions/auth.sql again' USING ERRCODE = '55000';
  END IF;
  -- A disabled account answers with its own head too: saas.auth_check says it is disabled.
  SELECT saas.password_params_of(u.password_hash) INTO v_params
  FROM saas.users u
  WHERE u.email = v_email;
  RETURN coalesce(v_params, v_decoy);
END
$fn$;
COMMENT ON FUNCTION saas.auth_params(text) IS
  'Sign-in, step one, before any tenant is known: the head of the argon2id hash of the account of this email (the PHC '
  'string up to and including its salt: $argon2id$v=19$m=...,t=...,p=...$<salt>), never its digest. For an email with '
  'no password (no account, or single sign-on only) a head of the same shape, with the app''s parameters and a salt '
  'derived from the email and a secret key: the same on every call, so answers do not tell which emails exist. '
  'SECURITY DEFINER; refuses (22023) an empty email or one over 320 characters.';

CREATE OR REPLACE FUNCTION saas.auth_check(p_email text, p_hash text)
RETURNS TABLE (id uuid, disabled boolean, name text, password_temporary boolean, password_expired boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_email text := pg_catalog.lower(pg_catalog.btrim(p_email));
BEGIN
  IF v_email IS NULL OR v_email = '' OR pg_catalog.length(v_email) > 320 THEN
    RAISE EXCEPTION 'auth_check: an email of 1 to 320 characters is required' USING ERRCODE = '22023';
  END IF;
  IF p_hash IS NULL OR pg_catalog.length(p_hash) > 300 OR saas.password_params_of(p_hash) IS NULL THEN
    RAISE EXCEPTION 'auth_check: p_hash must be an argon2id PHC string of at most 300 characters, '
                    '$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<digest> (base64 without padding)'
      USING ERRCODE = '22023';
  END IF;
  -- The whole string must match. Compared through their SHA-256, so the time
  -- the comparison takes says nothing about how much of the digest matched.
  RETURN QUERY
    SELECT u.id, u.disabled_at IS NOT NULL, u.name, u.password_must_change,
           u.password_expires_at IS NOT NULL AND u.password_expires_at <= pg_catalog.now()
    FROM saas.users u
    WHERE u.email = v_email
      AND u.password_hash IS NOT NULL
      AND pg_catalog.sha256(pg_catalog.convert_to(u.password_hash, 'UTF8'))
          = pg_catalog.sha256(pg_catalog.convert_to(p_hash, 'UTF8'));
END
$fn$;
COMMENT ON FUNCTION saas.auth_check(text, text) IS
  'Sign-in, step two: the account of this email (id, whether it is disabled, name, whether its password is a temporary '
  'one and whether that has expired) when p_hash, computed by the web tier from the password typed and the head given '
  'by saas.auth_params, is exactly its stored argon2id hash; no row otherwise (wrong password, no account, single '
  'sign-on only). The stored hash is never returned. SECURITY DEFINER; refuses (22023) an empty or over-long email and '
  'a p_hash that is not a well-formed argon2id PHC string.';

CREATE OR REPLACE FUNCTION saas.user_memberships(p_user_id uuid)
RETURNS TABLE (tenant_id uuid, tenant_name text, currency text, role saas.member_role)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

-- Admins no longer attach accounts or set passwords: people join by
-- accepting an invitation (db/functions/invitations.sql).
DROP FUNCTION IF EXISTS saas.find_user_by_email(text);
DROP FUNCTION IF EXISTS saas.reset_member_password(uuid, text);

-- ---------------------------------------------------------------------------
-- Single sign-on: accounts are matched on (issuer, subject); the first
-- sign-in with a verified email links the identity to the account of that
-- email. The web tier decides (lib/auth/sso.ts); these functions read and link.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.sso_lookup(p_issuer text, p_subject text, p_email text)
RETURNS TABLE (matched_by text, id uuid, disabled boolean, linked boolean, pending boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- The email is marked verified only together with the identity that
  -- asserted it: without one, this would verify an address for nobody.
  PERFORM saas.sso_identity_check('sso_link', p_email, p_issuer, p_subject);
  -- Links only an enabled, unlinked account whose email is the one the identity
  -- provider verified: the person proved the address, so the account is
  -- theirs. A password nobody proved (a temporary one an admin saw, or one set
  -- on an account never verified) dies here, and with it every session.
  UPDATE saas.users u
  SET sso_issuer = p_issuer,
      sso_subject = p_subject,
      password_hash = CASE WHEN u.password_must_change OR u.email_verified_at IS NULL THEN NULL ELSE u.password_hash END,
      password_expires_at = CASE WHEN u.password_must_change OR u.email_verified_at IS NULL THEN NULL ELSE u.password_expires_at END,
      session_version = CASE WHEN u.email_verified_at IS NULL THEN u.session_version + 1 ELSE u.session_version END,
      email_verified_at = coalesce(u.email_verified_at, pg_catalog.now()),
      password_must_change = false
  WHERE u.id = p_user_id
    AND u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
    AND u.sso_subject IS NULL
    AND u.disabled_at IS NULL;
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION saas.sso_link(uuid, text, text, text) IS
  'Links a single-sign-on identity (issuer, subject) to the unlinked, enabled account with this email and marks the '
  'email verified, dropping a password nobody had proved (temporary, or on an unverified account) and its sessions; '
  'false when nothing matched. Refuses (22023) a missing or malformed email, issuer or subject. SECURITY DEFINER; the '
  'caller must have checked email_verified.';

CREATE OR REPLACE FUNCTION saas.sso_create(p_email text, p_name text, p_issuer text, p_subject text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_id uuid;
BEGIN
  PERFORM saas.sso_identity_check('sso_create', p_email, p_issuer, p_subject);
  IF p_name IS NOT NULL AND pg_catalog.length(p_name) > 200 THEN
    RAISE EXCEPTION 'sso_create: a name is at most 200 characters' USING ERRCODE = '22023';
  END IF;
  -- No password, no membership; verified now, by this identity, and only so.
  INSERT INTO saas.users AS u (email, name, sso_issuer, sso_subject, email_verified_at)
  VALUES (pg_catalog.lower(pg_catalog.btrim(p_email)), NULLIF(pg_catalog.btrim(p_name), ''), p_issuer, p_subject, pg_catalog.now())
  ON CONFLICT DO NOTHING
  RETURNING u.id INTO v_id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION saas.sso_create(text, text, text, text) IS
  'Creates the account of a single-sign-on identity (issuer, subject) seen for the first time, whose identity provider '
  'verified this email: no password, no membership, email_verified_at now. NULL when the email or the identity already '
  'has an account (created meanwhile). Refuses (22023) a missing or malformed email, issuer or subject. SECURITY '
  'DEFINER: the app role inserts no account itself, so it can mark no email verified but with an identity.';

CREATE OR REPLACE FUNCTION saas.sso_identity_check(p_caller text, p_email text, p_issuer text, p_subject text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF p_email IS NULL OR pg_catalog.length(pg_catalog.btrim(p_email)) NOT BETWEEN 3 AND 320
     OR pg_catalog.btrim(p_email) NOT LIKE '%_@_%' OR p_email ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION '%: the email the identity provider verified (3 to 320 characters, with an @) is required', p_caller
      USING ERRCODE = '22023';
  END IF;
  IF p_issuer IS NULL OR pg_catalog.length(p_issuer) NOT BETWEEN 1 AND 500
     OR p_subject IS NULL OR pg_catalog.length(p_subject) NOT BETWEEN 1 AND 255 THEN
    RAISE EXCEPTION '%: an identity is required: issuer of 1 to 500 and subject of 1 to 255 characters', p_caller
      USING ERRCODE = '22023';
  END IF;
END
$fn$;
COMMENT ON FUNCTION saas.sso_identity_check(text, text, text, text) IS
  'Helper of saas.sso_link and saas.sso_create: raises 22023 (naming p_caller) unless the email and the identity '
  '(issuer, subject) are present and within the bounds of saas.users. Not callable by the app role.';
REVOKE ALL ON FUNCTION saas.sso_identity_check(text, text, text, text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Login rate limiting. An attempt is counted BEFORE its password is verified:
-- saas.login_attempt_begin takes turns per account (and per address) with a
-- transaction advisory lock, counts the failures in a sliding window and,
-- unless blocked, writes the attempt, which counts as a failure until
-- saas.login_attempt_succeeded forgives it. So simultaneous attempts on one
-- account cannot all get past the limit. Counted per account (lower-cased
-- email) or, for a browser that presents a token known for the account (its
-- aegis-device cookie), per (account, device) instead, so strangers' failures
-- do not lock out the owner's known browser; and per client address, where
-- after p_address_free failures each further attempt must first wait
-- 2^(failures - p_address_free) seconds (at most the window).
-- ---------------------------------------------------------------------------
DROP FUNCTION IF EXISTS saas.login_throttle(text, text, interval, integer, integer);
DROP FUNCTION IF EXISTS saas.login_failed(text, text);
DROP FUNCTION IF EXISTS saas.login_succeeded(text);

CREATE OR REPLACE FUNCTION saas.login_attempt_begin(
  p_account text,
  p_address text,
  p_device bytea DEFAULT NULL,
  p_window interval DEFAULT interval '15 minutes',
  p_max_account integer DEFAULT 5,
  p_max_address integer DEFAULT 50,
  p_address_free integer DEFAULT 5
)
RETURNS TABLE (allowed boolean, retry_after_seconds integer, scope text, attempt_id bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_account text := pg_catalog.lower(pg_catalog.btrim(p_account));
  v_address text := NULLIF(pg_catalog.btrim(p_address), '');
  v_now timestamptz := pg_catalog.now();
  v_since timestamptz := pg_catalog.now() - p_window;
  v_scope text := 'account';
  v_key text;
  v_user uuid;
  v_count integer;
  v_last timestamptz;
  v_unblock timestamptz;
  v_wait interval := interval '0';
BEGIN
  IF v_account IS NULL OR v_account = '' OR pg_catalog.length(v_account) > 320 THEN
    RAISE EXCEPTION 'login_attempt_begin: an account (email of 1 to 320 characters) is required' USING ERRCODE = '22023';
  END IF;
  IF p_device IS NOT NULL AND pg_catalog.length(p_device) <> 32 THEN
    RAISE EXCEPTION 'login_attempt_begin: a device is the SHA-256 (32 bytes) of its token' USING ERRCODE = '22023';
  END IF;
  IF p_window IS NULL OR p_window <= interval '0' OR p_window > interval '1 day'
     OR p_max_account IS NULL OR p_max_account < 1 OR p_max_address IS NULL OR p_max_address < 1
     OR p_address_free IS NULL OR p_address_free < 1 THEN
    RAISE EXCEPTION 'login_attempt_begin: the window must be within a day and every limit at least 1' USING ERRCODE = '22023';
  END IF;
  -- Each statement below must see the attempt the previous lock holder committed.
  IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'login_attempt_begin: call it in a READ COMMITTED transaction' USING ERRCODE = '25000';
  END IF;

  -- Take turns: the account first, then the address (always in this order).
  -- Held to the end of the caller's transaction: call it on its own.
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aegis.login_account'), pg_catalog.hashtext(v_account));
  IF v_address IS NOT NULL THEN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aegis.login_address'), pg_catalog.hashtext(v_address));
  END IF;

  v_key := v_account;
  IF p_device IS NOT NULL THEN
    SELECT d.user_id INTO v_user
    FROM saas.users u JOIN saas.known_devices d ON d.user_id = u.id
    WHERE u.email = v_account AND d.token_hash = p_device;
    IF v_user IS NOT NULL THEN
      v_scope := 'device';
      v_key := v_user::text || ':' || pg_catalog.encode(p_device, 'hex');
    END IF;
  END IF;

  -- The account (or this device of it): blocked until enough failures have
  -- left the window; the (count - max + 1)-th oldest one leaves last of those.
  SELECT pg_catalog.count(*)::integer INTO v_count
  FROM saas.login_attempts a
  WHERE a.scope = v_scope AND a.key = v_key AND a.attempted_at > v_since;
  IF v_count >= p_max_account THEN
    SELECT a.attempted_at + p_window INTO v_unblock
    FROM saas.login_attempts a
    WHERE a.scope = v_scope AND a.key = v_key AND a.attempted_at > v_since
    ORDER BY a.attempted_at
    OFFSET v_count - p_max_account LIMIT 1;
    v_wait := GREATEST(v_wait, v_unblock - v_now);
  END IF;

  IF v_address IS NOT NULL THEN
    SELECT pg_catalog.count(*)::integer, pg_catalog.max(a.attempted_at) INTO v_count, v_last
    FROM saas.login_attempts a
    WHERE a.scope = 'address' AND a.key = v_address AND a.attempted_at > v_since;
    IF v_count >= p_max_address THEN
      SELECT a.attempted_at + p_window INTO v_unblock
      FROM saas.login_attempts a
      WHERE a.scope = 'address' AND a.key = v_address AND a.attempted_at > v_since
      ORDER BY a.attempted_at
      OFFSET v_count - p_max_address LIMIT 1;
      v_wait := GREATEST(v_wait, v_unblock - v_now);
    END IF;
    -- A guessing address slows down; a known device of the account does not
    -- wait for the strangers who share its address.
    IF v_count >= p_address_free AND v_scope <> 'device' THEN
      v_wait := GREATEST(v_wait, v_last + LEAST(p_window,
        pg_catalog.make_interval(secs => pg_catalog.power(2::double precision, LEAST(v_count - p_address_free, 30)::double precision)))
        - v_now);
    END IF;
  END IF;

  scope := v_scope;
  IF v_wait > interval '0' THEN
    -- Refused before it is counted.
    allowed := false;
    retry_after_seconds := GREATEST(1, ceil(extract(epoch FROM v_wait))::integer);
    attempt_id := NULL;
    RETURN NEXT;
    RETURN;
  END IF;

  INSERT INTO saas.login_attempts (scope, key, attempted_at) VALUES (v_scope, v_key, v_now);
  IF v_address IS NOT NULL THEN
    INSERT INTO saas.login_attempts (scope, key, attempted_at) VALUES ('address', v_address, v_now)
    RETURNING id INTO attempt_id;
  END IF;
  -- Nothing older than a day is ever counted.
  DELETE FROM saas.login_attempts a WHERE a.attempted_at < v_now - interval '1 day';
  allowed := true;
  retry_after_seconds := 0;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION saas.login_attempt_begin(text, text, bytea, interval, integer, integer, integer) IS
  'Counts a sign-in attempt before its password is verified. Under a per-account (then per-address) transaction advisory '
  'lock: refused (allowed false, with retry_after_seconds) while the account, or the known device p_device (SHA-256 of '
  'its aegis-device token) of that account, has p_max_account failures within p_window, while the address has '
  'p_max_address, or, past p_address_free failures from the address, until 2^(failures - p_address_free) seconds (at '
  'most p_window) after its last one; otherwise records the attempt as a failure (scope says under which key) and '
  'returns its address row as attempt_id for saas.login_attempt_succeeded. Call it alone in a READ COMMITTED '
  'transaction. SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.login_forgive(p_account text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  -- The failures of the account and of its known devices; not those of any
  -- address, so signing in to one account cannot reset a guessing address.
  DELETE FROM saas.login_attempts a
  WHERE (a.scope = 'account' AND a.key = pg_catalog.lower(pg_catalog.btrim(p_account)))
     OR (a.scope = 'device' AND a.key IN (SELECT d.user_id::text || ':' || pg_catalog.encode(d.token_hash, 'hex')
                                          FROM saas.known_devices d JOIN saas.users u ON u.id = d.user_id
                                          WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_account))))
$$;
COMMENT ON FUNCTION saas.login_forgive(text) IS
  'Clears the failed sign-in attempts of an account (email) and of its known devices, not those of any address: after a '
  'successful sign-in, or when the owner proves the account another way (a password-reset link). SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.login_attempt_succeeded(p_account text, p_attempt bigint, p_device bytea DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_user uuid;
BEGIN
  IF p_device IS NOT NULL AND pg_catalog.length(p_device) <> 32 THEN
    RAISE EXCEPTION 'login_attempt_succeeded: a device is the SHA-256 (32 bytes) of its token' USING ERRCODE = '22023';
  END IF;
  PERFORM saas.login_forgive(p_account);
  -- The attempt was no failure of its address either (the address keeps its others).
  DELETE FROM saas.login_attempts a WHERE a.id = p_attempt AND a.scope = 'address';
  IF p_device IS NULL THEN
    RETURN;
  END IF;
  SELECT u.id INTO v_user
  FROM saas.users u WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_account)) AND u.disabled_at IS NULL;
  IF v_user IS NULL THEN
    RETURN;
  END IF;
  INSERT INTO saas.known_devices AS d (user_id, token_hash) VALUES (v_user, p_device)
  ON CONFLICT (user_id, token_hash) DO UPDATE SET last_seen_at = pg_catalog.now();
  -- An account keeps its 20 most recent browsers, each for 180 days after it was last seen.
  DELETE FROM saas.known_devices d
  WHERE d.user_id = v_user
    AND (d.last_seen_at < pg_catalog.now() - interval '180 days'
         OR d.token_hash NOT IN (SELECT k.token_hash FROM saas.known_devices k WHERE k.user_id = v_user
                                 ORDER BY k.last_seen_at DESC, k.created_at DESC LIMIT 20));
END
$$;
COMMENT ON FUNCTION saas.login_attempt_succeeded(text, bigint, bytea) IS
  'After the password of an attempt was verified: forgives the account (saas.login_forgive), deletes the attempt''s own '
  'address row (p_attempt, from saas.login_attempt_begin) and, given p_device (SHA-256 of a new or known aegis-device '
  'token), remembers that browser as a known device of the enabled account (20 at most, 180 days after last seen). '
  'SECURITY DEFINER.';

REVOKE ALL ON FUNCTION saas.login_attempt_begin(text, text, bytea, interval, integer, integer, integer),
  saas.login_forgive(text), saas.login_attempt_succeeded(text, bigint, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION saas.login_attempt_begin(text, text, bytea, interval, integer, integer, integer),
  saas.login_forgive(text), saas.login_attempt_succeeded(text, bigint, bytea) TO aegis_app;

-- ---------------------------------------------------------------------------
-- The last admin of a tenant can be neither removed nor demoted.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.tg_memberships_keep_an_admin()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
SET search_path = pg_catalog, pg_temp
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
REVOKE ALL ON FUNCTION saas.auth_params(text), saas.auth_check(text, text), saas.user_memberships(uuid),
  saas.sso_lookup(text, text, text), saas.sso_link(uuid, text, text, text), saas.sso_create(text, text, text, text),
  saas.tg_memberships_keep_an_admin(), saas.tg_memberships_forget_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION saas.auth_params(text), saas.auth_check(text, text), saas.user_memberships(uuid),
  saas.sso_lookup(text, text, text), saas.sso_link(uuid, text, text, text), saas.sso_create(text, text, text, text)
  TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_AUTH_FUNCTIONS', 'success', 'sign-in functions, the last-admin and pending-account triggers present');

COMMIT;
