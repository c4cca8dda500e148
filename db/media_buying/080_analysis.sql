-- Media Buying, 080_analysis: ads.analyze_campaign_performance.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- 2. Campaign analysis
-- ---------------------------------------------------------------------------
-- A campaign is compared with the REST of its platform (leave-one-out): the
-- other campaigns' totals over the baseline window (the smallest of 1, 7,
-- 14, 30, 90 days covering the period), i.e. the platform's campaign-level
-- baseline totals minus the campaign's own. A baseline that contained the
-- campaign would pull the comparison towards it (a campaign that is 90 % of
-- its platform would always look "Average"), and the Poisson score assumes
-- the reference is independent of what is judged. A campaign alone on its
-- platform has nothing to be compared with: its comparative ratings are
-- "Insufficient data", its baseline values and efficiency_score NULL.
--
-- Writes the period totals and efficiency of every campaign (or one) into
-- ads.campaign_performance. Campaign rows are level 'campaign' with
-- platform_id = campaign id; a campaign without delivery in the period is
-- not written.
CREATE OR REPLACE FUNCTION ads_engine.record_campaign_performance(
  p_tenant uuid, p_days integer, p_as_of date, p_platform text DEFAULT NULL, p_campaign_id text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_window integer := ads_engine.baseline_window(p_days);
  v_n integer;
BEGIN
  PERFORM ads_engine.ensure_baselines(p_tenant, p_platform, 'campaign', v_window, p_as_of);
  WITH
  r AS (
    SELECT m.platform::text AS platform, m.platform_id AS campaign_id, m.day,
           coalesce(m.campaign_name, m.entity_name) AS name,
           m.spend, m.impressions, m.clicks, m.conversions, m.conversion_value,
           m.day > p_as_of - p_days AS in_period,
           m.day > p_as_of - v_window AS in_window,
           (m.spend > 0 OR m.impressions > 0) AS active
    FROM ads.metrics_daily m
    WHERE m.tenant_id = p_tenant AND m.level = 'campaign'
      AND m.day BETWEEN p_as_of - greatest(p_days, v_window) + 1 AND p_as_of
      AND (p_platform IS NULL OR m.platform = p_platform)
  ),
  c AS (
    SELECT r.platform, r.campaign_id,
           (array_agg(r.name ORDER BY r.day DESC) FILTER (WHERE r.in_period AND r.name IS NOT NULL))[1] AS campaign_name,
           coalesce(sum(r.spend) FILTER (WHERE r.in_period), 0) AS s,
           coalesce(sum(r.impressions) FILTER (WHERE r.in_period), 0) AS i,
           coalesce(sum(r.clicks) FILTER (WHERE r.in_period), 0) AS c,
           coalesce(sum(r.conversions) FILTER (WHERE r.in_period), 0) AS k,
           coalesce(sum(r.conversion_value) FILTER (WHERE r.in_period), 0) AS v,
           coalesce(bool_or(r.active) FILTER (WHERE r.in_period), false) AS delivered,
           coalesce(sum(r.spend) FILTER (WHERE r.in_window), 0) AS ws,
           coalesce(sum(r.conversions) FILTER (WHERE r.in_window), 0) AS wk,
           coalesce(sum(r.conversion_value) FILTER (WHERE r.in_window), 0) AS wv
    FROM r GROUP BY r.platform, r.campaign_id
  ),
  p AS (
    SELECT c.platform, sum(c.ws) AS ps, sum(c.wk) AS pk, sum(c.wv) AS pv FROM c GROUP BY c.platform
  )
  INSERT INTO ads.campaign_performance AS cp (
    tenant_id, platform, campaign_id, campaign_name, period_start, period_end,
    spend, impressions, clicks, conversions, conversion_value, efficiency_score)
  SELECT p_tenant, c.platform, c.campaign_id, c.campaign_name, p_as_of - p_days + 1, p_as_of,
         c.s, c.i, c.c, c.k, c.v,
         -- against the rest of the platform over the baseline window
         ads_engine.efficiency_score(c.s, c.k, c.v, p.ps - c.ws, p.pk - c.wk, p.pv - c.wv)
  FROM c JOIN p ON p.platform = c.platform
  WHERE c.delivered AND (p_campaign_id IS NULL OR c.campaign_id = p_campaign_id)
  ON CONFLICT (tenant_id, platform, campaign_id, period_start, period_end) DO UPDATE SET
    campaign_name = EXCLUDED.campaign_name, spend = EXCLUDED.spend, impressions = EXCLUDED.impressions,
    clicks = EXCLUDED.clicks, conversions = EXCLUDED.conversions, conversion_value = EXCLUDED.conversion_value,
    efficiency_score = EXCLUDED.efficiency_score;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.record_campaign_performance(uuid, integer, date, text, text) IS
  'Upserts ads.campaign_performance for the period p_as_of - p_days + 1 .. p_as_of of every campaign with delivery (or one platform / campaign), '
  'with efficiency_score against the rest of its platform (the other campaigns'' totals over the baseline window of the period: leave-one-out; '
  'NULL for a campaign alone on its platform). Returns the rows written.';

CREATE OR REPLACE FUNCTION ads_engine.analyze_campaign_performance(
  p_tenant uuid, p_campaign_id text, p_platform text, p_days integer, p_as_of date)
RETURNS TABLE (metric_name text, current_value numeric, baseline_value numeric,
               performance_rating text, recommendation text, priority ads.priority_level)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_window integer;
  -- campaign totals over the period
  s numeric; i numeric; c numeric; k numeric; v numeric; active_days integer;
  -- the rest of the platform over the baseline window (leave-one-out)
  bs numeric; bi numeric; bc numeric; bk numeric; bv numeric; b_entity_days integer; b_aov numeric;
  roas_r record; cpa_r record; cpc_r record; cpm_r record; ctr_r record; cvr_r record;
BEGIN
  IF p_campaign_id IS NULL OR btrim(p_campaign_id) = '' THEN
    RAISE EXCEPTION 'campaign_id must not be empty' USING ERRCODE = '22023';
  END IF;
  PERFORM ads_engine.check_platform(p_platform);
  PERFORM ads_engine.check_days(p_days);
  PERFORM ads_engine.check_as_of(p_as_of);
  v_window := ads_engine.baseline_window(p_days);

  PERFORM ads_engine.record_campaign_performance(p_tenant, p_days, p_as_of, p_platform, p_campaign_id);

  SELECT coalesce(sum(m.spend) FILTER (WHERE x.mine AND x.in_period), 0),
         coalesce(sum(m.impressions) FILTER (WHERE x.mine AND x.in_period), 0),
         coalesce(sum(m.clicks) FILTER (WHERE x.mine AND x.in_period), 0),
         coalesce(sum(m.conversions) FILTER (WHERE x.mine AND x.in_period), 0),
         coalesce(sum(m.conversion_value) FILTER (WHERE x.mine AND x.in_period), 0),
         count(*) FILTER (WHERE x.mine AND x.in_period AND x.active),
         coalesce(sum(m.spend) FILTER (WHERE NOT x.mine AND x.in_window), 0),
         coalesce(sum(m.impressions) FILTER (WHERE NOT x.mine AND x.in_window), 0),
         coalesce(sum(m.clicks) FILTER (WHERE NOT x.mine AND x.in_window), 0),
         coalesce(sum(m.conversions) FILTER (WHERE NOT x.mine AND x.in_window), 0),
         coalesce(sum(m.conversion_value) FILTER (WHERE NOT x.mine AND x.in_window), 0),
         count(*) FILTER (WHERE NOT x.mine AND x.in_window AND x.active)
    INTO s, i, c, k, v, active_days, bs, bi, bc, bk, bv, b_entity_days
    FROM ads.metrics_daily m
    CROSS JOIN LATERAL (SELECT m.platform_id = p_campaign_id AS mine,
                               m.day > p_as_of - p_days AS in_period,
                               m.day > p_as_of - v_window AS in_window,
                               (m.spend > 0 OR m.impressions > 0) AS active) x
   WHERE m.tenant_id = p_tenant AND m.platform = p_platform AND m.level = 'campaign'
     AND m.day BETWEEN p_as_of - greatest(p_days, v_window) + 1 AND p_as_of;

  b_aov := bv / nullif(bk, 0);

  -- Every rate as "events per exposure, more is better": ROAS counts value in
  -- baseline order-value units per spend, CPA conversions per spend, CPC
  -- clicks per spend, CPM impressions per spend.
  roas_r := ads_engine.rate_metric(v / nullif(b_aov, 0), s, CASE WHEN b_aov > 0 THEN bk END, bs, k, bk, 5);
  cpa_r  := ads_engine.rate_metric(k, s, bk, bs, k, bk, 5);
  cpc_r  := ads_engine.rate_metric(c, s, bc, bs, c, bc, 20);
  cpm_r  := ads_engine.rate_metric(i, s, bi, bs, i, bi, 1000);
  ctr_r  := ads_engine.rate_metric(c, i, bc, bi, c, bc, 20);
  cvr_r  := ads_engine.rate_metric(k, c, bk, bc, k, bk, 5);

  RETURN QUERY
  WITH r(ord, metric_name, current_value, baseline_value, performance_rating) AS (
    VALUES
      (1, 'ROAS', round(v / nullif(s, 0), 4), round(bv / nullif(bs, 0), 4), roas_r.rating),
      (2, 'CPA', round(s / nullif(k, 0), 4), round(bs / nullif(bk, 0), 4), cpa_r.rating),
      (3, 'CPC', round(s / nullif(c, 0), 4), round(bs / nullif(bc, 0), 4), cpc_r.rating),
      (4, 'CPM', round(s * 1000 / nullif(i, 0), 4), round(bs * 1000 / nullif(bi, 0), 4), cpm_r.rating),
      (5, 'CTR', round(c / nullif(i, 0), 6), round(bc / nullif(bi, 0), 6), ctr_r.rating),
      (6, 'Conversion rate', round(k / nullif(c, 0), 6), round(bk / nullif(bc, 0), 6), cvr_r.rating),
      (7, 'Spend', round(s / nullif(active_days, 0), 2), round(bs / nullif(b_entity_days, 0), 2),
         CASE WHEN active_days = 0 OR b_entity_days = 0 OR bs <= 0 THEN 'Insufficient data'
              WHEN s / nullif(active_days, 0) >= 1.25 * bs / nullif(b_entity_days, 0) THEN 'Above average'
              WHEN s / nullif(active_days, 0) <= 0.8 * bs / nullif(b_entity_days, 0) THEN 'Below average'
              ELSE 'Average' END),
      (8, 'Conversions', round(k / nullif(active_days, 0), 2), round(bk / nullif(b_entity_days, 0), 2),
         CASE WHEN active_days = 0 OR b_entity_days = 0 OR bk <= 0 THEN 'Insufficient data'
              WHEN k / nullif(active_days, 0) >= 1.25 * bk / nullif(b_entity_days, 0) THEN 'Above average'
              WHEN k / nullif(active_days, 0) <= 0.8 * bk / nullif(b_entity_days, 0) THEN 'Below average'
              ELSE 'Average' END)
  )
  SELECT r.metric_name, r.current_value, r.baseline_value, r.performance_rating,
         CASE WHEN r.ord <= 6 THEN a.recommendation END,
         CASE WHEN r.ord <= 6 THEN a.priority ELSE 'low'::ads.priority_level END
  FROM r CROSS JOIN LATERAL ads_engine.metric_advice(r.metric_name, r.performance_rating) a
  ORDER BY r.ord;

  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.analyze_campaign_performance(uuid, text, text, integer, date) IS
  'ads.analyze_campaign_performance with an explicit last complete day p_as_of (the period is p_as_of - days + 1 .. p_as_of).';

CREATE OR REPLACE FUNCTION ads.analyze_campaign_performance(tenant_id uuid, campaign_id text, platform text, days integer)
RETURNS TABLE (metric_name text, current_value numeric, baseline_value numeric,
               performance_rating text, recommendation text, priority ads.priority_level)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(analyze_campaign_performance.tenant_id);
BEGIN
  RETURN QUERY
  SELECT a.metric_name, a.current_value, a.baseline_value, a.performance_rating, a.recommendation, a.priority
  FROM ads_engine.analyze_campaign_performance(analyze_campaign_performance.tenant_id,
                                               analyze_campaign_performance.campaign_id,
                                               analyze_campaign_performance.platform,
                                               analyze_campaign_performance.days,
                                               ads_engine.tenant_yesterday(analyze_campaign_performance.tenant_id)) AS a;
  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads.analyze_campaign_performance(uuid, text, text, integer) IS
  'The campaign''s last `days` complete days (ending on the tenant''s yesterday in saas.tenants.timezone) against the rest of its platform: the other campaigns'' '
  'totals over the baseline window of the period (1, 7, 14, 30, 90 days; leave-one-out, so the campaign is not compared with itself; the platform''s '
  'ads.baselines row of that window is computed when missing). baseline_value is that reference''s rate. '
  'One row per metric: ROAS, CPA, CPC, CPM, CTR, Conversion rate (rates, ratios of sums; ctr and conversion rate as fractions), Spend and Conversions (daily average '
  'on days with delivery vs the other campaigns'' average entity-day, rated neutrally). Ratings know direction (higher ROAS good, higher CPA bad): Excellent / Good / Average / Poor / Critical '
  'when the difference is significant (Poisson score |z| >= 1.96), Average within noise, Insufficient data under 5 conversions (ROAS, CPA, conversion rate), 20 clicks '
  '(CPC, CTR) or 1000 impressions (CPM) observed and expected, and for a campaign alone on its platform (nothing to compare with: baseline_value NULL). '
  'Also upserts the period into ads.campaign_performance with efficiency_score. '
  'SECURITY INVOKER; refuses a tenant_id other than saas.tenant_id, and with no tenant set (a superuser or aegis_owner member in psql) uses tenant_id for the call (the app role is refused). '
  'Errors: NULL tenant, empty campaign_id, unknown platform, days outside 1..366.';

SET LOCAL aegis.media_part_080_analysis = 'done';
