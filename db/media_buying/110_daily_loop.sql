-- Media Buying, 110_daily_loop: maintenance, the daily loop and the scheduler.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- Maintenance and the daily loop
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.run_maintenance(p_tenant uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_expired integer;
  v_deleted integer;
  v_completed integer;
BEGIN
  v_expired := ads_engine.expire_recommendations(p_tenant);
  DELETE FROM ads.anomalies an
   WHERE an.tenant_id = p_tenant AND an.status = 'resolved' AND an.resolved_at < now() - interval '30 days';
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  -- "past end_date" in the tenant's calendar: its today is its yesterday + 1
  UPDATE ads.ab_tests t SET status = 'completed', updated_at = now()
   WHERE t.tenant_id = p_tenant AND t.status = 'running' AND t.end_date <= ads_engine.tenant_yesterday(p_tenant);
  GET DIAGNOSTICS v_completed = ROW_COUNT;
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN jsonb_build_object('recommendations_expired', v_expired, 'anomalies_deleted', v_deleted, 'ab_tests_completed', v_completed);
END
$$;
COMMENT ON FUNCTION ads_engine.run_maintenance(uuid) IS
  'The guide''s maintenance for one tenant: expires pending recommendations past expires_at (ads_engine.expire_recommendations), deletes resolved anomalies '
  'older than 30 days, completes running A/B tests whose end_date is before the tenant''s today (saas.tenants.timezone). Returns the counts.';

CREATE OR REPLACE FUNCTION ads_engine.run_daily_loop(
  p_tenant uuid, p_as_of date DEFAULT NULL, p_trigger text DEFAULT 'manual')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_as_of date := ads_engine.tenant_as_of(p_tenant, p_as_of);
  v_summary jsonb;
BEGIN
  IF p_trigger IS NULL OR p_trigger NOT IN ('schedule', 'manual', 'cli') THEN
    RAISE EXCEPTION 'trigger must be schedule, manual or cli (got %)', coalesce(p_trigger, 'NULL') USING ERRCODE = '22023';
  END IF;
  -- One loop per tenant at a time (scheduler, UI and command line may overlap).
  PERFORM pg_advisory_xact_lock(hashtext('aegis.optimizer'), hashtext(p_tenant::text));

  -- Maintenance first: expired recommendations are counted here (and no
  -- longer block fresh ones).
  v_summary := ads_engine.run_maintenance(p_tenant);
  v_summary := v_summary || jsonb_build_object(
    'as_of', v_as_of,
    -- whether the day's metrics had arrived (the scheduler runs a day again
    -- when they arrive after a run without them: ads_engine.tenants_due)
    'data_arrived', EXISTS (SELECT 1 FROM ads.metrics_daily m WHERE m.tenant_id = p_tenant AND m.day >= v_as_of));
  -- one step after the other, in this order
  v_summary := v_summary || jsonb_build_object('baselines', ads_engine.compute_baselines(p_tenant, v_as_of));
  v_summary := v_summary || jsonb_build_object('campaigns_analyzed', ads_engine.record_campaign_performance(p_tenant, 7, v_as_of));
  v_summary := v_summary || jsonb_build_object('recommendations', ads_engine.generate_recommendations(p_tenant, v_as_of));
  v_summary := v_summary || jsonb_build_object('anomalies', ads_engine.detect_anomalies(p_tenant, v_as_of));

  INSERT INTO ads_engine.optimizer_runs (tenant_id, trigger, as_of, status, summary, requested_by, finished_at)
  VALUES (p_tenant, p_trigger, v_as_of, 'success', v_summary, saas.current_user_id(), clock_timestamp());
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_summary;
END
$$;
COMMENT ON FUNCTION ads_engine.run_daily_loop(uuid, date, text) IS
  'The daily loop for one tenant in the caller''s transaction, for the day p_as_of (NULL or omitted: the tenant''s yesterday in saas.tenants.timezone, '
  'ads_engine.tenant_yesterday): maintenance, every baseline window, the 7-day campaign_performance of every campaign, recommendations, anomalies; '
  'logs a success row in ads_engine.optimizer_runs and returns the counts, with as_of and data_arrived (whether metrics for as_of or later were loaded). '
  'Serialised per tenant by an advisory lock.';

CREATE OR REPLACE FUNCTION ads_engine.record_run_failure(
  p_tenant uuid, p_as_of date, p_trigger text, p_error text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
BEGIN
  INSERT INTO ads_engine.optimizer_runs (tenant_id, trigger, as_of, status, error, requested_by, finished_at)
  VALUES (p_tenant, p_trigger, ads_engine.tenant_as_of(p_tenant, p_as_of), 'error', left(p_error, 2000),
          saas.current_user_id(), clock_timestamp());
  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.record_run_failure(uuid, date, text, text) IS
  'Logs a failed loop run in ads_engine.optimizer_runs (called in a fresh transaction after the failed one rolled back).';

-- The scheduler's view of every tenant: which are due now. SECURITY DEFINER
-- (owned by aegis_owner) so it can read across tenants; it returns ids and
-- schedules only, refuses to run inside a tenant transaction, and only the
-- owner (and its members: the worker, the command line) may execute it: the
-- app role cannot list tenants (see the grants below).
--
-- A daily run is for the tenant's yesterday (its own time zone) and waits
-- for that day's data: a tenant is due once metrics for its yesterday (or
-- later) are loaded, or, when they are late, once the grace period after
-- its local midnight has passed (p_grace, default 12 hours: noon). A run
-- made without data records data_arrived = false in its summary; when the
-- data then arrives, the day is due again, so a late load is still checked
-- for anomalies instead of being skipped for good.
DROP FUNCTION IF EXISTS ads_engine.tenants_due(timestamptz, boolean);
CREATE OR REPLACE FUNCTION ads_engine.tenants_due(
  p_now timestamptz DEFAULT now(), p_all boolean DEFAULT false, p_grace interval DEFAULT interval '12 hours')
RETURNS TABLE (tenant_id uuid, frequency text, last_run_at timestamptz, due boolean, as_of date, data_arrived boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF saas.current_tenant_id() IS NOT NULL THEN
    RAISE EXCEPTION 'ads_engine.tenants_due lists every tenant: call it outside a tenant transaction (scheduler, command line)'
      USING ERRCODE = '42501';
  END IF;
  IF p_now IS NULL THEN
    RAISE EXCEPTION 'p_now must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF p_grace IS NULL OR p_grace < interval '0' OR p_grace > interval '24 hours' THEN
    RAISE EXCEPTION 'p_grace must be between 0 and 24 hours (got %)', coalesce(p_grace::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  PERFORM pg_catalog.set_config('ads_engine.scope', 'all_tenants', true);
  RETURN QUERY
  WITH t AS (
    SELECT t.id, ads_engine.local_yesterday(t.timezone, p_now) AS as_of,
           p_now AT TIME ZONE ads_engine.valid_timezone(t.timezone) AS local_now
    FROM saas.tenants t
  ),
  f AS (
    SELECT t.id, t.as_of,
           t.local_now - date_trunc('day', t.local_now) >= p_grace AS grace_passed,
           coalesce((SELECT (ARRAY['hourly', 'daily', 'weekly', 'manual'])[min(array_position(ARRAY['hourly', 'daily', 'weekly', 'manual'], pc.optimization_frequency))]
                     FROM ads.platform_configs pc WHERE pc.tenant_id = t.id), 'daily') AS frequency,
           (SELECT max(o.started_at) FROM ads_engine.optimizer_runs o WHERE o.tenant_id = t.id) AS last_run,
           (SELECT max(o.started_at) FROM ads_engine.optimizer_runs o WHERE o.tenant_id = t.id AND o.status = 'success') AS last_success,
           -- successful runs for the tenant's yesterday (or later): any, and any made with its data
           -- (runs logged before data_arrived existed count as made with data)
           (SELECT bool_or(true) FROM ads_engine.optimizer_runs o
             WHERE o.tenant_id = t.id AND o.status = 'success' AND o.as_of >= t.as_of) AS done,
           (SELECT bool_or(coalesce((o.summary ->> 'data_arrived')::boolean, true)) FROM ads_engine.optimizer_runs o
             WHERE o.tenant_id = t.id AND o.status = 'success' AND o.as_of >= t.as_of) AS done_with_data,
           coalesce((SELECT max(m.day) FROM ads.metrics_daily m WHERE m.tenant_id = t.id) >= t.as_of, false) AS data_ready
    FROM t
  ),
  g AS (
    SELECT f.*,
           -- an attempt in the last 55 minutes (success or failure) waits for the next hour
           (f.last_run IS NULL OR f.last_run <= p_now - interval '55 minutes') AND CASE f.frequency
             WHEN 'hourly' THEN true
             WHEN 'daily' THEN (f.data_ready OR f.grace_passed)
                               AND (f.done IS NULL OR (f.data_ready AND NOT coalesce(f.done_with_data, false)))
             WHEN 'weekly' THEN (f.data_ready OR f.grace_passed)
                                AND (f.last_success IS NULL OR f.last_success <= p_now - interval '7 days' + interval '5 minutes')
             ELSE false
           END AS is_due
    FROM f
  )
  SELECT g.id, g.frequency, g.last_run, g.is_due, g.as_of, g.data_ready
  FROM g
  WHERE p_all OR g.is_due
  ORDER BY g.id;
  PERFORM pg_catalog.set_config('ads_engine.scope', '', true);
END
$$;
COMMENT ON FUNCTION ads_engine.tenants_due(timestamptz, boolean, interval) IS
  'Tenants whose optimisation loop is due at p_now (every tenant with p_all), with the day to run (as_of: the tenant''s yesterday in saas.tenants.timezone) '
  'and whether metrics for that day have arrived (data_arrived). Frequency: the most frequent optimization_frequency of its platform_configs (daily without any). '
  'hourly: every hour; daily: once metrics for its yesterday are loaded, or once p_grace (default 12 hours) has passed since its local midnight, until a run '
  'for that day succeeded, and again when the data arrives after a run that had none (summary data_arrived = false); weekly: 7 days after the last success, '
  'with the same wait for data; manual: never. An attempt in the last 55 minutes (success or failure) waits. '
  'SECURITY DEFINER with a fixed search_path; returns ids only, refuses to run while a tenant is set, and is executable by the owner (and its members) only, '
  'not by the app role.';

SET LOCAL aegis.media_part_110_daily_loop = 'done';
