-- AEGIS Media Buying: the ads schema. Nine tables, their indexes, row-level
-- security, and the optimisation functions, in the parts of media_buying/
-- that this file includes, in order.
--
-- Requires db/deploy.sql (core) first:
--   psql -d aegis_db -f db/deploy.sql
--   psql -d aegis_db -f db/media_buying_deployment.sql
--
-- Idempotent and atomic like the core file: one transaction around every
-- part, objects created when missing, functions replaced, policies
-- recreated. Deployment phases are logged to public.deployment_log with names
-- starting with MEDIA. The parts are read with psql's include_relative (a
-- path relative to this file, whatever the current folder); the app's
-- migrator expands the same lines (db/tools/migrate.ts).

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

DO $check$
BEGIN
  IF to_regclass('public.deployment_log') IS NULL OR to_regnamespace('saas') IS NULL
     OR to_regprocedure('aegis_deploy.isolate_by_tenant(regclass, name)') IS NULL THEN
    RAISE EXCEPTION 'AEGIS core is not deployed: run db/deploy.sql first';
  END IF;
END
$check$;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_START', 'started', 'AEGIS Media Buying deployment started by ' || current_user);

SET LOCAL ROLE aegis_owner;

\ir media_buying/010_schema.sql

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_TYPES', 'success', 'ads.priority_level, ads.severity_level, ads.platform, ads.entity_level present');

\ir media_buying/020_tables.sql

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_TABLES', 'success', 'nine ads tables present');

\ir media_buying/030_indexes.sql

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_INDEXES', 'success', 'eight named indexes present');

\ir media_buying/040_security.sql

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_SECURITY', 'success', 'row-level security enabled and forced on every ads table');

-- ---------------------------------------------------------------------------
-- Optimisation functions (compute_baselines, analyze_campaign_performance,
-- generate_recommendations, detect_anomalies).
--
-- The four ads.* functions keep the guide's names, signatures and results
-- and delegate to ads_engine.* versions that take a reference day (p_as_of,
-- "the last complete day"); the guide's signatures pass the tenant's
-- yesterday in its own time zone (ads_engine.tenant_yesterday), not the
-- server's. Tests and backfills call the ads_engine versions with a fixed day.
--
-- All are SECURITY INVOKER: row-level security applies inside them. Each
-- refuses a tenant argument that is NULL or differs from saas.tenant_id.
-- When no tenant is set and the caller is an operator (a superuser, or a
-- member of aegis_owner: psql, as in the guide), the call sets
-- saas.tenant_id to its argument for its own duration (transaction-local,
-- restored when it returns), so the owner's forced RLS sees that tenant's
-- rows. Anyone else without a tenant setting (the app role) is refused:
-- "no setting: no rows, and writes fail". Every query also filters on
-- tenant_id explicitly.
--
-- Statistics used throughout:
--   * rates over a period are ratios of sums, never averages of daily ratios;
--   * a count n observed where lambda was expected is judged with the
--     variance-stabilised Poisson score z = 2 (sqrt(n + 3/8) - sqrt(lambda + 3/8)),
--     deflated by sqrt(1 + lambda / N) when lambda comes from a baseline of N
--     events (the baseline's own uncertainty); |z| >= 1.96 is "significant";
--   * anomalies use median and MAD (robust z), never mean and stddev.
-- ---------------------------------------------------------------------------
\ir media_buying/050_run_log.sql
\ir media_buying/055_rollups.sql
\ir media_buying/060_helpers.sql
\ir media_buying/065_statistics.sql
\ir media_buying/070_baselines.sql
\ir media_buying/080_analysis.sql
\ir media_buying/090_recommendations.sql
\ir media_buying/092_auto_apply.sql
\ir media_buying/095_readiness.sql
\ir media_buying/100_anomalies.sql
\ir media_buying/102_anomaly_workflow.sql
\ir media_buying/104_alerts.sql
\ir media_buying/105_outcomes.sql
\ir media_buying/110_daily_loop.sql
\ir media_buying/120_grants.sql

-- Each part sets its aegis.media_part_* marker last: a part psql could not
-- read (it reports the error and, without ON_ERROR_STOP, goes on) must not
-- let the others commit.
DO $parts$
DECLARE
  p text;
BEGIN
  FOREACH p IN ARRAY ARRAY['010_schema', '020_tables', '030_indexes', '040_security', '050_run_log', '055_rollups', '060_helpers', '065_statistics', '070_baselines', '080_analysis', '090_recommendations', '092_auto_apply', '095_readiness', '100_anomalies', '102_anomaly_workflow', '104_alerts', '105_outcomes', '110_daily_loop', '120_grants']
  LOOP
    IF current_setting('aegis.media_part_' || p, true) IS DISTINCT FROM 'done' THEN
      RAISE EXCEPTION 'media_buying/%.sql did not run: nothing of media_buying_deployment.sql is deployed', p;
    END IF;
  END LOOP;
END
$parts$;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_FUNCTIONS', 'success',
        'ads.compute_baselines, ads.analyze_campaign_performance, ads.generate_recommendations, ads.detect_anomalies and ads_engine helpers present');

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_COMPLETE', 'success', 'AEGIS Media Buying deployed');

COMMIT;
