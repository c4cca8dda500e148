-- Media Buying, 050_run_log: the daily loop's run log and the scheduler's read-only policies.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- Run log of the daily loop (schedule, UI, command line). A tenant table:
-- RLS forced like the others. The scheduler reads every tenant's last run
-- through ads_engine.tenants_due only (policy optimizer_scheduler_scan).
CREATE TABLE IF NOT EXISTS ads_engine.optimizer_runs (
  tenant_id     uuid        NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id            bigint      GENERATED ALWAYS AS IDENTITY,
  trigger       text        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'cli')),
  as_of         date        NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  status        text        NOT NULL CHECK (status IN ('success', 'error')),
  summary       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  error         text,
  requested_by  uuid,
  CONSTRAINT optimizer_runs_pkey PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS optimizer_runs_tenant_time_idx ON ads_engine.optimizer_runs (tenant_id, started_at DESC);
-- The scheduler's "is the tenant's yesterday done?" (ads_engine.tenants_due).
CREATE INDEX IF NOT EXISTS optimizer_runs_tenant_done_idx ON ads_engine.optimizer_runs (tenant_id, as_of) WHERE status = 'success';
COMMENT ON TABLE ads_engine.optimizer_runs IS
  'One row per run of the daily optimisation loop for a tenant: when, for which day, what it did (summary) or why it failed.';
CALL aegis_deploy.isolate_by_tenant('ads_engine.optimizer_runs');
GRANT SELECT, INSERT ON ads_engine.optimizer_runs TO aegis_app;

-- The scheduler must list every tenant, but the owner is subject to forced
-- RLS too. These read-only policies apply to the owner role alone, and only
-- while ads_engine.scope is 'all_tenants': ads_engine.tenants_due (SECURITY
-- DEFINER, owned by aegis_owner) sets it for its own duration. aegis_app is
-- not a member of aegis_owner, so setting the variable gives it nothing.
-- The same policy on each table the scheduler reads: saas.tenants,
-- ads.platform_configs, ads_engine.optimizer_runs, and ads.metrics_daily
-- (whether yesterday's metrics have arrived: the latest day per tenant, on
-- the (tenant_id, day) index).
DO $scan$
DECLARE
  t regclass;
BEGIN
  FOREACH t IN ARRAY ARRAY['saas.tenants', 'ads.platform_configs', 'ads_engine.optimizer_runs', 'ads.metrics_daily']::regclass[]
  LOOP
    EXECUTE format('DROP POLICY IF EXISTS optimizer_scheduler_scan ON %s', t);
    EXECUTE format('CREATE POLICY optimizer_scheduler_scan ON %s FOR SELECT TO aegis_owner '
                   'USING (current_setting(''ads_engine.scope'', true) = ''all_tenants'')', t);
  END LOOP;
END
$scan$;

SET LOCAL aegis.media_part_050_run_log = 'done';
