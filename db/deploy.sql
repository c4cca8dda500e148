-- AEGIS core: deployment log, roles, the saas schema (tenants, users,
-- memberships, audit log, API keys) and the tenant setting every policy reads.
--
-- Deploy:   psql -d aegis_db -f db/deploy.sql
-- Then:     psql -d aegis_db -f db/media_buying_deployment.sql
--
-- Idempotent and atomic: one transaction, every object created only when
-- missing, so a second run changes nothing and loses no data, and a failure
-- half-way leaves the database as it was. Objects are owned by aegis_owner;
-- the application connects as aegis_app (not superuser, not owner, not
-- BYPASSRLS), so row-level security always applies to it.

BEGIN;

-- Two deployers at once would race on "create if missing": take turns.
SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

CREATE TABLE IF NOT EXISTS public.deployment_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  phase       text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('started', 'success', 'warning', 'error')),
  message     text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.deployment_log IS
  'One row per deployment phase of db/deploy.sql (CORE_*) and db/media_buying_deployment.sql (MEDIA_*).';

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_START', 'started', 'AEGIS core deployment started by ' || current_user);

-- ---------------------------------------------------------------------------
-- Roles. Cluster-wide, so created only when missing. aegis_app gets LOGIN and
-- no password here: the operator (or the project's scripts) sets one with
-- ALTER ROLE aegis_app PASSWORD '...' where the server asks for one.
-- ---------------------------------------------------------------------------
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aegis_owner') THEN
    CREATE ROLE aegis_owner NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aegis_app') THEN
    CREATE ROLE aegis_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
  -- Whoever deploys must be able to act as the owner.
  IF NOT pg_has_role(current_user, 'aegis_owner', 'MEMBER') THEN
    EXECUTE format('GRANT aegis_owner TO %I', current_user);
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO aegis_app', current_database());
  -- TEMP comes to every role through PUBLIC: revoked from the app role alone it stays. Nothing of the
  -- product creates temporary tables (imports stage in ads_engine.import_staging), and a temp table or a
  -- pg_temp function of the app role's could capture a careless superuser's call.
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM aegis_app', current_database());
  EXECUTE format('GRANT CREATE, CONNECT ON DATABASE %I TO aegis_owner', current_database());
  -- No JIT for the app: its statements are small reads of one tenant whose estimated cost can pass
  -- jit_above_cost (a 7-day read of a large tenant: 6 ms to run, 450 ms to compile). A role setting,
  -- so it holds for every connection of the app role (pages, API, worker, psql as aegis_app) from the
  -- next connection on. Changing a role's settings takes CREATEROLE; a deployer without it is told.
  BEGIN
    ALTER ROLE aegis_app SET jit = off;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'could not set jit = off for aegis_app (%): run ALTER ROLE aegis_app SET jit = off as a superuser', SQLERRM;
  END;
END
$roles$;

-- Nobody but the owners creates in public (PostgreSQL 15 made this the default; a database upgraded
-- from 14 or older keeps the old grant to PUBLIC).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_ROLES', 'success', 'roles aegis_owner (schema owner) and aegis_app (application) present');

-- The log is written by both files, whoever runs them.
ALTER TABLE public.deployment_log OWNER TO aegis_owner;
GRANT SELECT ON public.deployment_log TO aegis_app;

-- Everything below is created as, and owned by, aegis_owner.
SET LOCAL ROLE aegis_owner;

CREATE SCHEMA IF NOT EXISTS saas AUTHORIZATION aegis_owner;
COMMENT ON SCHEMA saas IS 'AEGIS core: tenants, users, memberships, audit log, API keys.';
GRANT USAGE ON SCHEMA saas TO aegis_app;

-- ---------------------------------------------------------------------------
-- The tenant setting. Policies call these through a scalar sub-select,
-- tenant_id = (SELECT saas.current_tenant_id()), so it is evaluated once per
-- statement. After set_config(..., true) ends with its transaction the
-- setting reads '' rather than NULL, hence nullif.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.current_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nullif(current_setting('saas.tenant_id', true), '')::uuid $$;
COMMENT ON FUNCTION saas.current_tenant_id() IS
  'The tenant of the current transaction (setting saas.tenant_id), or NULL when none is set.';

CREATE OR REPLACE FUNCTION saas.current_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nullif(current_setting('saas.user_id', true), '')::uuid $$;
COMMENT ON FUNCTION saas.current_user_id() IS
  'The signed-in user of the current transaction (setting saas.user_id), or NULL.';

-- Refuses a tenant argument that contradicts the tenant setting, and a NULL one.
-- Used by every function that takes a tenant_id.
CREATE OR REPLACE FUNCTION saas.assert_tenant(p_tenant_id uuid) RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_current uuid := saas.current_tenant_id();
BEGIN
  IF p_tenant_id IS NULL THEN
    RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF v_current IS NOT NULL AND v_current <> p_tenant_id THEN
    RAISE EXCEPTION 'tenant_id % does not match the current tenant setting saas.tenant_id', p_tenant_id
      USING ERRCODE = '42501', HINT = 'Call the function with current_setting(''saas.tenant_id'')::uuid.';
  END IF;
  RETURN p_tenant_id;
END
$$;
COMMENT ON FUNCTION saas.assert_tenant(uuid) IS
  'Raises when the tenant argument is NULL or differs from saas.tenant_id (when set); returns it otherwise.';

DO $types$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = 'saas' AND t.typname = 'member_role') THEN
    -- Ordered: viewer < buyer < admin, so "role >= 'buyer'" reads as "at least buyer".
    CREATE TYPE saas.member_role AS ENUM ('viewer', 'buyer', 'admin');
  END IF;
END
$types$;

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS saas.tenants (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  slug        text        UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  vertical    text        CHECK (vertical IN ('ecommerce', 'lead_generation', 'apps', 'b2b', 'other')),
  currency    char(3)     NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
  timezone    text        NOT NULL DEFAULT 'UTC',
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE saas.tenants IS 'An organisation (agency or brand). Every tenant table carries its id as tenant_id.';
COMMENT ON COLUMN saas.tenants.vertical IS 'Industry vertical, used to pick ads.performance_benchmarks rows.';
COMMENT ON COLUMN saas.tenants.currency IS 'ISO 4217 code in which the tenant''s spend and value are reported.';

CREATE TABLE IF NOT EXISTS saas.users (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text        NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
  name           text,
  password_hash  text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  disabled_at    timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON saas.users (email);
COMMENT ON TABLE saas.users IS 'People who sign in. Global (one account, several tenants); tenant access is in saas.memberships.';
COMMENT ON COLUMN saas.users.password_hash IS 'argon2id PHC string; NULL for single-sign-on accounts. Never sent to the browser.';

CREATE TABLE IF NOT EXISTS saas.memberships (
  tenant_id   uuid             NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  user_id     uuid             NOT NULL REFERENCES saas.users (id) ON DELETE CASCADE,
  role        saas.member_role NOT NULL DEFAULT 'viewer',
  created_at  timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_user_idx ON saas.memberships (user_id);
COMMENT ON TABLE saas.memberships IS 'Who belongs to which tenant, with which role (viewer < buyer < admin).';

CREATE TABLE IF NOT EXISTS saas.audit_log (
  tenant_id      uuid        NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id             bigint      GENERATED ALWAYS AS IDENTITY,
  occurred_at    timestamptz NOT NULL DEFAULT now(),
  actor_user_id  uuid,
  actor_label    text,
  action         text        NOT NULL,
  entity_type    text        NOT NULL,
  entity_id      text,
  before         jsonb,
  after          jsonb,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS audit_log_tenant_time_idx ON saas.audit_log (tenant_id, occurred_at DESC);
COMMENT ON TABLE saas.audit_log IS
  'Append-only record of every mutation: who, what, which entity, before and after, when. Written in the same transaction as the change.';

CREATE TABLE IF NOT EXISTS saas.api_keys (
  tenant_id     uuid             NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id            uuid             NOT NULL DEFAULT gen_random_uuid(),
  name          text             NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  key_prefix    text             NOT NULL,
  key_hash      text             NOT NULL,
  role          saas.member_role NOT NULL DEFAULT 'viewer',
  created_by    uuid,
  created_at    timestamptz      NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_prefix_key ON saas.api_keys (tenant_id, key_prefix);
COMMENT ON TABLE saas.api_keys IS 'Keys for programmatic access; only a hash of the secret is kept.';

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_TABLES', 'success', 'saas.tenants, users, memberships, audit_log, api_keys present');

-- ---------------------------------------------------------------------------
-- Row-level security: enabled and forced (the owner is filtered too).
-- Policies are dropped and recreated so a redeploy applies their latest text.
--
-- Tenant isolation is written once, here: aegis_deploy.isolate_by_tenant
-- gives a tenant table RLS enabled and forced and the policy
-- tenant_isolation on its tenant column, read once per statement through a
-- scalar sub-select. Every file that creates a tenant table CALLs it. A
-- deployment helper: its schema is not granted to the app role, and only the
-- owner may execute it.
-- ---------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS aegis_deploy AUTHORIZATION aegis_owner;
COMMENT ON SCHEMA aegis_deploy IS 'Helpers of the SQL deployment files (owner only; not granted to aegis_app).';

CREATE OR REPLACE PROCEDURE aegis_deploy.isolate_by_tenant(p_table regclass, p_column name DEFAULT 'tenant_id')
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_table);
  EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', p_table);
  EXECUTE format('CREATE POLICY tenant_isolation ON %1$s
                    USING (%2$I = (SELECT saas.current_tenant_id()))
                    WITH CHECK (%2$I = (SELECT saas.current_tenant_id()))', p_table, p_column);
END
$$;
COMMENT ON PROCEDURE aegis_deploy.isolate_by_tenant(regclass, name) IS
  'Enables and forces row-level security on a tenant table and (re)creates its policy tenant_isolation: '
  'p_column = (SELECT saas.current_tenant_id()) for reads and writes. For the deployment files, run as aegis_owner.';
REVOKE ALL ON PROCEDURE aegis_deploy.isolate_by_tenant(regclass, name) FROM PUBLIC;

ALTER TABLE saas.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE saas.users FORCE ROW LEVEL SECURITY;

CALL aegis_deploy.isolate_by_tenant('saas.tenants', 'id');

-- A user row is visible to its owner and to the tenants it is a member of.
-- Creating an account is open (it grants nothing until a membership exists).
DROP POLICY IF EXISTS user_visibility ON saas.users;
CREATE POLICY user_visibility ON saas.users FOR SELECT
  USING (id = (SELECT saas.current_user_id())
         OR EXISTS (SELECT 1 FROM saas.memberships m
                    WHERE m.user_id = users.id AND m.tenant_id = (SELECT saas.current_tenant_id())));
DROP POLICY IF EXISTS user_insert ON saas.users;
CREATE POLICY user_insert ON saas.users FOR INSERT WITH CHECK (true);
-- An account is updated by its own user only: an admin of one tenant must not
-- rewrite the email or password of someone who also belongs to another.
DROP POLICY IF EXISTS user_update ON saas.users;
CREATE POLICY user_update ON saas.users FOR UPDATE
  USING (id = (SELECT saas.current_user_id()))
  WITH CHECK (id = (SELECT saas.current_user_id()));

CALL aegis_deploy.isolate_by_tenant('saas.memberships');
CALL aegis_deploy.isolate_by_tenant('saas.audit_log');
CALL aegis_deploy.isolate_by_tenant('saas.api_keys');

-- Grants name what they allow. The audit log is append-only for the app.
-- No DELETE on tenants: one app bug must not cascade away a whole tenant.
GRANT SELECT, INSERT, UPDATE ON saas.tenants TO aegis_app;
REVOKE DELETE, TRUNCATE ON saas.tenants FROM aegis_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON saas.memberships, saas.api_keys TO aegis_app;
-- Accounts: column privileges only, never password_hash (the full lists, with
-- the columns later files add, are in db/functions/accounts.sql).
GRANT SELECT (id, email, name, disabled_at), INSERT (id, email, name) ON saas.users TO aegis_app;
GRANT SELECT, INSERT ON saas.audit_log TO aegis_app;
GRANT EXECUTE ON FUNCTION saas.current_tenant_id(), saas.current_user_id(), saas.assert_tenant(uuid) TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_SECURITY', 'success', 'row-level security enabled and forced on every saas table');

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_COMPLETE', 'success', 'AEGIS core deployed');

COMMIT;
