-- Media Buying, 070_baselines: ads.compute_baselines and its ads_engine core.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- 1. Baselines
-- ---------------------------------------------------------------------------
-- Set-based core: one scan of the longest window gives every requested
-- window. p_platform / p_level NULL mean "every platform / level present"
-- (plus those that already have baseline rows, so they are refreshed too).
CREATE OR REPLACE FUNCTION ads_engine.upsert_baselines(
  p_tenant uuid, p_platform text, p_level text, p_windows integer[], p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_max integer := (SELECT max(w) FROM unnest(p_windows) AS w);
  v_n integer;
BEGIN
  WITH raw AS MATERIALIZED (
    SELECT m.platform::text AS platform, m.level::text AS level, m.platform_id, m.day,
           m.spend, m.impressions, m.clicks, m.conversions, m.conversion_value,
           (m.spend > 0 OR m.impressions > 0) AS active
    FROM ads.metrics_daily m
    WHERE m.tenant_id = p_tenant
      AND (p_platform IS NULL OR m.platform = p_platform)
      AND (p_level IS NULL OR m.level = p_level)
      AND m.day BETWEEN p_as_of - (v_max - 1) AND p_as_of
  ),
  combos AS (
    SELECT DISTINCT r.platform, r.level FROM raw r
    UNION
    SELECT b.platform::text, b.level::text FROM ads.baselines b
     WHERE b.tenant_id = p_tenant
       AND (p_platform IS NULL OR b.platform = p_platform)
       AND (p_level IS NULL OR b.level = p_level)
    UNION
    SELECT p_platform, p_level WHERE p_platform IS NOT NULL AND p_level IS NOT NULL
  ),
  -- Every day with a row counts in the sums: conversions reported on a day
  -- without delivery (late attribution) belong to the window's results.
  -- Only days with delivery count as days (days_with_data, the spread).
  daily AS (
    SELECT r.platform, r.level, r.day,
           sum(r.spend) AS spend, sum(r.impressions)::numeric AS impressions, sum(r.clicks)::numeric AS clicks,
           sum(r.conversions) AS conversions, sum(r.conversion_value) AS value,
           count(*) FILTER (WHERE r.active) AS entities,
           bool_or(r.active) AS active
    FROM raw r
    GROUP BY r.platform, r.level, r.day
  ),
  ent AS (
    -- entities delivering in a window = those whose last active day falls in it
    SELECT e.platform, e.level, w.w, count(*)::integer AS n
    FROM (SELECT r.platform, r.level, r.platform_id, max(r.day) AS last_day
          FROM raw r WHERE r.active
          GROUP BY r.platform, r.level, r.platform_id) e
    JOIN unnest(p_windows) AS w(w) ON e.last_day > p_as_of - w.w
    GROUP BY e.platform, e.level, w.w
  ),
  agg AS (
    SELECT c.platform, c.level, w.w,
           (count(d.day) FILTER (WHERE d.active))::integer AS days,
           coalesce(sum(d.spend), 0) AS s, coalesce(sum(d.impressions), 0) AS i, coalesce(sum(d.clicks), 0) AS c,
           coalesce(sum(d.conversions), 0) AS k, coalesce(sum(d.value), 0) AS v,
           coalesce(sum(d.entities), 0)::integer AS entity_days,
           stddev_samp(d.spend) FILTER (WHERE d.active) AS spend_sd,
           stddev_samp(d.conversions) FILTER (WHERE d.active) AS conv_sd,
           stddev_samp(d.value / nullif(d.spend, 0)) FILTER (WHERE d.active) AS roas_sd,
           stddev_samp(d.spend / nullif(d.conversions, 0)) FILTER (WHERE d.active) AS cpa_sd,
           stddev_samp(d.spend / nullif(d.clicks, 0)) FILTER (WHERE d.active) AS cpc_sd,
           stddev_samp(d.spend * 1000 / nullif(d.impressions, 0)) FILTER (WHERE d.active) AS cpm_sd,
           stddev_samp(d.clicks / nullif(d.impressions, 0)) FILTER (WHERE d.active) AS ctr_sd
    FROM combos c
    CROSS JOIN unnest(p_windows) AS w(w)
    LEFT JOIN daily d ON d.platform = c.platform AND d.level = c.level AND d.day > p_as_of - w.w
    GROUP BY c.platform, c.level, w.w
  )
  INSERT INTO ads.baselines AS b (
    tenant_id, platform, level, window_days, period_start, period_end, days_with_data, entity_count, entity_days,
    spend, impressions, clicks, conversions, conversion_value,
    roas, cpa, cpc, cpm, ctr, conversion_rate,
    spend_stddev, conversions_stddev, roas_stddev, cpa_stddev, cpc_stddev, ctr_stddev, cpm_stddev,
    avg_entity_spend, avg_entity_conversions, confidence_score, computed_at)
  SELECT p_tenant, a.platform, a.level, a.w, p_as_of - a.w + 1, p_as_of, a.days,
         coalesce(e.n, 0),
         a.entity_days,
         round(a.s / nullif(a.days, 0), 4), round(a.i / nullif(a.days, 0), 4), round(a.c / nullif(a.days, 0), 4),
         round(a.k / nullif(a.days, 0), 4), round(a.v / nullif(a.days, 0), 4),
         -- rates only where something was delivered (late conversions alone give no rate)
         CASE WHEN a.days > 0 THEN round(a.v / nullif(a.s, 0), 6) END,
         CASE WHEN a.days > 0 THEN round(a.s / nullif(a.k, 0), 6) END,
         CASE WHEN a.days > 0 THEN round(a.s / nullif(a.c, 0), 6) END,
         CASE WHEN a.days > 0 THEN round(a.s * 1000 / nullif(a.i, 0), 6) END,
         CASE WHEN a.days > 0 THEN round(a.c / nullif(a.i, 0), 8) END,
         CASE WHEN a.days > 0 THEN round(a.k / nullif(a.c, 0), 8) END,
         round(a.spend_sd, 4), round(a.conv_sd, 4), round(a.roas_sd, 6), round(a.cpa_sd, 6),
         round(a.cpc_sd, 6), round(a.ctr_sd, 8), round(a.cpm_sd, 6),
         round(a.s / nullif(a.entity_days, 0), 4), round(a.k / nullif(a.entity_days, 0), 4),
         ads_engine.confidence(a.days, 7, a.k),
         now()
  FROM agg a
  LEFT JOIN ent e ON e.platform = a.platform AND e.level = a.level AND e.w = a.w
  ON CONFLICT (tenant_id, platform, level, window_days) DO UPDATE SET
    period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
    days_with_data = EXCLUDED.days_with_data, entity_count = EXCLUDED.entity_count, entity_days = EXCLUDED.entity_days,
    spend = EXCLUDED.spend, impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks,
    conversions = EXCLUDED.conversions, conversion_value = EXCLUDED.conversion_value,
    roas = EXCLUDED.roas, cpa = EXCLUDED.cpa, cpc = EXCLUDED.cpc, cpm = EXCLUDED.cpm, ctr = EXCLUDED.ctr,
    conversion_rate = EXCLUDED.conversion_rate,
    spend_stddev = EXCLUDED.spend_stddev, conversions_stddev = EXCLUDED.conversions_stddev,
    roas_stddev = EXCLUDED.roas_stddev, cpa_stddev = EXCLUDED.cpa_stddev, cpc_stddev = EXCLUDED.cpc_stddev,
    ctr_stddev = EXCLUDED.ctr_stddev, cpm_stddev = EXCLUDED.cpm_stddev,
    avg_entity_spend = EXCLUDED.avg_entity_spend, avg_entity_conversions = EXCLUDED.avg_entity_conversions,
    confidence_score = EXCLUDED.confidence_score, computed_at = EXCLUDED.computed_at;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.upsert_baselines(uuid, text, text, integer[], date) IS
  'Core of compute_baselines (no tenant or argument checks: call the checked functions). For each window ending on p_as_of, from the daily totals of the platform at the level: '
  'volumes are sums / days with delivery, rates are ratios of sums, *_stddev the day-to-day spread, avg_entity_* per entity-day. Upserts; returns the rows written.';

-- Computes once per day and platform what is missing: the analysis and the
-- rules read fresh baselines without recomputing them on every call.
CREATE OR REPLACE FUNCTION ads_engine.ensure_baselines(
  p_tenant uuid, p_platform text, p_level text, p_window integer, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- Nothing to do when every platform wanted (the one named, or each with
  -- data in the window) already has its row for p_as_of.
  IF NOT EXISTS (
    SELECT 1 FROM (SELECT p_platform AS platform WHERE p_platform IS NOT NULL
                   UNION
                   SELECT m.platform::text FROM ads.metrics_daily m
                   WHERE p_platform IS NULL AND m.tenant_id = p_tenant AND m.level = p_level
                     AND m.day BETWEEN p_as_of - (p_window - 1) AND p_as_of) p
    WHERE NOT EXISTS (SELECT 1 FROM ads.baselines b
                      WHERE b.tenant_id = p_tenant AND b.platform = p.platform AND b.level = p_level
                        AND b.window_days = p_window AND b.period_end = p_as_of)) THEN
    RETURN 0;
  END IF;
  RETURN ads_engine.upsert_baselines(p_tenant, p_platform, p_level, ARRAY[p_window], p_as_of);
END
$$;
COMMENT ON FUNCTION ads_engine.ensure_baselines(uuid, text, text, integer, date) IS
  'Computes the baseline of one window (for one platform, or every platform present when p_platform is NULL) unless it is already computed for p_as_of.';

CREATE OR REPLACE FUNCTION ads_engine.compute_baselines(
  p_tenant uuid, p_platform text, p_level text, p_window_days integer, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_n integer;
BEGIN
  PERFORM ads_engine.check_platform(p_platform);
  PERFORM ads_engine.check_level(p_level);
  PERFORM ads_engine.check_window(p_window_days);
  PERFORM ads_engine.check_as_of(p_as_of);
  v_n := ads_engine.upsert_baselines(p_tenant, p_platform, p_level, ARRAY[p_window_days], p_as_of);
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.compute_baselines(uuid, text, text, integer, date) IS
  'ads.compute_baselines with an explicit last complete day (p_as_of): the window is p_as_of - window_days + 1 .. p_as_of. Returns the number of baseline rows written (1).';

CREATE OR REPLACE FUNCTION ads_engine.compute_baselines(p_tenant uuid, p_as_of date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_as_of date := ads_engine.tenant_as_of(p_tenant, p_as_of);
  v_n integer;
BEGIN
  v_n := ads_engine.upsert_baselines(p_tenant, NULL, NULL, ARRAY[1, 7, 14, 30, 90], v_as_of);
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.compute_baselines(uuid, date) IS
  'Every baseline of a tenant in one call and one scan: windows 1, 7, 14, 30 and 90 ending on p_as_of (NULL or omitted: the tenant''s yesterday, '
  'ads_engine.tenant_yesterday) for every platform and level with data in the last 90 days (or an existing baseline row). Returns the number of rows written.';

CREATE OR REPLACE FUNCTION ads.compute_baselines(tenant_id uuid, platform text, level text, window_days integer)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(compute_baselines.tenant_id);
  v_n integer;
BEGIN
  v_n := ads_engine.compute_baselines(compute_baselines.tenant_id, compute_baselines.platform, compute_baselines.level,
                                      compute_baselines.window_days, ads_engine.tenant_yesterday(compute_baselines.tenant_id));
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN format('Baselines computed: %s records updated', v_n);
END
$$;
COMMENT ON FUNCTION ads.compute_baselines(uuid, text, text, integer) IS
  'Baseline of a platform at a level over the last window_days complete days of the tenant (ending on its yesterday in saas.tenants.timezone, '
  'ads_engine.tenant_yesterday), upserted into ads.baselines. '
  'Volumes are averages per day with delivery, rates ratios of sums (ROAS = sum value / sum spend), with day-to-day spread, days with data and confidence_score. '
  'Returns ''Baselines computed: N records updated''. SECURITY INVOKER: refuses a tenant_id other than saas.tenant_id; with no tenant set, a superuser or aegis_owner member (psql) uses tenant_id for the call, anyone else is refused. '
  'Errors: NULL tenant, unknown platform or level, window not in 1, 7, 14, 30, 90. All windows at once: ads_engine.compute_baselines(tenant_id).';

SET LOCAL aegis.media_part_070_baselines = 'done';
