-- AEGIS accounts: what the app role may read and write of saas.users, and the
-- signed-in account's own password.
--
-- password_hash is neither readable nor writable by aegis_app. A table-wide
-- grant would cover it (and every column added later), so the app role holds
-- column privileges only, on the columns the app reads. No function gives the
-- app role a stored hash either: PostgreSQL has no argon2, so the web tier
-- hashes a candidate password with the parameters and salt of the stored hash
-- (the PHC string up to its salt, saas.password_params_of) and the database
-- compares the result with the hash it keeps. Hashes go in only through
-- SECURITY DEFINER functions owned by aegis_owner, each with its own identity
-- check: the emailed links (db/functions/invitations.sql) and the password
-- change below; sign-in compares in db/functions/auth.sql. Each sets
-- search_path to pg_catalog, pg_temp, names every object in full, and is
-- executable by aegis_app only.
--
-- Re-applied on every deploy, after the numbered migrations (it names the
-- columns of db/migrations/001_auth.sql and 004_invitations.sql): grants and
-- functions only, so running it again changes nothing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

DO $check$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                 WHERE attrelid = 'saas.users'::regclass AND attname = 'session_version' AND NOT attisdropped) THEN
    RAISE EXCEPTION 'AEGIS account columns are missing: run db/migrations/004_invitations.sql first';
  END IF;
END
$check$;

SET LOCAL ROLE aegis_owner;

-- ---------------------------------------------------------------------------
-- Column privileges. The REVOKE also drops any column privilege given before,
-- so the lists below are the whole of what the app role holds on the table.
-- No UPDATE at all: every change to an account (password, verified email,
-- session version, temporary-password flags) goes through a function that
-- checks who may make it. An UPDATE of email by the account itself would
-- keep its verified flag and let it accept invitations sent to another address.
-- ---------------------------------------------------------------------------
-- No INSERT either: the account of a first single sign-on is created by
-- saas.sso_create (db/functions/auth.sql), which marks its email verified only
-- together with the identity that asserted it, at the time it did.
REVOKE SELECT, INSERT, UPDATE ON saas.users FROM aegis_app;
GRANT SELECT (id, email, name, disabled_at, password_must_change, password_expires_at, session_version)
  ON saas.users TO aegis_app;

-- ---------------------------------------------------------------------------
-- The head of a stored hash: what the web tier needs to hash a candidate
-- password the same way (algorithm, version, memory, passes, lanes, salt),
-- never the digest. A plain function (no rights of its own), called by the
-- definers below and in db/functions/auth.sql; not granted to the app role.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.password_params_of(p_hash text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT pg_catalog.substring(p_hash,
    '^(\$argon2id\$v=19\$m=[1-9][0-9]{0,9},t=[1-9][0-9]{0,9},p=[1-9][0-9]{0,2}\$[A-Za-z0-9+/]{11,64})\$[A-Za-z0-9+/]{22,172}$')
$fn$;
COMMENT ON FUNCTION saas.password_params_of(text) IS
  'The head of an argon2id PHC string up to and including its salt ($argon2id$v=19$m=...,t=...,p=...$<salt>), without '
  'the digest; NULL for anything else (a malformed string, another algorithm or version). Not callable by the app role.';
REVOKE ALL ON FUNCTION saas.password_params_of(text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- A password change (lib/account/mutations.ts): the parameters and salt of the
-- current hash, to hash the current password with (the result is checked by
-- saas.auth_check), then a compare-and-swap from that hash to the new one.
-- The stored hash itself is never returned.
-- ---------------------------------------------------------------------------
DROP FUNCTION IF EXISTS saas.own_password_hash();

CREATE OR REPLACE FUNCTION saas.own_password_params()
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_user uuid := saas.current_user_id();
  v_hash text;
BEGIN
  IF v_user IS NULL THEN
    RAISE EXCEPTION 'own_password_params: saas.user_id is not set' USING ERRCODE = '42501';
  END IF;
  SELECT u.password_hash INTO v_hash FROM saas.users u WHERE u.id = v_user AND u.disabled_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'own_password_params: saas.user_id names no enabled account' USING ERRCODE = '42501';
  END IF;
  RETURN saas.password_params_of(v_hash);
END
$fn$;
COMMENT ON FUNCTION saas.own_password_params() IS
  'The parameters and salt of the signed-in account''s (saas.user_id) argon2id hash, the PHC string up to its salt and '
  'never its digest; NULL for an account without a password (single sign-on only). Refuses (42501) when saas.user_id is '
  'not set or names no enabled account. For the current-password check of a password change: the web tier hashes the '
  'password typed with these and asks saas.auth_check. SECURITY DEFINER: the app role has no privilege on '
  'saas.users.password_hash.';

CREATE OR REPLACE FUNCTION saas.replace_own_password(p_current_hash text, p_new_hash text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_user uuid := saas.current_user_id();
  v_version integer;
BEGIN
  IF v_user IS NULL THEN
    RAISE EXCEPTION 'replace_own_password: saas.user_id is not set' USING ERRCODE = '42501';
  END IF;
  IF p_current_hash IS NULL THEN
    RAISE EXCEPTION 'replace_own_password: p_current_hash (the hash the current password was verified against) is required'
      USING ERRCODE = '22004';
  END IF;
  IF p_new_hash IS NULL OR p_new_hash NOT LIKE '$argon2id$%' THEN
    RAISE EXCEPTION 'replace_own_password: p_new_hash must be an argon2id hash' USING ERRCODE = '22023';
  END IF;
  -- Only while the hash is still the one verified: of two changes at once the
  -- second finds it gone. An expired temporary password cannot be replaced.
  UPDATE saas.users u
  SET password_hash = p_new_hash,
      password_must_change = false,
      password_expires_at = NULL,
      session_version = u.session_version + 1
  WHERE u.id = v_user
    AND u.disabled_at IS NULL
    AND u.password_hash = p_current_hash
    AND (u.password_expires_at IS NULL OR u.password_expires_at > pg_catalog.now())
  RETURNING u.session_version INTO v_version;
  RETURN v_version;
END
$$;
COMMENT ON FUNCTION saas.replace_own_password(text, text) IS
  'Sets the password of the signed-in account (saas.user_id) to p_new_hash (argon2id, hashed by the web tier) when its '
  'hash is still p_current_hash and it is enabled and not on an expired temporary password: clears the temporary-password '
  'flag and expiry and moves session_version, which ends every other session. Returns the new session_version, or NULL '
  'when nothing matched (changed meanwhile). Refuses (42501) without saas.user_id. SECURITY DEFINER: the app role has no '
  'privilege on saas.users.password_hash.';

REVOKE ALL ON FUNCTION saas.own_password_params(), saas.replace_own_password(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION saas.own_password_params(), saas.replace_own_password(text, text) TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_ACCOUNT_FUNCTIONS', 'success', 'column privileges of aegis_app on saas.users, password-change functions present');

COMMIT;
