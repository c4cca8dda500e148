-- AEGIS engine, second pass, the one-time part: what the sounder engine needs
-- to keep (its functions are in db/media_buying/*.sql, re-applied on deploy).
--
--   * recommendations can be withdrawn (the data no longer support them):
--     status 'withdrawn', when and why; never a silent delete;
--   * metrics_daily keeps the first reported conversions and value of a day
--     and when they were loaded, so the engine can learn each platform's
--     conversion lag from later restatements;
--   * the ledger of examined (tenant, platform, level, day): a platform whose
--     day arrives late, or days missed (downtime, weekly tenants), are caught
--     up; a day restated after it was examined is examined again.
--
-- Idempotent: objects are created when missing and constraints replaced.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_ENGINE_2_START', 'started', '005_engine_second_pass: withdrawn recommendations, first reports, examined days');

-- ---------------------------------------------------------------------------
-- Withdrawn recommendations
-- ---------------------------------------------------------------------------
ALTER TABLE ads.optimization_recommendations DROP CONSTRAINT IF EXISTS optimization_recommendations_status_check;
ALTER TABLE ads.optimization_recommendations ADD CONSTRAINT optimization_recommendations_status_check
  CHECK (status IN ('pending', 'approved', 'applied', 'dismissed', 'expired', 'failed', 'withdrawn'));
ALTER TABLE ads.optimization_recommendations ADD COLUMN IF NOT EXISTS withdrawn_at timestamptz;
ALTER TABLE ads.optimization_recommendations ADD COLUMN IF NOT EXISTS withdrawal_reason text;
COMMENT ON COLUMN ads.optimization_recommendations.withdrawn_at IS
  'When the engine withdrew the recommendation because a later run no longer supported it (status withdrawn).';
COMMENT ON COLUMN ads.optimization_recommendations.withdrawal_reason IS
  'Why it was withdrawn, in words; the figures that changed are in evidence -> ''withdrawal''.';

-- ---------------------------------------------------------------------------
-- First reports: conversions of a day keep arriving for days (attribution
-- lag). The first load of a row is kept beside the current figures.
-- ---------------------------------------------------------------------------
-- (The columns are declared with the table, db/media_buying/020_tables.sql; the
-- trigger fills them from now on. Rows loaded before: their first report is unknown,
-- the best record is the current one.)
COMMENT ON COLUMN ads.metrics_daily.first_conversions IS
  'Conversions as first loaded (set on insert, kept by later updates): with first_loaded_at, the data age they were reported at.';
COMMENT ON COLUMN ads.metrics_daily.first_conversion_value IS 'Conversion value as first loaded (kept by later updates).';
COMMENT ON COLUMN ads.metrics_daily.first_loaded_at IS 'When the row was first loaded (kept by later updates; updated_at is the last load).';
UPDATE ads.metrics_daily
   SET first_conversions = conversions, first_conversion_value = conversion_value, first_loaded_at = created_at
 WHERE first_loaded_at IS NULL;

-- ---------------------------------------------------------------------------
-- The ledger of examined days
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.examined_days (
  tenant_id        uuid             NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  platform         ads.platform     NOT NULL,
  level            ads.entity_level NOT NULL,
  day              date             NOT NULL,
  examined_at      timestamptz      NOT NULL DEFAULT now(),
  data_loaded_at   timestamptz      NOT NULL,
  rows_examined    integer          NOT NULL DEFAULT 0 CHECK (rows_examined >= 0),
  anomalies_found  integer          NOT NULL DEFAULT 0 CHECK (anomalies_found >= 0),
  CONSTRAINT examined_days_pkey PRIMARY KEY (tenant_id, platform, level, day)
);
COMMENT ON TABLE ads_engine.examined_days IS
  'Days the anomaly detector examined, per platform and level, with the latest load of that day''s rows it saw (data_loaded_at): '
  'a day not in the ledger, or loaded again since, is examined on the next run.';
CALL aegis_deploy.isolate_by_tenant('ads_engine.examined_days');
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.examined_days TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_ENGINE_2_COMPLETE', 'success', '005_engine_second_pass applied');

COMMIT;
