-- Media Buying, 060_helpers: small helpers: tenant entry, argument checks, statistics.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- Small helpers: tenant entry, argument checks, statistics.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.enter_tenant(p_tenant uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := false;
BEGIN
  PERFORM saas.assert_tenant(p_tenant);
  IF saas.current_tenant_id() IS NULL THEN
    -- Only an operator (a superuser, or a member of aegis_owner such as the
    -- migration role in psql, as the guide shows it) may name the tenant by
    -- argument alone. Anyone else, the app role first of all, must be inside
    -- a tenant transaction: "no setting: no rows, and writes fail".
    IF NOT (pg_has_role(current_user, 'aegis_owner', 'MEMBER')
            OR coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false)) THEN
      RAISE EXCEPTION 'saas.tenant_id is not set: call inside a tenant transaction'
        USING ERRCODE = '42501',
              HINT = 'Begin a transaction with select set_config(''saas.tenant_id'', <tenant id>, true) first.';
    END IF;
    PERFORM set_config('saas.tenant_id', p_tenant::text, true);
    v_entered := true;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = p_tenant) THEN
    RAISE EXCEPTION 'tenant % does not exist', p_tenant USING ERRCODE = '22023';
  END IF;
  RETURN v_entered;
END
$$;
COMMENT ON FUNCTION ads_engine.enter_tenant(uuid) IS
  'Checks the tenant argument (saas.assert_tenant) and that the tenant exists. When no tenant is set and the caller is a superuser or a member of aegis_owner '
  '(psql, as in the guide), sets saas.tenant_id to it (transaction-local) and returns true: the caller restores it with ads_engine.leave_tenant(true). '
  'Any other caller without a tenant setting (the app role) gets an error: saas.tenant_id is not set.';

CREATE OR REPLACE FUNCTION ads_engine.leave_tenant(p_entered boolean) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_entered THEN
    PERFORM set_config('saas.tenant_id', '', true);
  END IF;
END
$$;
COMMENT ON FUNCTION ads_engine.leave_tenant(boolean) IS
  'Undoes ads_engine.enter_tenant: clears saas.tenant_id when enter_tenant had set it (p_entered), so a call leaves no tenant behind.';

-- "Yesterday" is the tenant's: a tenant in Los Angeles has not finished its
-- day when the server's clock (UTC) passes midnight. saas.tenants.timezone is
-- free text; an unrecognised zone counts as UTC rather than stopping the loop.
CREATE OR REPLACE FUNCTION ads_engine.valid_timezone(p_timezone text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_timezone IS NULL OR btrim(p_timezone) = '' THEN
    RETURN 'UTC';
  END IF;
  PERFORM now() AT TIME ZONE p_timezone;
  RETURN p_timezone;
EXCEPTION WHEN invalid_parameter_value OR data_exception THEN
  RETURN 'UTC';
END
$$;
COMMENT ON FUNCTION ads_engine.valid_timezone(text) IS
  'The time zone name when PostgreSQL knows it, else ''UTC'' (also for NULL or empty): saas.tenants.timezone is free text.';

CREATE OR REPLACE FUNCTION ads_engine.local_yesterday(p_timezone text, p_at timestamptz) RETURNS date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (p_at AT TIME ZONE ads_engine.valid_timezone(p_timezone))::date - 1
$$;
COMMENT ON FUNCTION ads_engine.local_yesterday(text, timestamptz) IS
  'The day before the local calendar day of instant p_at in time zone p_timezone (UTC when unknown): the last complete day there.';

CREATE OR REPLACE FUNCTION ads_engine.tenant_yesterday(p_tenant uuid) RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_timezone text;
BEGIN
  SELECT t.timezone INTO v_timezone FROM saas.tenants t WHERE t.id = p_tenant;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'tenant % does not exist (or is not the current tenant)', p_tenant USING ERRCODE = '22023';
  END IF;
  RETURN ads_engine.local_yesterday(v_timezone, now());
END
$$;
COMMENT ON FUNCTION ads_engine.tenant_yesterday(uuid) IS
  'The tenant''s last complete day: (now() AT TIME ZONE saas.tenants.timezone)::date - 1 (UTC when the zone is unknown). '
  'Reads saas.tenants under row-level security, so call it inside the tenant''s transaction (after ads_engine.enter_tenant). '
  'The default "as of" day of the guide''s four functions, ads_engine.compute_baselines(tenant) and the daily loop.';

-- The one place that says what an omitted "as of" day means.
CREATE OR REPLACE FUNCTION ads_engine.tenant_as_of(p_tenant uuid, p_as_of date) RETURNS date
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(p_as_of, ads_engine.tenant_yesterday(p_tenant))
$$;
COMMENT ON FUNCTION ads_engine.tenant_as_of(uuid, date) IS
  'p_as_of, or when it is NULL the tenant''s last complete day (ads_engine.tenant_yesterday, read under row-level security: call it after ads_engine.enter_tenant). '
  'The "as of" day of ads_engine.compute_baselines(tenant, as_of), the daily loop and its failure log.';

CREATE OR REPLACE FUNCTION ads_engine.check_platform(p_platform text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_platform IS NULL THEN
    RAISE EXCEPTION 'platform must not be NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM p_platform::ads.platform;
  RETURN p_platform;
EXCEPTION WHEN check_violation THEN
  RAISE EXCEPTION 'unknown platform "%"', p_platform
    USING ERRCODE = '22023',
          HINT = 'Known platforms: meta, google, tiktok, linkedin, snapchat, pinterest, microsoft, x, amazon (lower case).';
END
$$;
COMMENT ON FUNCTION ads_engine.check_platform(text) IS 'Raises a clear error unless the argument is a platform of the ads.platform domain.';

CREATE OR REPLACE FUNCTION ads_engine.check_level(p_level text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_level IS NULL THEN
    RAISE EXCEPTION 'level must not be NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM p_level::ads.entity_level;
  RETURN p_level;
EXCEPTION WHEN check_violation THEN
  RAISE EXCEPTION 'unknown level "%"', p_level
    USING ERRCODE = '22023', HINT = 'Known levels: campaign, adset, ad.';
END
$$;
COMMENT ON FUNCTION ads_engine.check_level(text) IS 'Raises a clear error unless the argument is a level of the ads.entity_level domain.';

CREATE OR REPLACE FUNCTION ads_engine.check_window(p_window integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_window IS NULL OR p_window NOT IN (1, 7, 14, 30, 90) THEN
    RAISE EXCEPTION 'window_days must be one of 1, 7, 14, 30, 90 (got %)', coalesce(p_window::text, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  RETURN p_window;
END
$$;
COMMENT ON FUNCTION ads_engine.check_window(integer) IS 'Raises a clear error unless the window is one of the baseline windows 1, 7, 14, 30, 90.';

CREATE OR REPLACE FUNCTION ads_engine.check_days(p_days integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_days IS NULL OR p_days < 1 OR p_days > 366 THEN
    RAISE EXCEPTION 'days must be between 1 and 366 (got %)', coalesce(p_days::text, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  RETURN p_days;
END
$$;
COMMENT ON FUNCTION ads_engine.check_days(integer) IS 'Raises a clear error unless the analysis period is 1..366 days.';

CREATE OR REPLACE FUNCTION ads_engine.check_as_of(p_as_of date) RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_as_of IS NULL THEN
    RAISE EXCEPTION 'as_of (the last complete day) must not be NULL' USING ERRCODE = '22004';
  END IF;
  -- a day the data can have: not infinite, not before 2000, not after tomorrow
  -- (a run logged for a future day would keep the scheduler from ever running again)
  IF NOT isfinite(p_as_of) OR p_as_of < date '2000-01-01' OR p_as_of > current_date + 1 THEN
    RAISE EXCEPTION 'as_of must be a day between 2000-01-01 and tomorrow (got %)', p_as_of USING ERRCODE = '22023';
  END IF;
  RETURN p_as_of;
END
$$;
COMMENT ON FUNCTION ads_engine.check_as_of(date) IS 'Raises a clear error when the reference day is NULL, infinite, before 2000-01-01 or after tomorrow.';

-- The baseline window an analysis of p_days is compared with: the smallest
-- window that covers the period (90 beyond that).
CREATE OR REPLACE FUNCTION ads_engine.baseline_window(p_days integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(min(w), 90) FROM unnest(ARRAY[1, 7, 14, 30, 90]) AS w WHERE w >= p_days
$$;
COMMENT ON FUNCTION ads_engine.baseline_window(integer) IS
  'Baseline window used for an analysis period of p_days: the smallest of 1, 7, 14, 30, 90 that is >= p_days (90 for longer periods).';

-- plpgsql, like rating_band: with its fixed search_path a SQL function is no
-- longer inlined, and a plpgsql call costs half as much (rate_metric calls both
-- for every metric of every entity on the performance page).
CREATE OR REPLACE FUNCTION ads_engine.poisson_z(p_observed numeric, p_expected numeric, p_reference_events numeric DEFAULT NULL)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE
    WHEN p_observed IS NULL OR p_expected IS NULL OR p_observed < 0 OR p_expected < 0 THEN NULL
    ELSE round(2 * (sqrt(p_observed + 0.375) - sqrt(p_expected + 0.375))
               / sqrt(1 + CASE WHEN p_reference_events > 0 THEN p_expected / nullif(p_reference_events, 0) ELSE 0 END), 4)
  END;
END
$$;
COMMENT ON FUNCTION ads_engine.poisson_z(numeric, numeric, numeric) IS
  'Score of observing p_observed events where p_expected were expected: 2(sqrt(n+3/8) - sqrt(lambda+3/8)) (Anscombe, ~N(0,1) under Poisson), '
  'divided by sqrt(1 + lambda/N) when the expectation comes from a reference of N events. |z| >= 1.96: significant at 5 %.';

-- The six metrics ads.detect_anomalies scores, from one day's components:
-- the same definitions for the history and for the day judged.
CREATE OR REPLACE FUNCTION ads_engine.anomaly_metrics(
  p_spend numeric, p_impressions numeric, p_clicks numeric, p_conversions numeric, p_value numeric)
RETURNS TABLE (metric text, value numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT mv.metric, mv.value
  FROM (VALUES ('spend', p_spend), ('conversions', p_conversions), ('cpa', p_spend / nullif(p_conversions, 0)),
               ('roas', p_value / nullif(p_spend, 0)), ('ctr', p_clicks / nullif(p_impressions, 0)),
               ('cpc', p_spend / nullif(p_clicks, 0))) AS mv(metric, value)
  WHERE mv.value IS NOT NULL
$$;
COMMENT ON FUNCTION ads_engine.anomaly_metrics(numeric, numeric, numeric, numeric, numeric) IS
  'The metrics of ads.detect_anomalies from a day''s spend, impressions, clicks, conversions and value: spend, conversions, cpa = spend / conversions, '
  'roas = value / spend, ctr = clicks / impressions, cpc = spend / clicks; a row only for those defined (no NULL input, no zero divisor). Pure arithmetic: reads no table.';

CREATE OR REPLACE FUNCTION ads_engine.confidence(p_days numeric, p_full_days numeric, p_events numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT round(least(1, greatest(coalesce(p_days, 0), 0) / nullif(p_full_days, 0))
               * (1 - 1 / sqrt(1 + greatest(coalesce(p_events, 0), 0))), 3)
$$;
COMMENT ON FUNCTION ads_engine.confidence(numeric, numeric, numeric) IS
  'Confidence in 0..1 from data volume: coverage least(1, days / full_days) times precision 1 - 1/sqrt(1 + events) '
  '(the relative standard error of a rate estimated from n events is about 1/sqrt(n)).';

-- Rating bands on the "goodness" ratio (campaign rate / baseline rate,
-- oriented so that higher is better: CPA 20 % above baseline is 1/1.2).
CREATE OR REPLACE FUNCTION ads_engine.rating_band(p_ratio numeric) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE
    WHEN p_ratio IS NULL THEN 'Insufficient data'
    WHEN p_ratio >= 1.15 THEN 'Excellent'
    WHEN p_ratio >= 1.05 THEN 'Good'
    WHEN p_ratio > 1 / 1.05 THEN 'Average'
    WHEN p_ratio > 1 / 1.5 THEN 'Poor'
    ELSE 'Critical'
  END;
END
$$;
COMMENT ON FUNCTION ads_engine.rating_band(numeric) IS
  'Rating of a goodness ratio (higher is better): >= 1.15 Excellent, >= 1.05 Good, > 1/1.05 Average, > 1/1.5 Poor, else Critical.';

-- A rate "events per exposure" (conversions per spend for CPA, clicks per
-- impression for CTR, ...), always oriented so that more events per
-- exposure is better, against the baseline's rate.
CREATE OR REPLACE FUNCTION ads_engine.rate_metric(
  p_events numeric, p_exposure numeric, p_base_events numeric, p_base_exposure numeric,
  p_support numeric, p_base_support numeric, p_min_support numeric,
  OUT ratio numeric, OUT expected numeric, OUT z numeric, OUT rating text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_expected_support numeric;
BEGIN
  IF p_base_events IS NULL OR p_base_events <= 0 OR p_base_exposure IS NULL OR p_base_exposure <= 0
     OR p_exposure IS NULL OR p_exposure <= 0 THEN
    rating := 'Insufficient data';
    RETURN;
  END IF;
  expected := p_exposure * p_base_events / nullif(p_base_exposure, 0);
  ratio := round((coalesce(p_events, 0) / nullif(p_exposure, 0)) / nullif(p_base_events / nullif(p_base_exposure, 0), 0), 6);
  z := ads_engine.poisson_z(coalesce(p_events, 0), expected, p_base_events);
  v_expected_support := p_exposure * coalesce(p_base_support, p_base_events) / nullif(p_base_exposure, 0);
  IF greatest(coalesce(p_support, p_events, 0), v_expected_support) < p_min_support THEN
    rating := 'Insufficient data';
  ELSIF abs(z) < 1.96 THEN
    rating := 'Average';
  ELSE
    rating := ads_engine.rating_band(ratio);
  END IF;
END
$$;
COMMENT ON FUNCTION ads_engine.rate_metric(numeric, numeric, numeric, numeric, numeric, numeric, numeric) IS
  'Rates events/exposure against the baseline''s: ratio (higher is better), expected events at the baseline rate, Poisson score z and rating. '
  '"Insufficient data" when neither the observed nor the expected support reaches p_min_support; "Average" when |z| < 1.96 (within noise); else rating_band(ratio).';

CREATE OR REPLACE FUNCTION ads_engine.metric_advice(p_metric text, p_rating text,
  OUT recommendation text, OUT priority ads.priority_level)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT
    CASE p_rating
      WHEN 'Insufficient data' THEN 'Wait for more data before judging'
      WHEN 'Excellent' THEN CASE WHEN p_metric IN ('ROAS', 'CPA') THEN 'Monitor; candidate for more budget' ELSE 'Monitor' END
      WHEN 'Poor' THEN CASE p_metric
        WHEN 'ROAS' THEN 'Review targeting and creatives; reduce budget if ROAS stays below baseline'
        WHEN 'CPA' THEN 'Lower bids or tighten targeting; pause if CPA stays above the max CPA'
        WHEN 'CPC' THEN 'Lower bids or improve ad relevance'
        WHEN 'CPM' THEN 'Broaden the audience or review placements'
        WHEN 'CTR' THEN 'Refresh creatives and ad copy'
        WHEN 'Conversion rate' THEN 'Check the landing page and conversion tracking'
      END
      WHEN 'Critical' THEN CASE p_metric
        WHEN 'ROAS' THEN 'Cut budget or pause: ROAS far below baseline'
        WHEN 'CPA' THEN 'Pause or cut bids: CPA far above baseline'
        WHEN 'CPC' THEN 'Lower bids now: CPC far above baseline'
        WHEN 'CPM' THEN 'Change the audience or placements: CPM far above baseline'
        WHEN 'CTR' THEN 'Replace creatives: CTR far below baseline'
        WHEN 'Conversion rate' THEN 'Check conversion tracking and the landing page now'
      END
    END,
    (CASE
      WHEN p_rating = 'Critical' AND p_metric IN ('ROAS', 'CPA') THEN 'critical'
      WHEN p_rating = 'Critical' THEN 'high'
      WHEN p_rating = 'Poor' THEN 'medium'
      ELSE 'low'
    END)::ads.priority_level
$$;
COMMENT ON FUNCTION ads_engine.metric_advice(text, text) IS
  'Recommendation text and priority for a metric''s rating in ads.analyze_campaign_performance.';

-- Campaign efficiency 0..100 (50 = baseline), shrunk towards 50 when the
-- evidence is thin: p = (n + 5) / (lambda + 5) with n the campaign's
-- conversions (in baseline order-value units when values are tracked) and
-- lambda those expected at the baseline rate for its spend; score = 100 p/(1+p).
CREATE OR REPLACE FUNCTION ads_engine.efficiency_score(
  p_spend numeric, p_conversions numeric, p_value numeric,
  p_base_spend numeric, p_base_conversions numeric, p_base_value numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH x AS (
    SELECT CASE
      WHEN coalesce(p_spend, 0) <= 0 OR coalesce(p_base_spend, 0) <= 0 OR coalesce(p_base_conversions, 0) <= 0 THEN NULL
      WHEN coalesce(p_base_value, 0) > 0 THEN
        (coalesce(p_value, 0) / nullif(p_base_value / nullif(p_base_conversions, 0), 0) + 5)
          / (p_spend * p_base_conversions / nullif(p_base_spend, 0) + 5)
      ELSE
        (coalesce(p_conversions, 0) + 5) / (p_spend * p_base_conversions / nullif(p_base_spend, 0) + 5)
    END AS p
  )
  SELECT round(100 * p / (1 + p), 2) FROM x
$$;
COMMENT ON FUNCTION ads_engine.efficiency_score(numeric, numeric, numeric, numeric, numeric, numeric) IS
  'Efficiency 0..100, 50 = baseline: 100 p/(1+p) with p = (n + 5)/(lambda + 5), n = value / baseline order value (or conversions when no value is tracked), '
  'lambda = the same expected at the baseline rate for this spend. The +5 pseudo-events shrink thin evidence towards 50.';

SET LOCAL aegis.media_part_060_helpers = 'done';
