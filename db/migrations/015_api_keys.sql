-- AEGIS ingest API keys (docs/api.md): what POST /api/v1/metrics needs to
-- find a key before any tenant is known, and its rate limit, kept here so it
-- holds across every web instance.
--
--   saas.api_keys (deploy.sql)    gains the index of the look-up by public prefix and the owner-side
--                                 policies the look-up reads and touches it under
--   saas.api_key_requests         the requests each key made in the last window (the rate limit's count):
--                                 no privilege for the app role, written only by the look-up
--   ads_engine.api_key_authenticate
--                                 SECURITY DEFINER: a well-formed key (prefix and SHA-256) in, the tenant,
--                                 the key id and the rate limit's verdict out, or no row
--   ads_engine.bytes_equal_constant_time
--                                 the hash comparison, with no early exit
--
-- A key is `aegis_<12 hex prefix>_<43 base64url secret>`; only the SHA-256 of
-- the whole key is stored (saas.api_keys.key_hash, hex). The functions are
-- plpgsql and name the tables only when they run.
--
-- Idempotent: objects are created when missing, functions and policies replaced.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_API_KEYS_START', 'started', '015_api_keys: API key look-up, its rate limit and their policies');

-- ---------------------------------------------------------------------------
-- Keys: looked up by their public prefix, in every tenant at once. The
-- prefix is random (48 bits), so two tenants sharing one is unlikely but not
-- refused: the look-up compares the hash of each key carrying it.
-- ---------------------------------------------------------------------------
CREATE INDEX IF NOT EXISTS api_keys_lookup_idx ON saas.api_keys (key_prefix);

COMMENT ON COLUMN saas.api_keys.key_prefix IS
  'The public part of the key (aegis_<key_prefix>_<secret>): 12 lower-case hex characters, shown in the list and used to find the key.';
COMMENT ON COLUMN saas.api_keys.key_hash IS
  'SHA-256 of the whole key string, hex. The secret itself (32 random bytes) is shown once at creation and never stored.';
COMMENT ON COLUMN saas.api_keys.role IS
  'What the key may do: keys made on Settings -> API keys are buyer keys, which write metrics through POST /api/v1/metrics and nothing else.';
COMMENT ON COLUMN saas.api_keys.last_used_at IS
  'When the key last authenticated a request (set by ads_engine.api_key_authenticate, also when the rate limit refused it).';
COMMENT ON COLUMN saas.api_keys.revoked_at IS
  'When an admin revoked the key; a revoked key authenticates nothing and cannot be restored.';

-- The owner is under forced row-level security too. The look-up reads and
-- touches keys of whichever tenant the key belongs to under this scope, which
-- only ads_engine.api_key_authenticate sets (transaction-local) and clears.
-- The policies name aegis_owner: they give the app role nothing, whatever it sets.
DROP POLICY IF EXISTS api_key_lookup ON saas.api_keys;
CREATE POLICY api_key_lookup ON saas.api_keys FOR SELECT TO aegis_owner
  USING (current_setting('saas.api_key_scope', true) = 'lookup');
DROP POLICY IF EXISTS api_key_touch ON saas.api_keys;
CREATE POLICY api_key_touch ON saas.api_keys FOR UPDATE TO aegis_owner
  USING (current_setting('saas.api_key_scope', true) = 'lookup')
  WITH CHECK (current_setting('saas.api_key_scope', true) = 'lookup');

-- ---------------------------------------------------------------------------
-- The rate limit's count: one row per request a key was allowed, kept for
-- one window (the look-up deletes the key's older rows), so at most the
-- limit's number of rows per key.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS saas.api_key_requests (
  tenant_id     uuid         NOT NULL,
  key_id        uuid         NOT NULL,
  id            bigint       GENERATED ALWAYS AS IDENTITY,
  requested_at  timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT api_key_requests_pkey PRIMARY KEY (tenant_id, key_id, id),
  CONSTRAINT api_key_requests_key_fkey FOREIGN KEY (tenant_id, key_id)
    REFERENCES saas.api_keys (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS api_key_requests_window_idx ON saas.api_key_requests (tenant_id, key_id, requested_at);
COMMENT ON TABLE saas.api_key_requests IS
  'The requests each API key was allowed within the rate limit''s window (POST /api/v1/metrics: 60 a minute per key), shared by every '
  'web instance. Written and read only by ads_engine.api_key_authenticate; no privilege for the app role.';

CALL aegis_deploy.isolate_by_tenant('saas.api_key_requests');
DROP POLICY IF EXISTS api_key_rate_limit ON saas.api_key_requests;
CREATE POLICY api_key_rate_limit ON saas.api_key_requests FOR ALL TO aegis_owner
  USING (current_setting('saas.api_key_scope', true) = 'lookup')
  WITH CHECK (current_setting('saas.api_key_scope', true) = 'lookup');
REVOKE ALL ON saas.api_key_requests FROM PUBLIC, aegis_app;

-- ---------------------------------------------------------------------------
-- The hash comparison: every byte is read whatever the first difference, so
-- the time taken does not say how much of a guess was right.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.bytes_equal_constant_time(p_a bytea, p_b bytea)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_diff integer := 0;
BEGIN
  -- Lengths are public (a SHA-256 is 32 bytes): only the contents are compared in constant time.
  IF pg_catalog.length(p_a) <> pg_catalog.length(p_b) THEN
    RETURN false;
  END IF;
  FOR i IN 0 .. pg_catalog.length(p_a) - 1 LOOP
    v_diff := v_diff | (pg_catalog.get_byte(p_a, i) # pg_catalog.get_byte(p_b, i));
  END LOOP;
  RETURN v_diff = 0;
END
$$;
COMMENT ON FUNCTION ads_engine.bytes_equal_constant_time(bytea, bytea) IS
  'True when two byte strings are equal; reads every byte (no early exit), so its time does not depend on where they differ. '
  'For comparing a presented API key''s SHA-256 with the stored one.';

-- ---------------------------------------------------------------------------
-- The look-up of POST /api/v1/metrics, before any tenant is known.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.api_key_authenticate(
  p_prefix text,
  p_hash bytea,
  p_window interval DEFAULT interval '1 minute',
  p_max integer DEFAULT 60
)
RETURNS TABLE (tenant_id uuid, key_id uuid, key_role saas.member_role, allowed boolean, retry_after_seconds integer, remaining integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  r record;
  v_tenant uuid;
  v_key uuid;
  v_role saas.member_role;
  v_now timestamptz;
  v_count integer;
  v_unblock timestamptz;
BEGIN
  -- Identity: it answers for a well-formed key only, presented as its public
  -- prefix and the SHA-256 of the whole key (the secret never reaches the database).
  IF p_prefix IS NULL OR p_prefix !~ '^[0-9a-f]{12}$' OR p_hash IS NULL OR pg_catalog.length(p_hash) <> 32 THEN
    RAISE EXCEPTION 'api_key_authenticate: a key is presented as its 12-character hex prefix and the SHA-256 (32 bytes) of the whole key'
      USING ERRCODE = '22023';
  END IF;
  IF p_window IS NULL OR p_window <= interval '0' OR p_window > interval '1 hour' OR p_max IS NULL OR p_max < 1 OR p_max > 100000 THEN
    RAISE EXCEPTION 'api_key_authenticate: the window must be within an hour and the limit from 1 to 100000' USING ERRCODE = '22023';
  END IF;
  -- A key stands for no person and comes before any tenant: not inside a tenant
  -- transaction, nor in the request of a signed-in user.
  IF saas.current_tenant_id() IS NOT NULL OR saas.current_user_id() IS NOT NULL THEN
    RAISE EXCEPTION 'api_key_authenticate: call it outside any tenant transaction and without a signed-in user' USING ERRCODE = '42501';
  END IF;
  -- The count below must see the request the previous holder of the key's row lock committed.
  IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'api_key_authenticate: call it in a READ COMMITTED transaction' USING ERRCODE = '25000';
  END IF;

  PERFORM pg_catalog.set_config('saas.api_key_scope', 'lookup', true);

  -- Every key carrying the prefix has its hash compared in full, and a revoked
  -- key is told apart only after the comparison: a wrong secret and a revoked
  -- key take the same path and get the same answer (no row).
  FOR r IN SELECT k.tenant_id, k.id, k.key_hash, k.role, k.revoked_at FROM saas.api_keys k
           WHERE k.key_prefix = p_prefix AND k.key_hash ~ '^[0-9a-f]{64}$' LOOP
    IF ads_engine.bytes_equal_constant_time(pg_catalog.decode(r.key_hash, 'hex'), p_hash) AND r.revoked_at IS NULL THEN
      v_tenant := r.tenant_id;
      v_key := r.id;
      v_role := r.role;
    END IF;
  END LOOP;
  IF v_key IS NULL THEN
    PERFORM pg_catalog.set_config('saas.api_key_scope', '', true);
    RETURN;
  END IF;

  -- Take turns per key: this row lock is held to the end of the caller's
  -- transaction, so simultaneous requests of one key are counted one after the
  -- other (call it on its own). A key revoked meanwhile authenticates nothing.
  UPDATE saas.api_keys k SET last_used_at = pg_catalog.clock_timestamp()
   WHERE k.tenant_id = v_tenant AND k.id = v_key AND k.revoked_at IS NULL;
  IF NOT FOUND THEN
    PERFORM pg_catalog.set_config('saas.api_key_scope', '', true);
    RETURN;
  END IF;
  v_now := pg_catalog.clock_timestamp();

  DELETE FROM saas.api_key_requests q
   WHERE q.tenant_id = v_tenant AND q.key_id = v_key AND q.requested_at <= v_now - p_window;
  SELECT pg_catalog.count(*)::integer INTO v_count
    FROM saas.api_key_requests q WHERE q.tenant_id = v_tenant AND q.key_id = v_key;

  tenant_id := v_tenant;
  key_id := v_key;
  key_role := v_role;
  IF v_count >= p_max THEN
    -- Refused and not counted: the (count - max + 1)-th oldest request leaving the window lets the next one in.
    SELECT q.requested_at + p_window INTO v_unblock
      FROM saas.api_key_requests q WHERE q.tenant_id = v_tenant AND q.key_id = v_key
     ORDER BY q.requested_at OFFSET v_count - p_max LIMIT 1;
    allowed := false;
    retry_after_seconds := GREATEST(1, pg_catalog.ceil(EXTRACT(epoch FROM v_unblock - v_now))::integer);
    remaining := 0;
  ELSE
    INSERT INTO saas.api_key_requests (tenant_id, key_id, requested_at) VALUES (v_tenant, v_key, v_now);
    allowed := true;
    retry_after_seconds := 0;
    remaining := p_max - v_count - 1;
  END IF;
  PERFORM pg_catalog.set_config('saas.api_key_scope', '', true);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION ads_engine.api_key_authenticate(text, bytea, interval, integer) IS
  'The look-up of the ingest API, before any tenant is known: given a key''s public prefix and the SHA-256 of the whole key (refused, 22023, '
  'unless well-formed), returns its tenant, id and role when the hash matches (compared in constant time) and the key is not revoked, '
  'with the rate limit''s verdict: allowed (the request is counted) while the key made fewer than p_max requests in the last p_window, '
  'otherwise refused with retry_after_seconds (not counted). Sets last_used_at. No row for an unknown, wrong or revoked key. Refused '
  'inside a tenant transaction or with a signed-in user (42501); call it alone in a READ COMMITTED transaction. SECURITY DEFINER: the '
  'app role holds no privilege on saas.api_key_requests.';

REVOKE ALL ON FUNCTION ads_engine.bytes_equal_constant_time(bytea, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION ads_engine.api_key_authenticate(text, bytea, interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ads_engine.bytes_equal_constant_time(bytea, bytea) TO aegis_app;
GRANT EXECUTE ON FUNCTION ads_engine.api_key_authenticate(text, bytea, interval, integer) TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_API_KEYS', 'success', 'saas.api_key_requests, ads_engine.api_key_authenticate and the look-up policies present');

COMMIT;
