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
  v_summary := v_summary || jsonb_build_object('outcomes_measured', ads_engine.measure_outcomes(p_tenant, v_as_of));
  -- kept for the pages, which mark the days whose conversions are still coming in
  PERFORM ads_engine.store_conversion_lag(p_tenant, v_as_of);

  INSERT INTO ads_engine.optimizer_runs (tenant_id, trigger, as_of, status, summary, requested_by, finished_at)
  VALUES (p_tenant, p_trigger, v_as_of, 'success', v_summary, saas.current_user_id(), clock_timestamp());
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_summary;
END
$$;
COMMENT ON FUNCTION ads_engine.run_daily_loop(uuid, date, text) IS
  'The daily loop for one tenant in the caller''s transaction, for the day p_as_of (NULL or omitted: the tenant''s yesterday in saas.tenants.timezone, '
  'ads_engine.tenant_yesterday): maintenance, every baseline window, the 7-day campaign_performance of every campaign, recommendations, anomalies '
  '(the day and every day of the week before not yet examined with its current data), the outcomes of applied recommendations due for measurement, '
  'the conversion lag it learnt (ads_engine.store_conversion_lag); '
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

SET LOCAL aegis.media_part_110_daily_loop = 'done';
