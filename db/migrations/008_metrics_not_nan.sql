-- AEGIS metrics: no NaN in the daily figures. PostgreSQL's numeric accepts
-- 'NaN', and NaN passes CHECK (spend >= 0) (NaN sorts above every number), so
-- one such row made every total of its tenant NaN and, through comparisons,
-- rated a whole platform Excellent. A load that carries one is refused now,
-- naming the constraint. 'Infinity' is already refused by numeric(p, s).
--
-- Idempotent: each check is added when missing. A database that already holds
-- NaN rows fails here, naming the constraint: correct those rows first.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

DO $checks$
DECLARE
  c record;
BEGIN
  FOR c IN
    SELECT * FROM (VALUES
      ('metrics_daily_spend_not_nan', 'spend'),
      ('metrics_daily_conversions_not_nan', 'conversions'),
      ('metrics_daily_conversion_value_not_nan', 'conversion_value'),
      ('metrics_daily_first_conversions_not_nan', 'first_conversions'),
      ('metrics_daily_first_conversion_value_not_nan', 'first_conversion_value')) AS v(name, col)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                   WHERE conrelid = 'ads.metrics_daily'::regclass AND conname = c.name) THEN
      EXECUTE format('ALTER TABLE ads.metrics_daily ADD CONSTRAINT %I CHECK (%I <> ''NaN''::numeric)', c.name, c.col);
    END IF;
  END LOOP;
END
$checks$;

COMMIT;
