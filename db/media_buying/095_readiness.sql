-- Media Buying, 095_readiness: which days are ready to examine (the ledger), conversion lag, re-scoring of restated days.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- The scheduler
-- ---------------------------------------------------------------------------
-- The scheduler's view of every tenant: which are due now. SECURITY DEFINER
-- (owned by aegis_owner) so it can read across tenants; it returns ids and
-- schedules only, refuses to run inside a tenant transaction, and only the
-- owner (and its members: the worker, the command line) may execute it: the
-- app role cannot list tenants (see the grants below).
--
-- A daily run is for the tenant's yesterday (its own time zone) and waits
-- for that day's data, platform by platform: a tenant is due once every
-- platform that had metrics in the 7 days before its yesterday has metrics
-- for its yesterday (or later), or, when one is late, once the grace period
-- after its local midnight has passed (p_grace, default 12 hours: noon). A
-- tenant with no platform in that week is ready once any metrics for its
-- yesterday are loaded. A run made without any data records data_arrived =
-- false in its summary; when data then arrives, the day is due again, so a
-- late load is still checked for anomalies instead of being skipped for good.
-- A platform arriving after a run that had another's data is examined by the
-- next run (ads_engine.days_to_examine: the ledger).
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
           coalesce((SELECT max(m.day) FROM ads.metrics_daily m WHERE m.tenant_id = t.id) >= t.as_of, false) AS any_data,
           -- every platform with rows in the 7 days before yesterday has rows for yesterday (or later)
           coalesce((SELECT bool_and(p.last_day >= t.as_of)
                     FROM (SELECT m.platform, max(m.day) AS last_day FROM ads.metrics_daily m
                           WHERE m.tenant_id = t.id AND m.day >= t.as_of - 7
                           GROUP BY m.platform HAVING min(m.day) < t.as_of) p), true) AS all_platforms
    FROM t
  ),
  r AS (
    SELECT f.*, f.any_data AND f.all_platforms AS data_ready
    FROM f
  ),
  g AS (
    SELECT r.*,
           -- an attempt in the last 55 minutes (success or failure) waits for the next hour
           (r.last_run IS NULL OR r.last_run <= p_now - interval '55 minutes') AND CASE r.frequency
             WHEN 'hourly' THEN true
             -- a run made without any data is made again once some data is in
             -- (the grace has passed then: waiting for the rest is the ledger's job)
             WHEN 'daily' THEN (r.data_ready OR r.grace_passed)
                               AND (r.done IS NULL OR (r.any_data AND NOT coalesce(r.done_with_data, false)))
             WHEN 'weekly' THEN (r.data_ready OR r.grace_passed)
                                AND (r.last_success IS NULL OR r.last_success <= p_now - interval '7 days' + interval '5 minutes')
             ELSE false
           END AS is_due
    FROM r
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
  'and whether that day''s metrics have arrived (data_arrived: every platform with metrics in the 7 days before it has metrics for it or later; with no such '
  'platform, any metrics for it). Frequency: the most frequent optimization_frequency of its platform_configs (daily without any). '
  'hourly: every hour; daily: once its yesterday''s metrics have arrived, or once p_grace (default 12 hours) has passed since its local midnight, until a run '
  'for that day succeeded, and again when some data arrives after a run that had none (summary data_arrived = false); weekly: 7 days after the last success, '
  'with the same wait for data; manual: never. An attempt in the last 55 minutes (success or failure) waits. '
  'SECURITY DEFINER with a fixed search_path; returns ids only, refuses to run while a tenant is set, and is executable by the owner (and its members) only, '
  'not by the app role.';

-- ---------------------------------------------------------------------------
-- The ledger of examined days (ads_engine.examined_days, migration 005)
-- ---------------------------------------------------------------------------
-- A day is examined once its data is in, platform by platform and level by
-- level: a platform whose yesterday arrives after another's is examined by
-- the next run, days a run missed (downtime, a weekly tenant) are caught up,
-- and a day loaded again after it was examined (a restatement: updated_at
-- later than the load the ledger saw) is examined again.
CREATE OR REPLACE FUNCTION ads_engine.days_to_examine(p_tenant uuid, p_as_of date, p_lookback integer DEFAULT 7)
RETURNS TABLE (platform text, level text, day date, data_loaded_at timestamptz, rows_present integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);
  IF p_lookback IS NULL THEN
    RAISE EXCEPTION 'p_lookback must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF p_lookback < 1 OR p_lookback > 366 THEN
    RAISE EXCEPTION 'p_lookback must be between 1 and 366 days (got %)', p_lookback USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
  SELECT m.platform::text, m.level::text, m.day, max(m.updated_at), count(*)::integer
  FROM ads.metrics_daily m
  LEFT JOIN ads_engine.examined_days e
         ON e.tenant_id = p_tenant AND e.platform = m.platform AND e.level = m.level AND e.day = m.day
  WHERE m.tenant_id = p_tenant AND m.level IN ('campaign', 'adset')
    AND m.day BETWEEN p_as_of - p_lookback + 1 AND p_as_of
  GROUP BY m.platform, m.level, m.day, e.data_loaded_at, e.rows_examined
  -- new rows count too: a load that committed after the examination can carry
  -- an older timestamp (its transaction started first)
  HAVING e.data_loaded_at IS NULL OR max(m.updated_at) > e.data_loaded_at OR count(*) > e.rows_examined
  ORDER BY m.day, m.platform::text, m.level::text;
  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.days_to_examine(uuid, date, integer) IS
  'The (platform, level, day) the anomaly detector still has to examine: every campaign or adset day with rows in ads.metrics_daily in '
  '[p_as_of - p_lookback + 1, p_as_of] (p_lookback 1..366, default 7) that is not in ads_engine.examined_days, or whose rows were loaded again '
  '(max(updated_at)) after the load the ledger recorded (data_loaded_at), or that has more rows than it examined (a load that committed late). Returns that latest load and the number of rows; ordered by day. '
  'After examining a day, record it with ads_engine.mark_examined(..., data_loaded_at, rows_present, anomalies found).';

CREATE OR REPLACE FUNCTION ads_engine.mark_examined(
  p_tenant uuid, p_platform text, p_level text, p_day date, p_loaded_at timestamptz, p_rows integer, p_found integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
BEGIN
  PERFORM ads_engine.check_platform(p_platform);
  PERFORM ads_engine.check_level(p_level);
  IF p_day IS NULL THEN
    RAISE EXCEPTION 'p_day must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF p_loaded_at IS NULL THEN
    RAISE EXCEPTION 'p_loaded_at (the latest load of the day examined) must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF p_rows IS NULL OR p_rows < 0 THEN
    RAISE EXCEPTION 'p_rows must be a count >= 0 (got %)', coalesce(p_rows::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF p_found IS NULL OR p_found < 0 THEN
    RAISE EXCEPTION 'p_found must be a count >= 0 (got %)', coalesce(p_found::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  INSERT INTO ads_engine.examined_days AS e (tenant_id, platform, level, day, examined_at, data_loaded_at, rows_examined, anomalies_found)
  VALUES (p_tenant, p_platform, p_level, p_day, now(), p_loaded_at, p_rows, p_found)
  ON CONFLICT ON CONSTRAINT examined_days_pkey DO UPDATE
     SET examined_at = now(), data_loaded_at = EXCLUDED.data_loaded_at,
         rows_examined = EXCLUDED.rows_examined, anomalies_found = EXCLUDED.anomalies_found
   WHERE e.tenant_id = p_tenant;
  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.mark_examined(uuid, text, text, date, timestamptz, integer, integer) IS
  'Records in ads_engine.examined_days that the (platform, level, day) was examined now, on the data loaded up to p_loaded_at '
  '(the data_loaded_at of ads_engine.days_to_examine), p_rows rows, p_found anomalies; a day examined again replaces its entry (upsert).';

-- ---------------------------------------------------------------------------
-- Conversion lag, learnt from restatements
-- ---------------------------------------------------------------------------
-- Conversions of a day keep arriving for days. metrics_daily keeps the first
-- report of each row (first_conversions, first_loaded_at); once a day is 14
-- days old its figures count as final. For the rows first reported at age a
-- (the tenant-local date of the first load minus the day), the share of the
-- final conversions the first report carried is the completeness of data of
-- age a. Learnt over the last 90 final days (attribution settings change),
-- campaign rows only (ad sets would count the same conversions twice).
CREATE OR REPLACE FUNCTION ads_engine.conversion_completeness(p_tenant uuid, p_as_of date)
RETURNS TABLE (platform text, age_days integer, completeness numeric, days integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_timezone text;
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);
  SELECT ads_engine.valid_timezone(t.timezone) INTO v_timezone FROM saas.tenants t WHERE t.id = p_tenant;
  RETURN QUERY
  WITH r AS (
    SELECT m.platform::text AS platform, m.day,
           (m.first_loaded_at AT TIME ZONE v_timezone)::date - m.day AS age,
           m.first_conversions, m.conversions
    FROM ads.metrics_daily m
    WHERE m.tenant_id = p_tenant AND m.level = 'campaign'
      AND m.day BETWEEN p_as_of - 103 AND p_as_of - 14
      AND m.first_loaded_at IS NOT NULL AND m.first_conversions IS NOT NULL
  )
  SELECT r.platform, r.age, greatest(0.05, least(1, round(sum(r.first_conversions) / sum(r.conversions), 4))),
         count(DISTINCT r.day)::integer
  FROM r
  WHERE r.age BETWEEN 0 AND 13
  GROUP BY r.platform, r.age
  HAVING count(DISTINCT r.day) >= 7 AND sum(r.conversions) >= 20
  ORDER BY r.platform, r.age;
  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.conversion_completeness(uuid, date) IS
  'Each platform''s conversion lag learnt from restatements: for each data age 0..13 days (tenant-local date of first_loaded_at minus the day, '
  'saas.tenants.timezone), over the campaign rows of the 90 final days [p_as_of - 103, p_as_of - 14] first reported at that age, '
  'completeness = sum(first_conversions) / sum(conversions), clamped to [0.05, 1], with the number of days it rests on. '
  'Only ages with at least 7 such days and 20 final conversions are listed; ads_engine.completeness_at gives 1 for the others.';

-- The lag the loop learnt, kept for the pages (ads_engine.conversion_lag,
-- migration 009): they read it instead of re-learning it on every view.
CREATE OR REPLACE FUNCTION ads_engine.store_conversion_lag(p_tenant uuid, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_n integer;
BEGIN
  DELETE FROM ads_engine.conversion_lag l WHERE l.tenant_id = p_tenant;
  -- Every age of every platform with data, 1 (complete) where no lag is known: a page that finds rows knows
  -- the loop has looked, and need not learn the lag again itself.
  INSERT INTO ads_engine.conversion_lag (tenant_id, platform, age_days, completeness, days, as_of)
  SELECT p_tenant, p.platform, a.age, coalesce(c.completeness, 1), coalesce(c.days, 0), p_as_of
  FROM (SELECT DISTINCT m.platform::text AS platform FROM ads.metrics_daily m
        WHERE m.tenant_id = p_tenant AND m.level = 'campaign' AND m.day BETWEEN p_as_of - 103 AND p_as_of) p
  CROSS JOIN generate_series(0, 13) AS a(age)
  LEFT JOIN ads_engine.conversion_completeness(p_tenant, p_as_of) c ON c.platform = p.platform AND c.age_days = a.age;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.store_conversion_lag(uuid, date) IS
  'Replaces the tenant''s rows of ads_engine.conversion_lag with ads_engine.conversion_completeness(p_tenant, p_as_of): every age 0..13 of every platform with '
  'campaign rows in the 104 days to p_as_of, 1 (days 0) where no lag is known. Returns the rows written. Called by the daily loop.';

CREATE OR REPLACE FUNCTION ads_engine.completeness_at(p_tenant uuid, p_platform text, p_age integer, p_as_of date)
RETURNS numeric
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_c numeric;
BEGIN
  PERFORM ads_engine.check_platform(p_platform);
  PERFORM ads_engine.check_as_of(p_as_of);
  IF p_age IS NULL THEN
    RAISE EXCEPTION 'p_age (the data''s age in days) must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF p_age < 0 THEN
    RAISE EXCEPTION 'p_age must be >= 0 days (got %)', p_age USING ERRCODE = '22023';
  END IF;
  IF p_age < 14 THEN
    SELECT c.completeness INTO v_c
    FROM ads_engine.conversion_completeness(p_tenant, p_as_of) c
    WHERE c.platform = p_platform AND c.age_days = p_age;
  END IF;
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN coalesce(v_c, 1);
END
$$;
COMMENT ON FUNCTION ads_engine.completeness_at(uuid, text, integer, date) IS
  'The share of its final conversions that data of age p_age days carries on p_platform (ads_engine.conversion_completeness as of p_as_of); '
  '1 when the age is 14 days or more or the lag of that age is not known. Expected conversions and value of a day that young are multiplied by it.';

-- ---------------------------------------------------------------------------
-- Restated days: anomalies re-scored on the figures now stored
-- ---------------------------------------------------------------------------
-- An open anomaly was decided on the figures loaded then. When its day's
-- row is loaded again later (a restatement: conversions arriving late, a
-- spend correction), the same test is run again on the figures now stored,
-- from the anomaly's details (docs/engine.md): a count test's expectation is
-- rate x the new exposure (x the completeness of the data, when the
-- detection applied one: details.completeness), the spend test's stays the
-- expected spend with its log_sd. When the new p-value is above the cut the
-- anomaly was raised at (p_threshold), the anomaly is closed as restated;
-- otherwise it stays open with its figures refreshed. Either way
-- details.restated records the re-scoring, and the audit log the change.
CREATE OR REPLACE FUNCTION ads_engine.format_p(p float8) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN p IS NULL THEN 'unknown'
              WHEN p < 0.001 THEN btrim(to_char(p, '9.9EEEE'))
              ELSE round(p::numeric, 3)::text END
$$;
COMMENT ON FUNCTION ads_engine.format_p(float8) IS
  'A p-value for a sentence: three decimals, or two significant digits in scientific notation below 0.001.';

CREATE OR REPLACE FUNCTION ads_engine.rescore_restated(p_tenant uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_timezone text;
  v_closed integer := 0;
  v_n integer;
  r record;
  v_observed numeric;
  v_exposure numeric;
  v_expected numeric;
  v_phi numeric;
  v_sd numeric;
  v_p float8;
  v_score numeric;
  v_completeness numeric;
  v_age integer;
  v_k numeric;
  v_aov numeric;
  v_var numeric;
  v_s2 float8;
  v_restated jsonb;
  v_note text;
  v_old_p float8;
BEGIN
  SELECT ads_engine.valid_timezone(t.timezone) INTO v_timezone FROM saas.tenants t WHERE t.id = p_tenant;
  FOR r IN
    WITH a AS (
      SELECT an.id, an.platform, an.level, an.entity_id, an.day, an.metric_name, an.actual_value, an.baseline_value,
             an.status, an.details,
             an.details ->> 'observed_metric' AS observed_metric,
             an.details ->> 'exposure_metric' AS exposure_metric,
             an.details ->> 'direction' AS direction,
             -- the load the last scoring saw: the detection, or the last re-scoring
             coalesce((an.details -> 'restated' ->> 'loaded_at')::timestamptz, an.created_at) AS scored_at
      FROM ads.anomalies an
      WHERE an.tenant_id = p_tenant AND an.status IN ('active', 'investigating')
        AND an.details ?& ARRAY['test', 'p_value', 'p_threshold', 'expected', 'observed_metric', 'direction']
        AND an.details ->> 'direction' IN ('lower', 'upper')
        AND an.details ->> 'observed_metric' IN ('conversions', 'clicks', 'conversion_value', 'spend')
        -- a trend is a sum over a window, not the day's row: the next run judges it again
        AND an.anomaly_type <> 'trend_change' AND NOT an.details ? 'window_days'
        AND (coalesce(an.details ->> 'scope', '') <> 'platform' OR jsonb_typeof(an.details -> 'members') = 'array')
    )
    SELECT a.*, cur.n, cur.loaded_at, cur.spend, cur.impressions, cur.clicks, cur.conversions, cur.conversion_value
    FROM a
    CROSS JOIN LATERAL (
      SELECT count(*) AS n, max(m.updated_at) AS loaded_at, sum(m.spend) AS spend, sum(m.impressions)::numeric AS impressions,
             sum(m.clicks)::numeric AS clicks, sum(m.conversions) AS conversions, sum(m.conversion_value) AS conversion_value
      FROM ads.metrics_daily m
      WHERE m.tenant_id = p_tenant AND m.platform = a.platform AND m.level = a.level AND m.day = a.day
        AND CASE WHEN a.details ->> 'scope' = 'platform'
                 THEN m.platform_id IN (SELECT jsonb_array_elements_text(a.details -> 'members'))
                 ELSE m.platform_id = a.entity_id END
    ) cur
    WHERE cur.n > 0 AND cur.loaded_at > a.scored_at
    ORDER BY a.day, a.id
  LOOP
    v_observed := CASE r.observed_metric WHEN 'conversions' THEN r.conversions WHEN 'clicks' THEN r.clicks
                                          WHEN 'conversion_value' THEN r.conversion_value ELSE r.spend END;
    v_phi := greatest(coalesce((r.details ->> 'phi')::numeric, 0), 0);
    v_p := NULL;
    v_expected := NULL;
    v_exposure := NULL;
    v_completeness := NULL;
    v_score := NULL;
    IF r.observed_metric = 'spend' THEN
      -- log-normal around the expected spend: z = (ln actual - ln expected) / log_sd
      v_expected := (r.details ->> 'expected')::numeric;
      v_sd := (r.details ->> 'log_sd')::numeric;
      IF v_expected > 0 AND v_sd > 0 THEN
        IF v_observed > 0 THEN
          v_score := round(((ln(v_observed) - ln(v_expected)) / v_sd)::numeric, 4);
          v_p := ads_engine.normal_cdf(v_score::float8);
          IF r.direction = 'upper' THEN v_p := 1 - v_p; END IF;
        ELSE
          v_p := CASE WHEN r.direction = 'lower' THEN 0 ELSE 1 END;
        END IF;
      END IF;
    ELSE
      v_exposure := CASE r.exposure_metric WHEN 'spend' THEN r.spend WHEN 'impressions' THEN r.impressions
                                           WHEN 'clicks' THEN r.clicks END;
      v_expected := (r.details ->> 'rate')::numeric * v_exposure;
      IF v_expected IS NOT NULL AND r.details ? 'completeness' THEN
        -- the data's age now: its latest load, in the tenant's calendar
        v_age := (r.loaded_at AT TIME ZONE v_timezone)::date - r.day;
        v_completeness := ads_engine.completeness_at(p_tenant, r.platform::text, greatest(v_age, 0), r.day + greatest(v_age, 0));
        v_expected := v_expected * v_completeness;
      END IF;
      IF v_expected IS NOT NULL AND r.observed_metric IN ('conversions', 'clicks') THEN
        v_p := ads_engine.count_p_value(v_observed, v_expected, v_phi, r.direction);
        IF v_expected > 0 THEN
          v_score := round((v_observed - v_expected) / sqrt(v_expected + v_phi * v_expected * v_expected), 4);
        END IF;
      ELSIF v_expected > 0 AND r.details ? 'aov' AND r.details ? 'kappa' THEN
        -- conversion value: a compound sum of k orders of mean aov (docs/engine.md)
        v_aov := (r.details ->> 'aov')::numeric;
        IF v_aov > 0 THEN
          v_k := v_expected / v_aov;
          v_var := ads_engine.value_variance(v_k, v_aov, (r.details ->> 'kappa')::numeric, v_phi,
                                             coalesce((r.details ->> 'rel_var')::numeric, 0));
          v_p := ads_engine.value_p_value(v_observed, v_expected, v_var,
                                          CASE WHEN v_phi > 0 THEN power(1 + v_phi * v_k, -1 / v_phi) ELSE exp(-v_k) END::float8,
                                          r.direction);
          v_s2 := ln(1 + v_var::float8 / (v_expected::float8 * v_expected::float8));
          IF v_observed > 0 AND v_s2 > 0 THEN
            v_score := round(((ln(v_observed::float8) - (ln(v_expected::float8) - v_s2 / 2)) / sqrt(v_s2))::numeric, 4);
          END IF;
        END IF;
      END IF;
    END IF;
    CONTINUE WHEN v_p IS NULL;  -- details this function cannot re-score: left alone
    -- the detector's tests are two one-sided ones sharing its level (a day can
    -- be off either way): its p-value is the one-sided tail over the share of
    -- that side (details.side_share; 0.5 for rows written before the split)
    IF r.details ->> 'test' IN ('nb', 'spend', 'value') THEN
      v_p := least(1, v_p / coalesce(nullif((r.details ->> 'side_share')::float8, 0), 0.5));
    END IF;

    v_old_p := coalesce((r.details -> 'restated' ->> 'p_value')::float8, (r.details ->> 'p_value')::float8);
    v_restated := jsonb_build_object(
      'old_actual', coalesce((r.details -> 'restated' -> 'old_actual'), to_jsonb(r.actual_value)),
      'old_expected', coalesce((r.details -> 'restated' -> 'old_expected'), r.details -> 'expected'),
      'old_p_value', coalesce((r.details -> 'restated' -> 'old_p_value'), r.details -> 'p_value'),
      'new_actual', round(v_observed, 4), 'new_expected', round(v_expected, 4), 'new_exposure', round(v_exposure, 4),
      'p_value', v_p, 'p_threshold', r.details -> 'p_threshold', 'completeness', v_completeness,
      'rows', r.n, 'loaded_at', r.loaded_at, 'rescored_at', now(),
      'still_holds', v_p <= (r.details ->> 'p_threshold')::float8);
    v_restated := jsonb_strip_nulls(v_restated);

    IF v_p > (r.details ->> 'p_threshold')::float8 THEN
      v_note := format('Restated: %s on %s were %s when detected (expected %s, p = %s); the figures now loaded say %s (expected %s, p = %s), '
                       'above the cut of %s the anomaly was raised at: no longer unusual.',
                       replace(r.observed_metric, '_', ' '), r.day,
                       round(coalesce((v_restated ->> 'old_actual')::numeric, 0), 2), round((v_restated ->> 'old_expected')::numeric, 2),
                       ads_engine.format_p((v_restated ->> 'old_p_value')::float8),
                       round(v_observed, 2), round(v_expected, 2), ads_engine.format_p(v_p),
                       ads_engine.format_p((r.details ->> 'p_threshold')::float8));
      UPDATE ads.anomalies an
         SET status = 'resolved', resolved_at = now(), resolved_by = NULL, resolution_note = v_note,
             details = an.details || jsonb_build_object('restated', v_restated)
       WHERE an.tenant_id = p_tenant AND an.id = r.id AND an.status IN ('active', 'investigating');
      GET DIAGNOSTICS v_n = ROW_COUNT;
      v_closed := v_closed + v_n;
      -- closed: its snooze on the board (db/migrations/011) ends with it, or a buyer reopening it would find it hidden
      IF v_n > 0 AND to_regclass('ads_engine.anomaly_snoozes') IS NOT NULL THEN
        DELETE FROM ads_engine.anomaly_snoozes s WHERE s.tenant_id = p_tenant AND s.anomaly_id = r.id;
      END IF;
    ELSE
      UPDATE ads.anomalies an
         SET actual_value = round(v_observed, 4), baseline_value = round(v_expected, 4),
             deviation_percent = round(100 * (v_observed - v_expected) / nullif(v_expected, 0), 2),
             anomaly_score = v_score,
             details = an.details || jsonb_build_object('restated', v_restated)
       WHERE an.tenant_id = p_tenant AND an.id = r.id AND an.status IN ('active', 'investigating');
      GET DIAGNOSTICS v_n = ROW_COUNT;
    END IF;
    IF v_n > 0 THEN
      INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
      VALUES (p_tenant, NULL, 'optimizer', 'anomaly.restated', 'anomaly', r.id::text,
              jsonb_build_object('status', r.status, 'metric', r.observed_metric, 'day', r.day, 'actual_value', r.actual_value,
                                 'baseline_value', r.baseline_value, 'p_value', v_old_p),
              jsonb_build_object('status', CASE WHEN v_p > (r.details ->> 'p_threshold')::float8 THEN 'resolved' ELSE r.status END,
                                 'metric', r.observed_metric, 'day', r.day, 'actual_value', round(v_observed, 4),
                                 'expected', round(v_expected, 4), 'p_value', v_p, 'p_threshold', r.details -> 'p_threshold',
                                 'resolution_note', CASE WHEN v_p > (r.details ->> 'p_threshold')::float8 THEN v_note END));
    END IF;
  END LOOP;
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_closed;
END
$$;
COMMENT ON FUNCTION ads_engine.rescore_restated(uuid) IS
  'Re-scores the tenant''s active and investigating anomalies whose day''s metrics_daily row (same platform, level, entity_id = platform_id, day; '
  'for details.scope = platform the sum of the details.members rows) was loaded again (updated_at) after the anomaly was created or last re-scored, '
  'with its details (test, p_value, p_threshold, expected, phi, rate, exposure_metric, observed_metric, direction): counts (conversions, clicks) on the '
  'negative binomial with expected = rate x the new exposure (x the current completeness_at when details.completeness is present), spend on the normal '
  'tail of (ln actual - ln expected) / log_sd, conversion value when details carry aov and kappa (value_p_value). New p above p_threshold: the anomaly '
  'is resolved (resolved_by NULL, resolution_note ''Restated: ...'' with the old and new figures; its board snooze, if any, deleted); otherwise actual_value, baseline_value, '
  'deviation_percent and anomaly_score (the signed z of the new figure) are refreshed. Both record details.restated (old and new actual and expected, '
  'new p_value, loaded_at) and a saas.audit_log row (actor_label optimizer, action anomaly.restated, entity_type anomaly). '
  'Anomalies without those details, trend_change ones, and those it cannot re-score are left alone. Returns how many were resolved.';

SET LOCAL aegis.media_part_095_readiness = 'done';
