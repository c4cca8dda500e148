-- AEGIS sign-in devices, the one-time part: the browsers that have signed in
-- to an account (a random token in the httpOnly cookie aegis-device; only its
-- SHA-256 is stored), and login attempts counted under such a device
-- (scope 'device'), so that strangers' failures on an account do not lock out
-- its owner's known browser.
--
-- Not tenant data (a sign-in happens before a tenant is known): the app role
-- has no privilege on the table and reaches it only through the functions of
-- db/functions/auth.sql (saas.login_attempt_begin, saas.login_attempt_succeeded).
--
-- Idempotent: objects are created when missing, the scope check replaced only
-- while it lacks 'device', policies replaced, so running the file again
-- changes nothing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_DEVICES_START', 'started', '003_sign_in_devices: saas.known_devices, device-scoped login attempts');

CREATE TABLE IF NOT EXISTS saas.known_devices (
  user_id       uuid        NOT NULL REFERENCES saas.users (id) ON DELETE CASCADE,
  token_hash    bytea       NOT NULL CHECK (length(token_hash) = 32),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, token_hash)
);
COMMENT ON TABLE saas.known_devices IS
  'Browsers that signed in to an account: the SHA-256 of the random token in their aegis-device cookie (never the token). '
  'A sign-in attempt presenting a known token is counted apart from strangers'' attempts on the account. Written and read '
  'only by saas.login_attempt_begin / saas.login_attempt_succeeded.';

ALTER TABLE saas.known_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE saas.known_devices FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS definer_only ON saas.known_devices;
CREATE POLICY definer_only ON saas.known_devices FOR ALL TO aegis_owner USING (true) WITH CHECK (true);
REVOKE ALL ON saas.known_devices FROM PUBLIC, aegis_app;

-- Attempts from a known device are counted under (user id, token hash).
DO $scope$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                 WHERE conrelid = 'saas.login_attempts'::regclass AND conname = 'login_attempts_scope_check'
                   AND pg_catalog.pg_get_constraintdef(oid) LIKE '%device%') THEN
    ALTER TABLE saas.login_attempts DROP CONSTRAINT IF EXISTS login_attempts_scope_check;
    ALTER TABLE saas.login_attempts ADD CONSTRAINT login_attempts_scope_check
      CHECK (scope IN ('account', 'address', 'device'));
  END IF;
END
$scope$;
COMMENT ON TABLE saas.login_attempts IS
  'Sign-in attempts per account (lower-cased email), per known device of an account (user id and token hash) and per '
  'client address, for rate limiting across web instances. An attempt is written before its password is verified and '
  'counts as a failure until it succeeds. Written and read only by saas.login_attempt_begin / '
  'saas.login_attempt_succeeded / saas.login_forgive; rows older than a day are purged.';

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_DEVICES', 'success', 'saas.known_devices and device-scoped login attempts present');

COMMIT;
