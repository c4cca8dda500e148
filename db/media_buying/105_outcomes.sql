-- Media Buying, 105_outcomes: measured outcomes of applied recommendations.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- An applied recommendation is an experiment with one treated entity. When a
-- recommendation becomes 'applied' (auto-apply, a buyer, psql: the trigger
-- below sees every path) its prediction is recorded in
-- ads_engine.recommendation_outcomes (table: db/migrations/006). Seven and
-- fourteen days later ads_engine.measure_outcomes compares the entity's
-- change with that of comparable entities that had nothing applied
-- (difference in differences on the log of the metric), and
-- ads_engine.track_record turns the measured outcomes of each type into a
-- confidence factor.
--
-- The table comes from a numbered migration, which runs after this file on a
-- new database: the functions are plpgsql (their queries are planned when
-- they first run), and the trigger does nothing while the table is missing.

-- ---------------------------------------------------------------------------
-- Pure arithmetic: a metric over a period, the count behind its noise, the
-- default prediction of a recommendation type.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.outcome_metric(
  p_metric text, p_days integer, p_spend numeric, p_impressions numeric, p_clicks numeric,
  p_conversions numeric, p_value numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE p_metric
    WHEN 'spend' THEN p_spend / nullif(p_days, 0)
    WHEN 'conversions' THEN p_conversions / nullif(p_days, 0)
    WHEN 'conversion_value' THEN p_value / nullif(p_days, 0)
    WHEN 'cpa' THEN p_spend / nullif(p_conversions, 0)
    WHEN 'roas' THEN p_value / nullif(p_spend, 0)
    WHEN 'cpc' THEN p_spend / nullif(p_clicks, 0)
    WHEN 'ctr' THEN p_clicks / nullif(p_impressions, 0)
    WHEN 'cpm' THEN 1000 * p_spend / nullif(p_impressions, 0)
  END
$$;
COMMENT ON FUNCTION ads_engine.outcome_metric(text, integer, numeric, numeric, numeric, numeric, numeric) IS
  'A metric of a recommendation outcome from the sums of a period of p_days days: spend, conversions, conversion_value per day (sum / p_days); '
  'cpa = spend / conversions, roas = value / spend, cpc = spend / clicks, ctr = clicks / impressions, cpm = 1000 spend / impressions (ratios of sums). '
  'NULL for an unknown metric or a zero divisor.';

CREATE OR REPLACE FUNCTION ads_engine.outcome_support(
  p_metric text, p_impressions numeric, p_clicks numeric, p_conversions numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
    WHEN p_metric IN ('conversions', 'conversion_value', 'cpa', 'roas') THEN p_conversions
    WHEN p_metric IN ('cpc', 'ctr') THEN p_clicks
    WHEN p_metric = 'cpm' THEN p_impressions
  END
$$;
COMMENT ON FUNCTION ads_engine.outcome_support(text, numeric, numeric, numeric) IS
  'The count whose Poisson noise dominates a period''s metric: conversions (conversions, conversion_value, cpa, roas), clicks (cpc, ctr), '
  'impressions (cpm); NULL for spend (set by the platform, not counted). The log of a metric from a count k has variance about 1/k.';

CREATE OR REPLACE FUNCTION ads_engine.default_prediction(
  p_recommendation_type text, p_current numeric, p_recommended numeric,
  OUT metric text, OUT expected_change numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT
    CASE p_recommendation_type
      WHEN 'budget_increase' THEN 'conversion_value'
      WHEN 'budget_decrease' THEN 'spend'
      WHEN 'pause' THEN 'spend'
      WHEN 'bid_adjustment' THEN 'cpc'
      WHEN 'creative' THEN 'ctr'
      WHEN 'audience' THEN 'cpm'
      WHEN 'timing' THEN 'cpa'
    END,
    CASE p_recommendation_type
      WHEN 'pause' THEN -1::numeric
      WHEN 'timing' THEN -0.10
      WHEN 'budget_increase' THEN
        CASE WHEN p_current > 0 AND p_recommended >= 0 THEN round((p_recommended / p_current - 1) * 0.5, 6) END
      WHEN 'budget_decrease' THEN
        CASE WHEN p_current > 0 AND p_recommended >= 0 THEN round(p_recommended / p_current - 1, 6) END
      WHEN 'bid_adjustment' THEN
        CASE WHEN p_current > 0 AND p_recommended >= 0 THEN round(p_recommended / p_current - 1, 6) END
      WHEN 'creative' THEN
        CASE WHEN p_current > 0 AND p_recommended >= 0 THEN round(p_recommended / p_current - 1, 6) END
      WHEN 'audience' THEN
        CASE WHEN p_current > 0 AND p_recommended >= 0 THEN round(p_recommended / p_current - 1, 6) END
    END
$$;
COMMENT ON FUNCTION ads_engine.default_prediction(text, numeric, numeric) IS
  'The prediction of a recommendation without evidence -> ''prediction'', as a relative change of one metric (c = current_value, r = recommended_value): '
  'budget_increase: conversion_value by (r/c - 1) x 0.5 (half the budget''s rise: diminishing returns); budget_decrease: spend by r/c - 1; '
  'pause: spend by -1 (to zero); bid_adjustment: cpc by r/c - 1 (down to the reference CPC); creative: ctr by r/c - 1 (back to its former CTR); '
  'audience: cpm by r/c - 1 (back to its former CPM); timing: cpa by -0.10. expected_change NULL when c <= 0 or r is missing or negative (so never below -1).';

-- ---------------------------------------------------------------------------
-- The figures of every entity of one platform and level around a day.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.outcome_periods(
  p_tenant uuid, p_platform text, p_level text, p_metric text, p_applied_day date, p_horizon integer)
RETURNS TABLE (entity_id text, pre_value numeric, pre_support numeric, post_value numeric, post_support numeric, noise numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH s AS (
    SELECT m.platform_id,
           coalesce(sum(m.spend) FILTER (WHERE m.day < p_applied_day), 0) AS s_pre,
           coalesce(sum(m.impressions) FILTER (WHERE m.day < p_applied_day), 0)::numeric AS i_pre,
           coalesce(sum(m.clicks) FILTER (WHERE m.day < p_applied_day), 0)::numeric AS c_pre,
           coalesce(sum(m.conversions) FILTER (WHERE m.day < p_applied_day), 0) AS k_pre,
           coalesce(sum(m.conversion_value) FILTER (WHERE m.day < p_applied_day), 0) AS v_pre,
           coalesce(sum(m.spend) FILTER (WHERE m.day > p_applied_day), 0) AS s_post,
           coalesce(sum(m.impressions) FILTER (WHERE m.day > p_applied_day), 0)::numeric AS i_post,
           coalesce(sum(m.clicks) FILTER (WHERE m.day > p_applied_day), 0)::numeric AS c_post,
           coalesce(sum(m.conversions) FILTER (WHERE m.day > p_applied_day), 0) AS k_post,
           coalesce(sum(m.conversion_value) FILTER (WHERE m.day > p_applied_day), 0) AS v_post
    FROM ads.metrics_daily m
    WHERE m.tenant_id = p_tenant AND m.platform = p_platform AND m.level = p_level
      AND m.day BETWEEN p_applied_day - 7 AND p_applied_day + p_horizon AND m.day <> p_applied_day
    GROUP BY m.platform_id
  ),
  f AS (
    SELECT s.platform_id,
           ads_engine.outcome_metric(p_metric, 7, s.s_pre, s.i_pre, s.c_pre, s.k_pre, s.v_pre) AS pre_value,
           ads_engine.outcome_support(p_metric, s.i_pre, s.c_pre, s.k_pre) AS pre_support,
           CASE WHEN p_horizon > 0 THEN ads_engine.outcome_metric(p_metric, p_horizon, s.s_post, s.i_post, s.c_post, s.k_post, s.v_post) END AS post_value,
           CASE WHEN p_horizon > 0 THEN ads_engine.outcome_support(p_metric, s.i_post, s.c_post, s.k_post) END AS post_support
    FROM s
  )
  SELECT f.platform_id, f.pre_value, f.pre_support, f.post_value, f.post_support,
         CASE WHEN f.pre_support IS NULL THEN 0::numeric
              ELSE 1 / greatest(f.pre_support, 1) + 1 / greatest(coalesce(f.post_support, 1), 1) END
  FROM f;
END
$$;
COMMENT ON FUNCTION ads_engine.outcome_periods(uuid, text, text, text, date, integer) IS
  'For every entity of the tenant''s platform and level with rows around p_applied_day: the metric over the pre period (p_applied_day - 7 .. - 1) and the post period '
  '(p_applied_day + 1 .. + p_horizon; NULL for p_horizon 0), each from the sums of ads.metrics_daily (ads_engine.outcome_metric), the counts behind them '
  '(ads_engine.outcome_support) and the count noise of log(post / pre): 1/k_pre + 1/k_post (counts floored at 1), 0 for spend. '
  'No tenant check (called by the checked functions of this file); reads under row-level security and filters tenant_id.';

-- ---------------------------------------------------------------------------
-- Recording a prediction
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.record_prediction(p_tenant uuid, p_recommendation_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  rec ads.optimization_recommendations%ROWTYPE;
  v_tz text;
  v_applied_at timestamptz;
  v_day date;
  v_pred jsonb;
  v_metric text;
  v_change numeric;
  v_unit text;
  v_horizon integer := 7;
  v_source text := 'evidence';
  v_pre numeric;
  v_pre_support numeric;
  v_n integer;
BEGIN
  IF p_recommendation_id IS NULL THEN
    RAISE EXCEPTION 'recommendation_id must not be NULL' USING ERRCODE = '22004';
  END IF;
  SELECT * INTO rec FROM ads.optimization_recommendations o
   WHERE o.tenant_id = p_tenant AND o.id = p_recommendation_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'recommendation_id % is not a recommendation of tenant %', p_recommendation_id, p_tenant USING ERRCODE = '22023';
  END IF;
  IF rec.status <> 'applied' THEN
    RAISE EXCEPTION 'recommendation_id %: its status is %, not applied: only an applied recommendation has an outcome', p_recommendation_id, rec.status
      USING ERRCODE = '22023';
  END IF;
  IF EXISTS (SELECT 1 FROM ads_engine.recommendation_outcomes ro
             WHERE ro.tenant_id = p_tenant AND ro.recommendation_id = p_recommendation_id) THEN
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;
  IF rec.platform IS NULL OR rec.entity_id IS NULL THEN
    RAISE NOTICE 'recommendation % names no platform entity: no outcome to measure', rec.id;
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;

  -- The prediction the recommendation states, when it is well formed.
  v_pred := rec.evidence -> 'prediction';
  IF jsonb_typeof(v_pred) = 'object'
     AND v_pred ->> 'metric' IN ('spend', 'conversions', 'conversion_value', 'cpa', 'roas', 'cpc', 'ctr', 'cpm')
     AND jsonb_typeof(v_pred -> 'expected_change') = 'number' AND (v_pred ->> 'expected_change')::numeric >= -1 THEN
    v_metric := v_pred ->> 'metric';
    v_change := (v_pred ->> 'expected_change')::numeric;
    v_unit := v_pred ->> 'unit';
    IF jsonb_typeof(v_pred -> 'horizon_days') = 'number' AND (v_pred ->> 'horizon_days')::numeric BETWEEN 1 AND 90 THEN
      v_horizon := round((v_pred ->> 'horizon_days')::numeric)::integer;
    END IF;
  ELSE
    IF v_pred IS NOT NULL THEN
      RAISE NOTICE 'recommendation %: evidence.prediction is not {metric, expected_change >= -1}: the default of % is used', rec.id, rec.recommendation_type;
    END IF;
    SELECT d.metric, d.expected_change INTO v_metric, v_change
      FROM ads_engine.default_prediction(rec.recommendation_type, rec.current_value, rec.recommended_value) d;
    v_unit := 'relative_change';
    v_source := 'default';
  END IF;
  IF v_metric IS NULL OR v_change IS NULL THEN
    RAISE NOTICE 'recommendation % (%): no prediction (current_value %, recommended_value %): no outcome to measure',
      rec.id, rec.recommendation_type, rec.current_value, rec.recommended_value;
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;

  SELECT t.timezone INTO v_tz FROM saas.tenants t WHERE t.id = p_tenant;
  v_applied_at := coalesce(rec.applied_at, now());
  v_day := (v_applied_at AT TIME ZONE ads_engine.valid_timezone(v_tz))::date;
  SELECT p.pre_value, p.pre_support INTO v_pre, v_pre_support
    FROM ads_engine.outcome_periods(p_tenant, rec.platform, rec.level, v_metric, v_day, 0) p
   WHERE p.entity_id = rec.entity_id;

  INSERT INTO ads_engine.recommendation_outcomes AS ro (
    tenant_id, recommendation_id, recommendation_type, platform, level, entity_id, applied_at, applied_day,
    metric, expected_change, unit, horizon_days, prediction_source, pre_from, pre_to, pre_value, pre_support)
  VALUES (p_tenant, rec.id, rec.recommendation_type, rec.platform, rec.level, rec.entity_id, v_applied_at, v_day,
          v_metric, v_change, v_unit, v_horizon, v_source, v_day - 7, v_day - 1, v_pre, v_pre_support)
  ON CONFLICT (tenant_id, recommendation_id) DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n > 0;
END
$$;
COMMENT ON FUNCTION ads_engine.record_prediction(uuid, uuid) IS
  'Records the prediction of an applied recommendation in ads_engine.recommendation_outcomes; true when it wrote the row, false when the row exists '
  '(idempotent) or there is nothing to measure (no platform entity, or no prediction: NOTICE). The prediction is evidence -> ''prediction'' '
  '({metric, expected_change, unit, horizon_days}) when well formed, else ads_engine.default_prediction of its type. applied_day is the tenant''s local day '
  'of applied_at (now() when unset); the pre-period figures are those known now (measure_outcomes refreshes them). '
  'Refuses a NULL tenant or recommendation id (22004), a recommendation of another tenant or none, and one whose status is not applied (22023). '
  'Called by the trigger recommendation_outcome_on_apply on ads.optimization_recommendations.';

CREATE OR REPLACE FUNCTION ads_engine.tg_record_prediction() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- A database that deployed this file but not yet migration 006 has no table.
  IF to_regclass('ads_engine.recommendation_outcomes') IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.status = 'applied' THEN
    RETURN NULL;
  END IF;
  PERFORM ads_engine.record_prediction(NEW.tenant_id, NEW.id);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION ads_engine.tg_record_prediction() IS
  'Trigger on ads.optimization_recommendations (after insert or update, when the status is or becomes applied): records the prediction '
  '(ads_engine.record_prediction), so every path that applies a recommendation (auto-apply, a buyer, psql) leaves an outcome to measure. '
  'Does nothing while ads_engine.recommendation_outcomes does not exist (db/migrations/006 not applied yet).';

DROP TRIGGER IF EXISTS recommendation_outcome_on_apply ON ads.optimization_recommendations;
CREATE TRIGGER recommendation_outcome_on_apply
  AFTER INSERT OR UPDATE OF status ON ads.optimization_recommendations
  FOR EACH ROW WHEN (NEW.status = 'applied')
  EXECUTE FUNCTION ads_engine.tg_record_prediction();

-- ---------------------------------------------------------------------------
-- Measuring
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.measure_outcomes(p_tenant uuid, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_tz text;
  v_n integer := 0;
  o record;
  h integer;
  e record;
  c record;
  v_entity_change numeric;
  v_control_change numeric;
  v_did numeric;
  v_lower numeric;
  v_upper numeric;
  v_var numeric;
  v_held boolean;
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);
  SELECT ads_engine.valid_timezone(t.timezone) INTO v_tz FROM saas.tenants t WHERE t.id = p_tenant;

  FOR o IN
    SELECT * FROM ads_engine.recommendation_outcomes ro
     WHERE ro.tenant_id = p_tenant
       -- an auto-applied change undone within its 24 hours is no longer applied: nothing to measure
       AND EXISTS (SELECT 1 FROM ads.optimization_recommendations r
                   WHERE r.tenant_id = p_tenant AND r.id = ro.recommendation_id AND r.status = 'applied')
       AND ((ro.measured_at_7 IS NULL AND ro.applied_day + 7 <= p_as_of)
         OR (ro.measured_at_14 IS NULL AND ro.applied_day + 14 <= p_as_of))
     ORDER BY ro.applied_day, ro.recommendation_id
     FOR UPDATE
  LOOP
    FOREACH h IN ARRAY ARRAY[7, 14]
    LOOP
      CONTINUE WHEN o.applied_day + h > p_as_of;
      CONTINUE WHEN h = 7 AND o.measured_at_7 IS NOT NULL;
      CONTINUE WHEN h = 14 AND o.measured_at_14 IS NOT NULL;
      -- only once the platform's post period is loaded to its last day: a
      -- horizon is measured once, so a partial one would stay wrong
      CONTINUE WHEN NOT EXISTS (
        SELECT 1 FROM ads.metrics_daily m
        WHERE m.tenant_id = p_tenant AND m.platform = o.platform AND m.day = o.applied_day + h);

      SELECT p.pre_value, p.pre_support, p.post_value, p.noise INTO e
        FROM ads_engine.outcome_periods(p_tenant, o.platform, o.level, o.metric, o.applied_day, h) p
       WHERE p.entity_id = o.entity_id;

      -- Controls: the other entities of the platform and level, the metric
      -- positive in both periods, nothing applied to them from the start of
      -- the pre period to the end of the post period.
      SELECT count(*)::integer AS n,
             avg(ln(p.post_value / p.pre_value)) AS mean_d,
             var_samp(ln(p.post_value / p.pre_value)) AS var_d,
             avg(p.noise) AS mean_noise
        INTO c
        FROM ads_engine.outcome_periods(p_tenant, o.platform, o.level, o.metric, o.applied_day, h) p
       WHERE p.entity_id <> o.entity_id AND p.pre_value > 0 AND p.post_value > 0
         AND NOT EXISTS (
           SELECT 1 FROM ads.optimization_recommendations r
            WHERE r.tenant_id = p_tenant AND r.status = 'applied' AND r.platform = o.platform AND r.level = o.level
              AND r.entity_id = p.entity_id
              AND (coalesce(r.applied_at, r.created_at) AT TIME ZONE v_tz)::date BETWEEN o.applied_day - 7 AND o.applied_day + h);

      v_entity_change := CASE WHEN e.pre_value > 0 THEN round(e.post_value / e.pre_value - 1, 6) END;
      v_control_change := CASE WHEN c.n > 0 THEN round(exp(c.mean_d) - 1, 6) END;
      v_did := NULL; v_lower := NULL; v_upper := NULL;
      IF e.pre_value > 0 AND e.post_value > 0 THEN
        v_did := ln(e.post_value / e.pre_value) - coalesce(c.mean_d, 0);
        IF c.n >= 2 THEN
          -- the entity as one more draw from the controls: their spread beyond
          -- count noise (tau^2), its own count noise, the error of their mean
          v_var := greatest(0, c.var_d - c.mean_noise) + e.noise + c.var_d / c.n;
          v_lower := round(v_did - 1.959964 * sqrt(v_var), 6);
          v_upper := round(v_did + 1.959964 * sqrt(v_var), 6);
        END IF;
        v_did := round(v_did, 6);
      END IF;
      v_held := CASE
        WHEN o.expected_change = 0 THEN NULL
        WHEN v_did IS NOT NULL THEN sign(v_did) = sign(o.expected_change)
        WHEN e.pre_value > 0 AND e.post_value = 0 THEN o.expected_change < 0
      END;

      IF h = 7 THEN
        UPDATE ads_engine.recommendation_outcomes ro SET
          pre_value = e.pre_value, pre_support = e.pre_support, post_value_7 = e.post_value,
          entity_change_7 = v_entity_change, control_change_7 = v_control_change, did_7 = v_did,
          did_lower_7 = v_lower, did_upper_7 = v_upper, controls_7 = coalesce(c.n, 0), direction_held_7 = v_held, measured_at_7 = now()
         WHERE ro.tenant_id = p_tenant AND ro.recommendation_id = o.recommendation_id;
      ELSE
        UPDATE ads_engine.recommendation_outcomes ro SET
          pre_value = e.pre_value, pre_support = e.pre_support, post_value_14 = e.post_value,
          entity_change_14 = v_entity_change, control_change_14 = v_control_change, did_14 = v_did,
          did_lower_14 = v_lower, did_upper_14 = v_upper, controls_14 = coalesce(c.n, 0), direction_held_14 = v_held, measured_at_14 = now()
         WHERE ro.tenant_id = p_tenant AND ro.recommendation_id = o.recommendation_id;
      END IF;

      INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
      VALUES (p_tenant, saas.current_user_id(), 'optimizer', 'recommendation.outcome', 'optimization_recommendation', o.recommendation_id::text,
              NULL,
              jsonb_build_object('recommendation_type', o.recommendation_type, 'platform', o.platform, 'level', o.level,
                                 'entity_id', o.entity_id, 'horizon_days', h, 'as_of', p_as_of, 'metric', o.metric,
                                 'expected_change', o.expected_change, 'pre_value', e.pre_value, 'post_value', e.post_value,
                                 'entity_change', v_entity_change, 'control_change', v_control_change, 'did', v_did,
                                 'did_lower', v_lower, 'did_upper', v_upper, 'controls', coalesce(c.n, 0), 'direction_held', v_held));
      v_n := v_n + 1;
    END LOOP;
  END LOOP;

  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.measure_outcomes(uuid, date) IS
  'Measures the tenant''s recorded outcomes of recommendations still applied (not an undone auto-apply) whose horizon has passed: 7 days once p_as_of >= applied_day + 7, 14 days once >= applied_day + 14, each once. '
  'Pre period applied_day - 7 .. - 1, post period applied_day + 1 .. + h, the metric as a ratio of sums (per day for spend, conversions, value) at the outcome''s '
  'platform and level. Controls: the other entities there with the metric positive in both periods and no recommendation applied from applied_day - 7 '
  'to applied_day + h. did = log(post/pre) of the entity - mean log(post/pre) of the controls; 95 % interval did -/+ 1.96 sqrt(tau^2 + v_e + s^2/n) '
  '(s^2 the controls'' sample variance, n their number, v_e the entity''s count noise 1/k_pre + 1/k_post, tau^2 = max(0, s^2 - their mean count noise); '
  'none with fewer than 2 controls); direction held: sign(did) = sign(expected_change), or a predicted fall to a post value of 0. '
  'One saas.audit_log row per measurement (action recommendation.outcome, actor optimizer); returns the number of measurements. '
  'Refuses a NULL tenant or day, and another tenant than saas.tenant_id.';

-- ---------------------------------------------------------------------------
-- Track record per recommendation type
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.track_record(p_tenant uuid)
RETURNS TABLE (recommendation_type text, measured integer, direction_held_rate numeric,
               realised_over_predicted numeric, confidence_factor numeric)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
BEGIN
  RETURN QUERY
  WITH latest AS (
    SELECT ro.recommendation_type AS type, ro.expected_change,
           CASE WHEN ro.measured_at_14 IS NOT NULL THEN ro.direction_held_14 ELSE ro.direction_held_7 END AS held,
           CASE WHEN ro.measured_at_14 IS NOT NULL THEN ro.did_14 ELSE ro.did_7 END AS did,
           CASE WHEN ro.measured_at_14 IS NOT NULL THEN ro.entity_change_14 ELSE ro.entity_change_7 END AS entity_change
    FROM ads_engine.recommendation_outcomes ro
    WHERE ro.tenant_id = p_tenant AND (ro.measured_at_14 IS NOT NULL OR ro.measured_at_7 IS NOT NULL)
      AND EXISTS (SELECT 1 FROM ads.optimization_recommendations r
                  WHERE r.tenant_id = p_tenant AND r.id = ro.recommendation_id AND r.status = 'applied')
  ),
  x AS (
    SELECT l.type, l.held,
           -- realised relative change, net of the controls (a fall to zero is -1)
           (CASE WHEN l.did IS NOT NULL THEN exp(l.did) - 1 WHEN l.entity_change = -1 THEN -1 END) / nullif(l.expected_change, 0) AS ratio
    FROM latest l
    WHERE l.held IS NOT NULL
  ),
  t AS (
    SELECT x.type, count(*)::integer AS n, count(*) FILTER (WHERE x.held)::integer AS k,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.ratio) AS med
    FROM x GROUP BY x.type
  )
  SELECT t.type, t.n, round(t.k::numeric / t.n, 4), round(t.med::numeric, 4),
         CASE WHEN t.n < 5 THEN 1::numeric ELSE round(0.5 + 0.5 * (t.k + 2)::numeric / (t.n + 2), 4) END
  FROM t
  ORDER BY t.type;
  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.track_record(uuid) IS
  'Per recommendation type, over the tenant''s measured outcomes of recommendations still applied (an undone auto-apply is left out; the 14-day horizon when measured, else the 7-day; outcomes without a direction, '
  'e.g. no pre-period data, left out): measured = n, direction_held_rate = k / n (k: direction held), realised_over_predicted = the median of '
  '(exp(did) - 1) / expected_change (a fall to zero realises -1), confidence_factor = 1 when n < 5, else 0.5 + 0.5 (k + 2) / (n + 2) '
  '(k / n shrunk by two prior successes, mapped to [0.5, 1]). A type with no measured outcome has no row (factor 1). Multiply the type''s confidence by it.';

SET LOCAL aegis.media_part_105_outcomes = 'done';
