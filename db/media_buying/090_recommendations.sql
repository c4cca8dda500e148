-- Media Buying, 090_recommendations: ads.generate_recommendations.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- 3. Recommendations
-- ---------------------------------------------------------------------------
-- The one place that expires recommendations (maintenance and, for the
-- guide's standalone call, generate_recommendations).
CREATE OR REPLACE FUNCTION ads_engine.expire_recommendations(p_tenant uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_n integer;
BEGIN
  UPDATE ads.optimization_recommendations o SET status = 'expired'
   WHERE o.tenant_id = p_tenant AND o.status = 'pending' AND o.expires_at <= now();
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.expire_recommendations(uuid) IS
  'Marks the tenant''s pending recommendations past expires_at as expired; returns how many (no tenant check: called by checked functions).';

-- Applies a pending budget recommendation to ads.budget_allocation, marks it
-- applied and writes the audit row, all in the caller's transaction.
CREATE OR REPLACE FUNCTION ads_engine.apply_budget_recommendation(
  p_tenant uuid, p_recommendation_id uuid, p_actor_label text DEFAULT 'optimizer',
  p_action text DEFAULT 'recommendation.auto_apply')
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  rec ads.optimization_recommendations%ROWTYPE;
  bud ads.budget_allocation%ROWTYPE;
BEGIN
  SELECT * INTO rec FROM ads.optimization_recommendations o
   WHERE o.tenant_id = p_tenant AND o.id = p_recommendation_id
   FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'recommendation % not found', p_recommendation_id USING ERRCODE = 'P0002';
  END IF;
  IF rec.recommendation_type NOT IN ('budget_increase', 'budget_decrease') THEN
    RAISE EXCEPTION 'recommendation % is a % recommendation, not a budget change', p_recommendation_id, rec.recommendation_type
      USING ERRCODE = '22023';
  END IF;
  IF rec.status <> 'pending' THEN
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;
  SELECT * INTO bud FROM ads.budget_allocation ba
   WHERE ba.tenant_id = p_tenant AND ba.platform = rec.platform AND ba.campaign_id = rec.entity_id
   FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no budget allocation for campaign % on %', rec.entity_id, rec.platform USING ERRCODE = 'P0002';
  END IF;
  -- A recommendation is advice about one budget at one time: past its expiry,
  -- or once the budget moved away from the value it was computed from, it
  -- would move real money on stale numbers. It is marked expired instead,
  -- and nothing else changes.
  IF rec.expires_at <= now() OR bud.daily_budget IS DISTINCT FROM rec.current_value THEN
    UPDATE ads.optimization_recommendations o SET status = 'expired'
     WHERE o.tenant_id = p_tenant AND o.id = rec.id;
    RAISE NOTICE 'recommendation % not applied and marked expired: %', rec.id,
      CASE WHEN rec.expires_at <= now() THEN format('it expired at %s', rec.expires_at)
           ELSE format('the daily budget is now %s, not the %s it was computed from', bud.daily_budget, rec.current_value) END;
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;
  UPDATE ads.budget_allocation ba
     SET daily_budget = rec.recommended_value, recommended_budget = rec.recommended_value, updated_at = now()
   WHERE ba.tenant_id = p_tenant AND ba.id = bud.id;
  UPDATE ads.optimization_recommendations o
     SET status = 'applied', applied_at = now(), applied_by = saas.current_user_id()
   WHERE o.tenant_id = p_tenant AND o.id = rec.id;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
  VALUES (p_tenant, saas.current_user_id(), p_actor_label, p_action, 'budget_allocation', bud.id::text,
          jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform,
                             'daily_budget', bud.daily_budget, 'recommended_budget', bud.recommended_budget),
          jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform,
                             'daily_budget', rec.recommended_value, 'recommended_budget', rec.recommended_value,
                             'recommendation_id', rec.id, 'recommendation_type', rec.recommendation_type));
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN true;
END
$$;
COMMENT ON FUNCTION ads_engine.apply_budget_recommendation(uuid, uuid, text, text) IS
  'Applies a pending budget_increase / budget_decrease: daily_budget := recommended value in ads.budget_allocation, the recommendation marked applied, '
  'and a saas.audit_log row (before / after) in the same transaction. Returns false, changing no budget, when the recommendation is no longer pending; '
  'also when it is stale (expires_at passed, or the budget''s daily_budget is no longer the current_value it was computed from): it is then marked expired '
  '(with a NOTICE saying why).';

CREATE OR REPLACE FUNCTION ads_engine.generate_recommendations(p_tenant uuid, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_n integer := 0;
  r record;
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);

  -- A pending recommendation past its expiry no longer blocks a fresh one.
  PERFORM ads_engine.expire_recommendations(p_tenant);

  PERFORM ads_engine.ensure_baselines(p_tenant, NULL, 'campaign', 30, p_as_of);

  FOR r IN
    WITH
    cfg AS (
      SELECT p.platform, c.max_cpa, c.target_roas,
             coalesce(c.auto_pause_threshold, 2.0) AS pause_factor,
             coalesce(c.min_spend_for_decision, 50) AS min_spend,
             coalesce(c.auto_apply_recommendations, false) AS auto_apply
      FROM (SELECT DISTINCT m.platform::text AS platform FROM ads.metrics_daily m
            WHERE m.tenant_id = p_tenant AND m.level = 'campaign' AND m.day BETWEEN p_as_of - 27 AND p_as_of) p
      LEFT JOIN ads.platform_configs c ON c.tenant_id = p_tenant AND c.platform = p.platform
      WHERE coalesce(c.recommendations_enabled, true)
    ),
    d AS (
      SELECT m.platform::text AS platform, m.platform_id AS entity_id, m.day,
             coalesce(m.campaign_name, m.entity_name) AS name,
             m.spend, m.impressions::numeric AS impressions, m.clicks::numeric AS clicks,
             m.conversions, m.conversion_value AS value,
             m.day > p_as_of - 7 AS recent,
             (m.spend > 0 OR m.impressions > 0) AS active
      FROM ads.metrics_daily m
      JOIN cfg ON cfg.platform = m.platform
      WHERE m.tenant_id = p_tenant AND m.level = 'campaign' AND m.day BETWEEN p_as_of - 27 AND p_as_of
    ),
    e AS (
      SELECT d.platform, d.entity_id,
             (array_agg(d.name ORDER BY d.day DESC) FILTER (WHERE d.name IS NOT NULL))[1] AS name,
             coalesce(sum(d.spend) FILTER (WHERE d.recent), 0) AS s7,
             coalesce(sum(d.impressions) FILTER (WHERE d.recent), 0) AS i7,
             coalesce(sum(d.clicks) FILTER (WHERE d.recent), 0) AS c7,
             coalesce(sum(d.conversions) FILTER (WHERE d.recent), 0) AS k7,
             coalesce(sum(d.value) FILTER (WHERE d.recent), 0) AS v7,
             count(*) FILTER (WHERE d.recent AND d.active) AS days7,
             coalesce(sum(d.spend) FILTER (WHERE NOT d.recent), 0) AS sh,
             coalesce(sum(d.impressions) FILTER (WHERE NOT d.recent), 0) AS ih,
             coalesce(sum(d.clicks) FILTER (WHERE NOT d.recent), 0) AS ch,
             coalesce(sum(d.conversions) FILTER (WHERE NOT d.recent), 0) AS kh,
             coalesce(sum(d.value) FILTER (WHERE NOT d.recent), 0) AS vh,
             count(*) FILTER (WHERE NOT d.recent AND d.active) AS daysh,
             count(*) FILTER (WHERE d.active) AS days28
      FROM d GROUP BY d.platform, d.entity_id
    ),
    bud AS (
      SELECT ba.platform::text AS platform, ba.campaign_id AS entity_id, ba.id AS budget_id, ba.daily_budget,
             ba.min_budget, ba.max_budget, ba.target_roas AS bud_target_roas, ba.target_cpa AS bud_target_cpa
      FROM ads.budget_allocation ba
      WHERE ba.tenant_id = p_tenant AND ba.status = 'active'
    ),
    cap AS (
      SELECT d.platform, d.entity_id,
             count(*) FILTER (WHERE d.recent AND bud.daily_budget > 0 AND d.spend >= 0.95 * bud.daily_budget) AS capped_days
      FROM d JOIN bud ON bud.platform = d.platform AND bud.entity_id = d.entity_id
      GROUP BY d.platform, d.entity_id
    ),
    -- A recent day with spend but no conversion where the campaign's own rate
    -- would have given >= 5 looks like lost tracking: conversion-based advice
    -- (pause, budgets, timing) waits until the data is trustworthy again.
    susp AS (
      SELECT DISTINCT d.platform, d.entity_id
      FROM d JOIN e ON e.platform = d.platform AND e.entity_id = d.entity_id
      WHERE d.recent AND d.conversions = 0 AND d.spend > 0 AND e.kh > 0 AND e.sh > 0 AND e.daysh > 0
        AND d.spend >= 0.5 * e.sh / nullif(e.daysh, 0) AND d.spend * e.kh / nullif(e.sh, 0) >= 5
    ),
    plat AS (
      SELECT e.platform, sum(e.s7) AS ps7, sum(e.i7) AS pi7, sum(e.sh) AS psh, sum(e.ih) AS pih
      FROM e GROUP BY e.platform
    ),
    base AS (
      SELECT b.platform::text AS platform, b.cpa AS b_cpa, b.roas AS b_roas, b.cpc AS b_cpc,
             b.conversions * b.days_with_data AS bk, b.conversion_value * b.days_with_data AS bv,
             b.clicks * b.days_with_data AS bc
      FROM ads.baselines b
      WHERE b.tenant_id = p_tenant AND b.level = 'campaign' AND b.window_days = 30 AND b.days_with_data > 0
    ),
    x AS (
      SELECT e.*, cfg.pause_factor, cfg.min_spend, cfg.max_cpa, bud.budget_id, bud.daily_budget, bud.min_budget, bud.max_budget,
             coalesce(cap.capped_days, 0) AS capped_days, base.b_cpa, base.b_roas, base.b_cpc, base.bk, base.bv, base.bc,
             plat.ps7, plat.pi7, plat.psh, plat.pih,
             (susp.entity_id IS NOT NULL) AS tracking_suspect,
             e.s7 / nullif(e.k7, 0) AS cpa7, e.v7 / nullif(e.s7, 0) AS roas7, e.s7 / nullif(e.c7, 0) AS cpc7,
             1000 * e.s7 / nullif(e.i7, 0) AS cpm7, e.c7 / nullif(e.i7, 0) AS ctr7,
             e.ch / nullif(e.ih, 0) AS ctr_h, 1000 * e.sh / nullif(e.ih, 0) AS cpm_h,
             e.s7 / nullif(e.days7, 0) AS spend_per_day,
             7.0 / nullif(e.days7, 0) AS week_factor,
             coalesce(cfg.max_cpa, bud.bud_target_cpa, base.b_cpa) AS cpa_ref,
             CASE WHEN cfg.max_cpa IS NOT NULL THEN 'platform_configs.max_cpa'
                  WHEN bud.bud_target_cpa IS NOT NULL THEN 'budget_allocation.target_cpa'
                  ELSE 'baseline_30d.cpa' END AS cpa_ref_source,
             CASE WHEN cfg.max_cpa IS NULL AND bud.bud_target_cpa IS NULL THEN base.bk END AS cpa_ref_events,
             -- Budget moves need a configured ROAS target: "below the platform average" is
             -- not a reason to cut a campaign (half of them are).
             coalesce(bud.bud_target_roas, cfg.target_roas) AS roas_ref,
             CASE WHEN bud.bud_target_roas IS NOT NULL THEN 'budget_allocation.target_roas'
                  ELSE 'platform_configs.target_roas' END AS roas_ref_source,
             NULL::numeric AS roas_ref_events,
             coalesce(nullif(e.v7 / nullif(e.k7, 0), 0), nullif(e.vh / nullif(e.kh, 0), 0), nullif(base.bv / nullif(base.bk, 0), 0)) AS aov_ref
      FROM e
      JOIN cfg ON cfg.platform = e.platform
      JOIN plat ON plat.platform = e.platform
      LEFT JOIN bud ON bud.platform = e.platform AND bud.entity_id = e.entity_id
      LEFT JOIN cap ON cap.platform = e.platform AND cap.entity_id = e.entity_id
      LEFT JOIN base ON base.platform = e.platform
      LEFT JOIN susp ON susp.platform = e.platform AND susp.entity_id = e.entity_id
      WHERE e.days7 > 0
    ),
    -- pause: zero conversions where even a CPA of pause_factor x the limit
    -- would have given >= 3 (P(0) < 5 %), or a CPA above pause_factor x the
    -- limit while conversions are significantly below those the limit implies.
    pause AS (
      SELECT x.*, x.s7 / nullif(x.cpa_ref, 0) AS lambda_ref,
             ads_engine.poisson_z(x.k7, x.s7 / nullif(x.cpa_ref, 0), x.cpa_ref_events) AS z
      FROM x WHERE x.cpa_ref > 0 AND x.s7 >= x.min_spend AND NOT x.tracking_suspect
    ),
    pause_hit AS (
      SELECT p.* FROM pause p
      WHERE (p.k7 = 0 AND p.s7 >= 3 * p.pause_factor * p.cpa_ref)
         OR (p.k7 > 0 AND p.cpa7 > p.pause_factor * p.cpa_ref AND p.z <= -1.96)
    ),
    -- ROAS against target: value counted in order-value units (value / aov)
    -- is a pseudo count of conversions; lambda = those the target implies.
    roas AS (
      SELECT x.*, x.s7 * x.roas_ref / nullif(x.aov_ref, 0) AS lambda_target,
             ads_engine.poisson_z(x.v7 / nullif(x.aov_ref, 0), x.s7 * x.roas_ref / nullif(x.aov_ref, 0), x.roas_ref_events) AS z
      FROM x
      WHERE x.roas_ref > 0 AND x.aov_ref > 0 AND x.s7 >= x.min_spend AND x.budget_id IS NOT NULL AND NOT x.tracking_suspect
        AND NOT EXISTS (SELECT 1 FROM pause_hit ph WHERE ph.platform = x.platform AND ph.entity_id = x.entity_id)
    ),
    inc AS (
      SELECT ro.*, least(coalesce(ro.max_budget, 'Infinity'::numeric),
                         round(ro.daily_budget * least(1.5, 1 + (ro.roas7 / nullif(ro.roas_ref, 0) - 1) / 2), 2)) AS new_budget
      FROM roas ro
      WHERE ro.roas7 >= 1.2 * ro.roas_ref AND ro.z >= 1.96 AND greatest(ro.k7, ro.lambda_target) >= 5 AND ro.capped_days >= 5
    ),
    decr AS (
      SELECT ro.*, greatest(coalesce(ro.min_budget, 0),
                            round(least(ro.daily_budget, ro.spend_per_day) * greatest(0.5, ro.roas7 / nullif(ro.roas_ref, 0)), 2)) AS new_budget
      FROM roas ro
      WHERE ro.roas7 <= 0.8 * ro.roas_ref AND ro.z <= -1.96 AND greatest(ro.k7, ro.lambda_target) >= 5
    ),
    bid AS (
      SELECT x.*, ads_engine.poisson_z(x.c7, x.s7 / nullif(x.b_cpc, 0), x.bc) AS z FROM x
      WHERE x.b_cpc > 0 AND x.c7 >= 50 AND x.s7 >= x.min_spend AND x.cpc7 >= 1.5 * x.b_cpc
        -- expensive clicks matter when results cost too much; a campaign type with
        -- dear clicks but a good CPA is not a bid problem
        AND (x.cpa7 IS NULL OR x.cpa_ref IS NULL OR x.cpa7 > x.cpa_ref)
    ),
    fatigue AS (
      SELECT x.*, ads_engine.poisson_z(x.c7, x.i7 * x.ctr_h, x.ch) AS z FROM x
      WHERE x.ch >= 50 AND x.daysh >= 7 AND x.i7 >= 5000 AND x.ctr_h > 0 AND x.ctr7 <= 0.75 * x.ctr_h
    ),
    surge AS (
      SELECT x.*,
             x.cpm7 / nullif(x.cpm_h, 0) AS cpm_ratio,
             -- the rest of the platform's CPM, recent over history; 1 when it has no
             -- history to compare with, 0 when its recent impressions cost nothing
             coalesce(((x.ps7 - x.s7) / nullif(x.pi7 - x.i7, 0)) / nullif((x.psh - x.sh) / nullif(x.pih - x.ih, 0), 0), 1) AS platform_cpm_ratio,
             ads_engine.poisson_z(x.i7, x.s7 * 1000 / nullif(x.cpm_h, 0), x.ih) AS z
      FROM x
      WHERE x.i7 >= 10000 AND x.ih >= 10000 AND x.daysh >= 7 AND x.cpm_h > 0 AND x.s7 >= x.min_spend
        AND x.cpm7 >= 1.3 * x.cpm_h
    ),
    -- timing: conversions by weekday over 28 days against those expected in
    -- proportion to spend; chi-square with 6 degrees of freedom.
    wd AS (
      SELECT d.platform, d.entity_id, extract(isodow FROM d.day)::integer AS dow,
             sum(d.spend) AS s, sum(d.conversions) AS k
      FROM d GROUP BY d.platform, d.entity_id, extract(isodow FROM d.day)
    ),
    wd_tot AS (
      SELECT wd.platform, wd.entity_id, sum(wd.s) AS s, sum(wd.k) AS k, count(*) AS n FROM wd GROUP BY wd.platform, wd.entity_id
    ),
    wd_exp AS (
      SELECT wd.*, t.k * wd.s / nullif(t.s, 0) AS expected, t.s AS s_tot, t.k AS k_tot, t.n
      FROM wd JOIN wd_tot t ON t.platform = wd.platform AND t.entity_id = wd.entity_id
    ),
    timing AS (
      SELECT w.platform, w.entity_id,
             sum((w.k - w.expected) ^ 2 / nullif(w.expected, 0)) AS chi2,
             min(w.k / nullif(w.expected, 0)) AS worst_efficiency,
             max(w.s_tot) AS s28, max(w.k_tot) AS k28,
             sum(w.s) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_spend,
             sum(w.k) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_conv,
             sum(greatest(0, w.s - w.k * w.s_tot / nullif(w.k_tot, 0))) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_excess,
             array_agg(w.dow ORDER BY w.dow) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_days,
             jsonb_agg(jsonb_build_object('isodow', w.dow, 'spend', w.s, 'conversions', w.k,
                                          'expected', round(w.expected, 2), 'efficiency', round(w.k / nullif(w.expected, 0), 3))
                       ORDER BY w.dow) AS by_weekday
      FROM wd_exp w
      WHERE w.n = 7 AND w.expected > 0
      GROUP BY w.platform, w.entity_id
      HAVING count(*) = 7 AND min(w.expected) >= 5
    ),
    timing_hit AS (
      SELECT x.*, t.chi2, t.worst_efficiency, t.s28, t.k28, t.weak_spend, t.weak_conv, t.weak_excess, t.weak_days, t.by_weekday
      FROM timing t JOIN x ON x.platform = t.platform AND x.entity_id = t.entity_id
      WHERE t.chi2 >= 16.81 AND t.worst_efficiency <= 0.6 AND t.s28 >= x.min_spend AND x.days28 >= 21 AND NOT x.tracking_suspect
    ),
    cand AS (
      SELECT p.platform, p.entity_id, p.name, 'pause'::text AS type,
             format('Pause %s: %s over the last 7 days with %s conversions (CPA %s) against a limit of %s x %s (%s)',
                    coalesce(p.name, p.entity_id), round(p.s7, 2), round(p.k7, 2), coalesce(round(p.cpa7, 2)::text, 'none'),
                    p.pause_factor, round(p.cpa_ref, 2), p.cpa_ref_source) AS description,
             round(p.spend_per_day, 2) AS current_value, 0::numeric AS recommended_value,
             jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'spend_7d', p.s7,
                                'conversions_7d', p.k7, 'cpa_7d', round(p.cpa7, 4), 'cpa_reference', round(p.cpa_ref, 4),
                                'cpa_reference_source', p.cpa_ref_source, 'auto_pause_threshold', p.pause_factor,
                                'expected_conversions_at_reference', round(p.lambda_ref, 2), 'z', p.z,
                                'min_spend_for_decision', p.min_spend) AS evidence,
             round(greatest(0, p.s7 - p.k7 * p.cpa_ref) * p.week_factor, 2) AS impact,
             'spend_saved_per_week'::text AS unit,
             greatest(0, p.s7 - p.k7 * p.cpa_ref) * p.week_factor AS money,
             p.ps7, ads_engine.confidence(p.days7, 7, greatest(p.k7, p.lambda_ref)) AS confidence, 7 AS expires_days
      FROM pause_hit p
      UNION ALL
      SELECT i.platform, i.entity_id, i.name, 'budget_increase',
             format('Raise the daily budget of %s from %s to %s: ROAS %s is %s x the target %s (%s) and spend hit the budget on %s of the last 7 days',
                    coalesce(i.name, i.entity_id), i.daily_budget, i.new_budget, round(i.roas7, 2),
                    round(i.roas7 / nullif(i.roas_ref, 0), 2), round(i.roas_ref, 2), i.roas_ref_source, i.capped_days),
             i.daily_budget, i.new_budget,
             jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'spend_7d', i.s7,
                                'value_7d', i.v7, 'conversions_7d', i.k7, 'roas_7d', round(i.roas7, 4),
                                'target_roas', round(i.roas_ref, 4), 'target_roas_source', i.roas_ref_source,
                                'capped_days_7d', i.capped_days, 'daily_budget', i.daily_budget, 'z', i.z,
                                'assumed_marginal_roas', round((i.roas7 + i.roas_ref) / 2, 4)),
             round((i.new_budget - i.daily_budget) * 7 * (i.roas7 + i.roas_ref) / 2, 2),
             'value_per_week',
             (i.new_budget - i.daily_budget) * 7 * (i.roas7 + i.roas_ref) / 2,
             i.ps7, ads_engine.confidence(i.days7, 7, i.k7), 7
      FROM inc i WHERE i.new_budget > i.daily_budget
      UNION ALL
      SELECT dd.platform, dd.entity_id, dd.name, 'budget_decrease',
             format('Lower the daily budget of %s from %s to %s: ROAS %s is %s x the target %s (%s)',
                    coalesce(dd.name, dd.entity_id), dd.daily_budget, dd.new_budget, round(dd.roas7, 2),
                    round(dd.roas7 / nullif(dd.roas_ref, 0), 2), round(dd.roas_ref, 2), dd.roas_ref_source),
             dd.daily_budget, dd.new_budget,
             jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'spend_7d', dd.s7,
                                'value_7d', dd.v7, 'conversions_7d', dd.k7, 'roas_7d', round(dd.roas7, 4),
                                'target_roas', round(dd.roas_ref, 4), 'target_roas_source', dd.roas_ref_source,
                                'average_daily_spend_7d', round(dd.spend_per_day, 2), 'daily_budget', dd.daily_budget, 'z', dd.z,
                                'value_lost_per_week', round((least(dd.daily_budget, dd.spend_per_day) - dd.new_budget) * 7 * dd.roas7, 2)),
             round((least(dd.daily_budget, dd.spend_per_day) - dd.new_budget) * 7, 2),
             'spend_saved_per_week',
             (least(dd.daily_budget, dd.spend_per_day) - dd.new_budget) * 7,
             dd.ps7, ads_engine.confidence(dd.days7, 7, dd.k7), 7
      FROM decr dd WHERE dd.new_budget < least(dd.daily_budget, dd.spend_per_day)
      UNION ALL
      SELECT b.platform, b.entity_id, b.name, 'bid_adjustment',
             format('Lower bids on %s: CPC %s is %s x the platform''s 30-day CPC %s',
                    coalesce(b.name, b.entity_id), round(b.cpc7, 2), round(b.cpc7 / nullif(b.b_cpc, 0), 2), round(b.b_cpc, 2)),
             round(b.cpc7, 4), round(b.b_cpc, 4),
             jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'spend_7d', b.s7,
                                'clicks_7d', b.c7, 'cpc_7d', round(b.cpc7, 4), 'baseline_cpc_30d', round(b.b_cpc, 4), 'z', b.z),
             round((b.cpc7 - b.b_cpc) * b.c7 * b.week_factor, 2), 'spend_saved_per_week',
             (b.cpc7 - b.b_cpc) * b.c7 * b.week_factor,
             b.ps7, ads_engine.confidence(b.days7, 7, b.c7), 7
      FROM bid b
      WHERE b.z <= -1.96
        -- a CPC driven up by a CTR collapse is a creative problem, not a bid problem
        AND NOT EXISTS (SELECT 1 FROM fatigue f2 WHERE f2.platform = b.platform AND f2.entity_id = b.entity_id AND f2.z <= -1.96)
      UNION ALL
      SELECT f.platform, f.entity_id, f.name, 'creative',
             format('Refresh the creatives of %s: CTR fell to %s%% over the last 7 days from %s%% over the 21 days before (%s%%)',
                    coalesce(f.name, f.entity_id), round(f.ctr7 * 100, 2), round(f.ctr_h * 100, 2),
                    round((f.ctr7 / nullif(f.ctr_h, 0) - 1) * 100, 1)),
             round(f.ctr7, 6), round(f.ctr_h, 6),
             jsonb_build_object('recent', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of, 'impressions', f.i7, 'clicks', f.c7),
                                'history', jsonb_build_object('from', p_as_of - 27, 'to', p_as_of - 7, 'impressions', f.ih, 'clicks', f.ch),
                                'ctr_7d', round(f.ctr7, 6), 'ctr_history', round(f.ctr_h, 6), 'z', f.z),
             round((f.ctr_h - f.ctr7) * f.i7 * f.week_factor, 1), 'clicks_per_week',
             (f.ctr_h - f.ctr7) * f.i7 * f.week_factor * coalesce(f.sh / nullif(f.ch, 0), 0),
             f.ps7, ads_engine.confidence(f.days7, 7, f.c7), 7
      FROM fatigue f WHERE f.z <= -1.96
      UNION ALL
      SELECT a.platform, a.entity_id, a.name, 'audience',
             format('Review the audience of %s: CPM rose to %s from %s (x %s) while the rest of the platform moved x %s',
                    coalesce(a.name, a.entity_id), round(a.cpm7, 2), round(a.cpm_h, 2), round(a.cpm_ratio, 2), round(a.platform_cpm_ratio, 2)),
             round(a.cpm7, 4), round(a.cpm_h, 4),
             jsonb_build_object('recent', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of, 'impressions', a.i7, 'spend', a.s7),
                                'history', jsonb_build_object('from', p_as_of - 27, 'to', p_as_of - 7, 'impressions', a.ih, 'spend', a.sh),
                                'cpm_ratio', round(a.cpm_ratio, 4), 'platform_cpm_ratio', round(a.platform_cpm_ratio, 4), 'z', a.z),
             round((a.cpm7 - a.cpm_h) * a.i7 / 1000 * a.week_factor, 2), 'spend_saved_per_week',
             (a.cpm7 - a.cpm_h) * a.i7 / 1000 * a.week_factor,
             a.ps7, ads_engine.confidence(a.days7, 7, a.i7 / 1000), 7
      -- CPM up >= 30 % more than the rest of the platform moved (no division:
      -- the rest of the platform may have had free impressions, a ratio of 0)
      FROM surge a WHERE a.cpm_ratio >= 1.3 * a.platform_cpm_ratio AND a.z <= -1.96
      UNION ALL
      SELECT t.platform, t.entity_id, t.name, 'timing',
             format('Reduce delivery of %s on weekdays %s (ISO): they convert at %s x the campaign''s average per unit of spend (chi-square %s, 6 df)',
                    coalesce(t.name, t.entity_id), array_to_string(t.weak_days, ', '), round(t.worst_efficiency, 2), round(t.chi2, 1)),
             round(t.weak_spend / nullif(t.weak_conv, 0), 4), round(t.s28 / nullif(t.k28, 0), 4),
             jsonb_build_object('window', jsonb_build_object('from', p_as_of - 27, 'to', p_as_of), 'by_weekday', t.by_weekday,
                                'chi_square', round(t.chi2, 3), 'degrees_of_freedom', 6, 'critical_value_1pct', 16.81,
                                'weak_weekdays', to_jsonb(t.weak_days), 'cpa_28d', round(t.s28 / nullif(t.k28, 0), 4)),
             round(t.weak_excess / 4, 2), 'spend_saved_per_week', t.weak_excess / 4,
             t.ps7, ads_engine.confidence(t.days28, 28, t.k28), 14
      FROM timing_hit t
    ),
    -- each candidate as it is stored
    n AS (
      SELECT c.platform, c.entity_id, c.name, c.type, c.description, c.current_value, c.recommended_value,
             c.evidence || jsonb_build_object('money_per_week', round(c.money, 2), 'platform_spend_7d', c.ps7) AS evidence,
             c.impact, c.unit,
             (CASE WHEN c.money >= 0.20 * c.ps7 THEN 'critical'
                   WHEN c.money >= 0.05 * c.ps7 THEN 'high'
                   WHEN c.money >= 0.01 * c.ps7 THEN 'medium'
                   ELSE 'low' END)::ads.priority_level AS priority,
             c.confidence, now() + make_interval(days => c.expires_days) AS expires_at
      FROM cand c
    ),
    -- Still pending for the same entity and type: refreshed with today's
    -- numbers when they changed (and its expiry pushed back), so a buyer never
    -- approves week-old figures. A refresh is not a new recommendation.
    upd AS (
      UPDATE ads.optimization_recommendations o SET
        entity_name = n.name, description = n.description, current_value = n.current_value,
        recommended_value = n.recommended_value, evidence = n.evidence, estimated_impact = n.impact,
        impact_unit = n.unit, priority = n.priority, confidence_score = n.confidence, expires_at = n.expires_at
      FROM n
      WHERE o.tenant_id = p_tenant AND o.status = 'pending' AND o.recommendation_type = n.type
        AND o.platform = n.platform AND o.level = 'campaign' AND o.entity_id = n.entity_id
        AND (o.current_value, o.recommended_value, o.evidence, o.estimated_impact, o.priority, o.confidence_score)
            IS DISTINCT FROM (n.current_value, n.recommended_value, n.evidence, n.impact, n.priority, n.confidence)
      RETURNING o.id, o.recommendation_type, o.platform, o.entity_id, o.recommended_value, false AS is_new
    ),
    ins AS (
      INSERT INTO ads.optimization_recommendations AS o (
        tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description,
        current_value, recommended_value, evidence, estimated_impact, impact_unit, priority, confidence_score, expires_at)
      SELECT p_tenant, n.platform, 'campaign', n.entity_id, n.name, n.entity_id, n.type, n.description,
             n.current_value, n.recommended_value, n.evidence, n.impact, n.unit, n.priority, n.confidence, n.expires_at
      FROM n
      WHERE NOT EXISTS (
        SELECT 1 FROM ads.optimization_recommendations prev
        WHERE prev.tenant_id = p_tenant AND prev.recommendation_type = n.type AND prev.platform = n.platform
          AND prev.level = 'campaign' AND prev.entity_id = n.entity_id
          AND (prev.status = 'pending'  -- refreshed above (same snapshot), not duplicated
            -- cooldown: nothing for 7 days after a buyer dismissed, approved or applied one
            OR (prev.status = 'dismissed' AND coalesce(prev.dismissed_at, prev.created_at) > now() - interval '7 days')
            OR (prev.status IN ('approved', 'applied') AND coalesce(prev.applied_at, prev.created_at) > now() - interval '7 days')))
      ON CONFLICT (tenant_id, recommendation_type, platform, level, entity_id) WHERE status = 'pending' DO NOTHING
      RETURNING o.id, o.recommendation_type, o.platform, o.entity_id, o.recommended_value, true AS is_new
    )
    SELECT x.id, x.recommendation_type, x.platform, x.entity_id, x.recommended_value, x.is_new, cfg.auto_apply
    FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) x
    JOIN cfg ON cfg.platform = x.platform
    ORDER BY x.platform, x.entity_id, x.recommendation_type
  LOOP
    IF r.is_new THEN
      v_n := v_n + 1;
    END IF;
    IF r.recommendation_type IN ('budget_increase', 'budget_decrease') THEN
      UPDATE ads.budget_allocation ba SET recommended_budget = r.recommended_value, updated_at = now()
       WHERE ba.tenant_id = p_tenant AND ba.platform = r.platform AND ba.campaign_id = r.entity_id;
      IF r.auto_apply THEN
        PERFORM ads_engine.apply_budget_recommendation(p_tenant, r.id, 'optimizer', 'recommendation.auto_apply');
      END IF;
    END IF;
  END LOOP;

  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.generate_recommendations(uuid, date) IS
  'ads.generate_recommendations with an explicit last complete day p_as_of (the decision window is p_as_of - 6 .. p_as_of).';

CREATE OR REPLACE FUNCTION ads.generate_recommendations(tenant_id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(generate_recommendations.tenant_id);
  v_n integer;
BEGIN
  v_n := ads_engine.generate_recommendations(generate_recommendations.tenant_id,
                                             ads_engine.tenant_yesterday(generate_recommendations.tenant_id));
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads.generate_recommendations(uuid) IS
  'Creates recommendations per campaign from the last 7 complete days (ending on the tenant''s yesterday in saas.tenants.timezone), ads.platform_configs '
  'and the 30-day baselines; returns how many are new. '
  'pause: no conversions after 3 x auto_pause_threshold x max_cpa of spend, or CPA > auto_pause_threshold x max_cpa with conversions significantly short (Poisson z <= -1.96); '
  'budget_increase: ROAS >= 1.2 x target, significant, spend >= 95 % of the daily budget on 5 of 7 days; budget_decrease: ROAS <= 0.8 x target, significant; '
  'bid_adjustment: CPC >= 1.5 x baseline while CPA is above its reference; creative: CTR down >= 25 % against the campaign''s own previous 21 days (fatigue); audience: CPM up >= 30 % more than the rest of the platform; '
  'timing: weekday conversion pattern (chi-square >= 16.81, 6 df) with a weekday at <= 0.6 x. max_cpa falls back to the budget''s target_cpa, then the 30-day baseline CPA; budget rules need a target_roas (budget_allocation, else platform_configs). '
  'Conversion-based rules skip a campaign with a recent day of spend without conversions where >= 5 were due (suspected tracking loss). '
  'Each stores entity, current / recommended values, evidence, estimated_impact with impact_unit, priority from the money per week against the platform''s weekly spend, '
  'confidence_score from data volume, expires_at. One pending per entity and type: a still-pending one whose numbers changed is refreshed in place (values, '
  'evidence, impact, priority, confidence, a new expires_at) and is not counted as new. Pending ones past expires_at are marked expired first. '
  'Nothing for 7 days after one was dismissed, approved or applied; nothing where recommendations_enabled is off. '
  'With auto_apply_recommendations on, budget changes are applied to ads.budget_allocation at once, marked applied and audited '
  '(ads_engine.apply_budget_recommendation, which refuses stale ones). '
  'SECURITY INVOKER; refuses a tenant_id other than saas.tenant_id, and with no tenant set (a superuser or aegis_owner member in psql) uses tenant_id for the call (the app role is refused).';

SET LOCAL aegis.media_part_090_recommendations = 'done';
