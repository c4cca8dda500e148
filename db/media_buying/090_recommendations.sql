-- Media Buying, 090_recommendations: ads.generate_recommendations.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- Each rule is a one-sided test of a stated null hypothesis against the line
-- it announces (docs/engine.md): pause when CPA is significantly above
-- auto_pause_threshold x the limit, budget moves when ROAS is significantly
-- beyond 0.8x / 1.2x the target, bids and creatives against the entity's own
-- previous three weeks. Counts are negative binomial with the entity's own
-- over-dispersion (shrunk towards its platform's), conversion value a
-- compound sum of order values; the p-values of a tenant's run go through
-- Benjamini-Hochberg per platform at half the false-discovery level of its
-- anomaly_sensitivity (the anomalies have the other half).

-- ---------------------------------------------------------------------------
-- 3. Recommendations
-- ---------------------------------------------------------------------------
-- The one place that expires recommendations (maintenance and, for the
-- guide's standalone call, generate_recommendations).
CREATE OR REPLACE FUNCTION ads_engine.expire_recommendations(p_tenant uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
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

-- The kind of a rule's test for its weight (ads_engine.test_weight).
CREATE OR REPLACE FUNCTION ads_engine.rule_kind(p_rule text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN p_rule LIKE 'pause%' THEN 'pause' WHEN p_rule LIKE 'budget%' THEN 'budget'
              WHEN p_rule LIKE 'bid%' THEN 'bid' ELSE p_rule END
$$;
COMMENT ON FUNCTION ads_engine.rule_kind(text) IS
  'The kind of a recommendation rule for its test weight: pause, budget, bid, or the rule itself (creative, audience).';

-- Every recommendation the data of the 7 days ending p_as_of support, for
-- campaigns and ad sets (a campaign loaded only as ad sets is their sum).
-- kind 'candidate': a recommendation; 'hold': an entity whose advice waits
-- (suspected tracking loss, at most 3 days); 'figures': every entity judged,
-- with its 7-day figures (what a withdrawal quotes).
CREATE OR REPLACE FUNCTION ads_engine.recommendation_candidates(p_tenant uuid, p_as_of date)
RETURNS TABLE (kind text, platform text, level text, entity_id text, entity_name text, campaign_id text, recommendation_type text,
               description text, current_value numeric, recommended_value numeric, evidence jsonb, estimated_impact numeric,
               impact_unit text, money_per_week numeric, p_value float8, p_threshold float8, confidence_score numeric,
               priority ads.priority_level, expires_days integer, auto_apply boolean)
LANGUAGE plpgsql VOLATILE
-- CTE joins on entity keys: hash and merge joins, not the nested loops the
-- PostgreSQL 18 planner tends to choose for them, and no JIT (see
-- detect_anomalies_day)
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_scale numeric;
  v_tz text;
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);
  SELECT ads_engine.currency_scale(t.currency), ads_engine.valid_timezone(t.timezone) INTO v_scale, v_tz
    FROM saas.tenants t WHERE t.id = p_tenant;

  RETURN QUERY
  WITH
  cfg AS (
    SELECT p.platform, c.max_cpa, c.target_roas,
           coalesce(c.auto_pause_threshold, 2.0) AS pause_factor,
           coalesce(c.min_spend_for_decision, 50) * v_scale AS min_spend,
           ads_engine.fdr_level(coalesce(c.anomaly_sensitivity, 3.5)) / 2 AS q,
           coalesce(c.auto_apply_recommendations, false) AS auto_apply
    FROM (SELECT DISTINCT m.platform::text AS platform FROM ads.metrics_daily m
          WHERE m.tenant_id = p_tenant AND m.level IN ('campaign', 'adset') AND m.day BETWEEN p_as_of - 27 AND p_as_of) p
    LEFT JOIN ads.platform_configs c ON c.tenant_id = p_tenant AND c.platform = p.platform
    WHERE coalesce(c.recommendations_enabled, true)
  ),
  m AS MATERIALIZED (
    SELECT m.platform::text AS platform, m.level::text AS level, m.platform_id AS entity_id,
           coalesce(m.campaign_id, m.platform_id) AS campaign_id, coalesce(m.entity_name, m.campaign_name) AS name,
           m.campaign_name, m.day, m.spend AS s, m.impressions::numeric AS i, m.clicks::numeric AS c, m.conversions AS k,
           m.conversion_value AS v,
           (greatest(m.updated_at, m.first_loaded_at) AT TIME ZONE v_tz)::date - m.day AS age
    FROM ads.metrics_daily m JOIN cfg ON cfg.platform = m.platform
    WHERE m.tenant_id = p_tenant AND m.level IN ('campaign', 'adset') AND m.day BETWEEN p_as_of - 27 AND p_as_of
  ),
  -- conversion lag: the share of the window's final conversions its figures
  -- hold at their age (learnt from the platform's restatements; 1 unknown),
  -- weighted by spend, over the last 7 days and the last 28
  lag AS MATERIALIZED (
    SELECT cc.platform, cc.age_days, cc.completeness FROM ads_engine.conversion_completeness(p_tenant, p_as_of) cc
  ),
  wcomp AS (
    SELECT m.platform,
           coalesce(sum(m.s * coalesce(l.completeness, 1)) FILTER (WHERE m.day > p_as_of - 7) / nullif(sum(m.s) FILTER (WHERE m.day > p_as_of - 7), 0), 1) AS comp7,
           coalesce(sum(m.s * coalesce(l.completeness, 1)) / nullif(sum(m.s), 0), 1) AS comp28
    FROM m LEFT JOIN lag l ON l.platform = m.platform AND l.age_days = m.age
    WHERE m.level = 'campaign'
    GROUP BY m.platform
  ),
  -- campaign rows, ad-set rows, and campaigns made of their ad sets where
  -- the campaign has no row of its own
  d AS MATERIALIZED (
    SELECT m.platform, m.level, m.entity_id, m.campaign_id, m.name, m.day, m.s, m.i, m.c, m.k, m.v FROM m
    UNION ALL
    SELECT a.platform, 'campaign', a.campaign_id, a.campaign_id, max(a.campaign_name), a.day,
           sum(a.s), sum(a.i), sum(a.c), sum(a.k), sum(a.v)
    FROM m a
    WHERE a.level = 'adset'
      AND NOT EXISTS (SELECT 1 FROM m x WHERE x.platform = a.platform AND x.level = 'campaign' AND x.entity_id = a.campaign_id)
    GROUP BY a.platform, a.campaign_id, a.day
  ),
  da AS (
    SELECT d.*, d.day > p_as_of - 7 AS recent, (d.s > 0 OR d.i > 0) AS active, extract(isodow FROM d.day)::integer AS dow FROM d
  ),
  -- weekday profile of conversions per spend (28 days), shrunk towards flat
  -- with 10 pseudo-conversions a weekday
  wt AS (
    SELECT x.platform, x.level, x.entity_id, sum(x.k) AS k, sum(x.s) AS s FROM da x WHERE x.active GROUP BY 1, 2, 3
  ),
  wf AS (
    SELECT x.platform, x.level, x.entity_id, x.dow, (sum(x.k) + 10) / (sum(x.s) * max(t.k) / nullif(max(t.s), 0) + 10) AS f
    FROM da x JOIN wt t ON t.platform = x.platform AND t.level = x.level AND t.entity_id = x.entity_id
    WHERE x.active AND t.s > 0 GROUP BY 1, 2, 3, 4
  ),
  dd AS MATERIALIZED (
    SELECT x.*, x.s * coalesce(w.f, 1) AS a FROM da x
    LEFT JOIN wf w ON w.platform = x.platform AND w.level = x.level AND w.entity_id = x.entity_id AND w.dow = x.dow
  ),
  e AS (
    SELECT x.platform, x.level, x.entity_id, max(x.campaign_id) AS campaign_id,
           (array_agg(x.name ORDER BY x.day DESC) FILTER (WHERE x.name IS NOT NULL))[1] AS name,
           coalesce(sum(x.s) FILTER (WHERE x.recent), 0) AS s7, coalesce(sum(x.i) FILTER (WHERE x.recent), 0) AS i7,
           coalesce(sum(x.c) FILTER (WHERE x.recent), 0) AS c7, coalesce(sum(x.k) FILTER (WHERE x.recent), 0) AS k7,
           coalesce(sum(x.v) FILTER (WHERE x.recent), 0) AS v7, count(*) FILTER (WHERE x.recent AND x.active) AS days7,
           coalesce(sum(x.s) FILTER (WHERE NOT x.recent), 0) AS sh, coalesce(sum(x.i) FILTER (WHERE NOT x.recent), 0) AS ih,
           coalesce(sum(x.c) FILTER (WHERE NOT x.recent), 0) AS ch, coalesce(sum(x.k) FILTER (WHERE NOT x.recent), 0) AS kh,
           coalesce(sum(x.v) FILTER (WHERE NOT x.recent), 0) AS vh, count(*) FILTER (WHERE NOT x.recent AND x.active) AS daysh,
           coalesce(sum(x.s), 0) AS s28, coalesce(sum(x.k), 0) AS k28, coalesce(sum(x.v), 0) AS v28, coalesce(sum(x.a), 0) AS a28,
           count(*) FILTER (WHERE x.active) AS days28,
           max(x.day) FILTER (WHERE x.k > 0) AS last_conversion_day,
           -- every one of the last 7 days active with a CPA above max CPA (checked against cfg below)
           array_agg(x.s ORDER BY x.day) FILTER (WHERE x.recent AND x.active) AS s_days,
           array_agg(x.k ORDER BY x.day) FILTER (WHERE x.recent AND x.active) AS k_days
    FROM dd x GROUP BY x.platform, x.level, x.entity_id
  ),
  -- the run of most recent active days without a conversion
  streak AS (
    SELECT x.platform, x.level, x.entity_id, count(*) AS n, sum(x.s) AS s, sum(x.a) AS a
    FROM dd x JOIN e ON e.platform = x.platform AND e.level = x.level AND e.entity_id = x.entity_id
    WHERE x.active AND x.day > coalesce(e.last_conversion_day, p_as_of - 28)
    GROUP BY x.platform, x.level, x.entity_id
  ),
  -- over-dispersion by moments from the 28 daily residuals, shrunk towards the platform's
  res AS (
    SELECT x.platform, x.level, x.entity_id,
           sum((x.k - x.a * e.k28 / nullif(e.a28, 0)) ^ 2 - x.a * e.k28 / nullif(e.a28, 0)) AS kn,
           sum((x.a * e.k28 / nullif(e.a28, 0)) ^ 2) AS kd,
           sum((x.c - x.s * (e.ch + e.c7) / nullif(e.s28, 0)) ^ 2 - x.s * (e.ch + e.c7) / nullif(e.s28, 0)) AS cn,
           sum((x.s * (e.ch + e.c7) / nullif(e.s28, 0)) ^ 2) AS cd,
           sum((x.c - x.i * (e.ch + e.c7) / nullif(e.ih + e.i7, 0)) ^ 2 - x.i * (e.ch + e.c7) / nullif(e.ih + e.i7, 0)) AS tn,
           sum((x.i * (e.ch + e.c7) / nullif(e.ih + e.i7, 0)) ^ 2) AS td,
           sum((x.i - x.s * (e.ih + e.i7) / nullif(e.s28, 0)) ^ 2 - x.s * (e.ih + e.i7) / nullif(e.s28, 0)) AS in_,
           sum((x.s * (e.ih + e.i7) / nullif(e.s28, 0)) ^ 2) AS id,
           sum((x.v - x.k * e.v28 / nullif(e.k28, 0)) ^ 2) FILTER (WHERE x.k > 0) AS vn,
           sum(x.k * (e.v28 / nullif(e.k28, 0)) ^ 2) FILTER (WHERE x.k > 0) AS vd
    FROM dd x JOIN e ON e.platform = x.platform AND e.level = x.level AND e.entity_id = x.entity_id
    WHERE x.active GROUP BY x.platform, x.level, x.entity_id
  ),
  pres AS (
    SELECT r.platform, r.level,
           greatest(0.02, coalesce(sum(r.kn) / nullif(sum(r.kd), 0), 0.03)) AS phi_k,
           greatest(0.01, coalesce(sum(r.cn) / nullif(sum(r.cd), 0), 0.03)) AS phi_c,
           greatest(0.01, coalesce(sum(r.tn) / nullif(sum(r.td), 0), 0.03)) AS phi_t,
           greatest(0.01, coalesce(sum(r.in_) / nullif(sum(r.id), 0), 0.03)) AS phi_i,
           greatest(0.1, coalesce(sum(r.vn) / nullif(sum(r.vd), 0), 0.64)) AS kappa2
    FROM res r GROUP BY r.platform, r.level
  ),
  disp AS (
    SELECT r.platform, r.level, r.entity_id,
           least(3, greatest(0.02, (e.days28 * coalesce(r.kn / nullif(r.kd, 0), p.phi_k) + 14 * p.phi_k) / (e.days28 + 14))) AS phi_k,
           least(3, greatest(0.01, (e.days28 * coalesce(r.cn / nullif(r.cd, 0), p.phi_c) + 14 * p.phi_c) / (e.days28 + 14))) AS phi_c,
           least(3, greatest(0.01, (e.days28 * coalesce(r.tn / nullif(r.td, 0), p.phi_t) + 14 * p.phi_t) / (e.days28 + 14))) AS phi_t,
           least(3, greatest(0.01, (e.days28 * coalesce(r.in_ / nullif(r.id, 0), p.phi_i) + 14 * p.phi_i) / (e.days28 + 14))) AS phi_i,
           least(9, greatest(0.1, (e.days28 * coalesce(r.vn / nullif(r.vd, 0), p.kappa2) + 14 * p.kappa2) / (e.days28 + 14))) AS kappa2
    FROM res r JOIN pres p ON p.platform = r.platform AND p.level = r.level
    JOIN e ON e.platform = r.platform AND e.level = r.level AND e.entity_id = r.entity_id
  ),
  bud AS (
    SELECT ba.platform::text AS platform, ba.campaign_id AS entity_id, ba.id AS budget_id, ba.daily_budget,
           ba.min_budget, ba.max_budget, ba.target_roas AS bud_target_roas, ba.target_cpa AS bud_target_cpa
    FROM ads.budget_allocation ba
    WHERE ba.tenant_id = p_tenant AND ba.status = 'active'
  ),
  cap AS (
    SELECT x.platform, x.entity_id,
           count(*) FILTER (WHERE x.recent AND b.daily_budget > 0 AND x.s >= 0.95 * b.daily_budget) AS capped_days
    FROM dd x JOIN bud b ON b.platform = x.platform AND b.entity_id = x.entity_id
    WHERE x.level = 'campaign' GROUP BY x.platform, x.entity_id
  ),
  -- the tenant's own CPA over 90 days (campaign rows, every platform): the
  -- reference of a platform without a max CPA
  tcpa AS MATERIALIZED (
    SELECT sum(t.spend) / nullif(sum(t.conversions), 0) AS cpa, coalesce(sum(t.conversions), 0) AS k
    FROM ads.metrics_daily t
    WHERE t.tenant_id = p_tenant AND t.level = 'campaign' AND t.day BETWEEN p_as_of - 89 AND p_as_of
  ),
  tweek AS (  -- the tenant's spend in the window: the scale of the money at stake
    SELECT greatest(coalesce(sum(e.s7), 0), 0.01) AS s7 FROM e WHERE e.level = 'campaign'
  ),
  plat AS (
    SELECT e.platform, e.level, sum(e.s7) AS ps7, sum(e.i7) AS pi7, sum(e.sh) AS psh, sum(e.ih) AS pih FROM e GROUP BY e.platform, e.level
  ),
  x AS (
    SELECT e.*, cfg.pause_factor, cfg.min_spend, cfg.max_cpa, cfg.q, cfg.auto_apply,
           coalesce(wc.comp7, 1) AS comp7, coalesce(wc.comp28, 1) AS comp28,
           di.phi_k, di.phi_c, di.phi_t, di.phi_i, di.kappa2,
           b.budget_id, b.daily_budget, b.min_budget, b.max_budget, coalesce(cp.capped_days, 0) AS capped_days,
           pl.ps7, pl.pi7, pl.psh, pl.pih,
           e.s7 / nullif(e.k7, 0) AS cpa7, e.v7 / nullif(e.s7, 0) AS roas7, e.s7 / nullif(e.c7, 0) AS cpc7,
           1000 * e.s7 / nullif(e.i7, 0) AS cpm7, e.c7 / nullif(e.i7, 0) AS ctr7,
           e.sh / nullif(e.ch, 0) AS cpc_h, e.ch / nullif(e.ih, 0) AS ctr_h, 1000 * e.sh / nullif(e.ih, 0) AS cpm_h,
           e.s7 / nullif(e.days7, 0) AS spend_per_day, 7.0 / nullif(e.days7, 0) AS week_factor,
           coalesce(e.v28 / nullif(e.k28, 0), e.vh / nullif(e.kh, 0)) AS aov,
           coalesce(cfg.max_cpa, CASE WHEN e.level = 'campaign' THEN b.bud_target_cpa END, tc.cpa) AS cpa_ref,
           CASE WHEN cfg.max_cpa IS NOT NULL THEN 'platform_configs.max_cpa'
                WHEN e.level = 'campaign' AND b.bud_target_cpa IS NOT NULL THEN 'budget_allocation.target_cpa'
                WHEN tc.cpa IS NOT NULL THEN 'tenant_cpa_90d'
                ELSE 'none' END AS cpa_ref_source,
           CASE WHEN cfg.max_cpa IS NULL AND (e.level <> 'campaign' OR b.bud_target_cpa IS NULL) THEN 1 / nullif(tc.k, 0) ELSE 0 END AS ref_relvar,
           coalesce(b.bud_target_roas, cfg.target_roas) AS roas_ref,
           CASE WHEN b.bud_target_roas IS NOT NULL THEN 'budget_allocation.target_roas' ELSE 'platform_configs.target_roas' END AS roas_ref_source,
           b.bud_target_cpa,
           coalesce(st.n, 0) AS streak_days, coalesce(st.s, 0) AS streak_spend, coalesce(st.a, 0) AS streak_a,
           -- conversions the streak would have brought at the entity's own rate before it
           coalesce(st.a, 0) * (e.k28 / nullif(e.a28 - coalesce(st.a, 0), 0)) AS streak_expected_own
    FROM e
    JOIN cfg ON cfg.platform = e.platform
    JOIN plat pl ON pl.platform = e.platform AND pl.level = e.level
    LEFT JOIN disp di ON di.platform = e.platform AND di.level = e.level AND di.entity_id = e.entity_id
    LEFT JOIN bud b ON b.platform = e.platform AND b.entity_id = e.entity_id AND e.level = 'campaign'
    LEFT JOIN cap cp ON cp.platform = e.platform AND cp.entity_id = e.entity_id AND e.level = 'campaign'
    LEFT JOIN streak st ON st.platform = e.platform AND st.level = e.level AND st.entity_id = e.entity_id
    LEFT JOIN wcomp wc ON wc.platform = e.platform
    CROSS JOIN tcpa tc
    WHERE e.days7 > 0
  ),
  -- a platform whose converting campaigns all stopped converting together:
  -- its tracking, not its campaigns (the anomaly detector raises one
  -- incident); conversion-based advice on it waits while it lasts
  dark AS (
    SELECT x.platform FROM x WHERE x.level = 'campaign'
    GROUP BY x.platform
    HAVING count(*) FILTER (WHERE x.streak_days >= 1 AND x.streak_expected_own >= 1) >= 3
       AND count(*) FILTER (WHERE x.streak_days >= 1 AND x.streak_expected_own >= 1) >= 0.8 * count(*) FILTER (WHERE x.k28 > 0)
       AND sum(x.streak_expected_own) FILTER (WHERE x.streak_days >= 1) >= 10
  ),
  xs AS (
    SELECT x.*,
           -- conversions stopped where the entity's own rate promised >= 5: tracking is suspect
           (x.k28 > 0 AND x.streak_days >= 1 AND x.streak_expected_own >= 5) AS tracking_suspect,
           (x.k28 > 0 AND x.streak_days BETWEEN 1 AND 3 AND x.streak_expected_own >= 5)
             OR EXISTS (SELECT 1 FROM dark dk WHERE dk.platform = x.platform) AS held
    FROM x
  ),
  -- every test: rule, line, p-value (one-sided, against the line)
  t_raw AS (
    -- pause: H0 CPA <= pause_factor x limit; E[k7] >= s7 / line
    SELECT xs.*, 'pause'::text AS rule, xs.pause_factor * xs.cpa_ref AS line, xs.s7 / (xs.pause_factor * xs.cpa_ref) AS mu0,
           'count'::text AS pkind, (xs.k7)::numeric AS p_obs, (xs.s7 / (xs.pause_factor * xs.cpa_ref))::numeric AS p_mu, (greatest(0.01, coalesce(xs.phi_k, 0.03) / 7) + xs.ref_relvar)::numeric AS p_phi, (NULL)::numeric AS p_var, (NULL)::float8 AS p_zero, 'lower'::text AS p_dir,
           xs.k7 < xs.s7 / (xs.pause_factor * xs.cpa_ref) AS beyond,
           1 - xs.k7 / nullif(xs.s7 / (xs.pause_factor * xs.cpa_ref), 0) AS effect
    FROM xs WHERE xs.cpa_ref > 0 AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT (xs.tracking_suspect AND xs.streak_days > 3)
    UNION ALL
    -- the same over 28 days (a CPA persistently above the line), while the last 7 days are beyond it too
    SELECT xs.*, 'pause_28d', xs.pause_factor * xs.cpa_ref, xs.s28 / (xs.pause_factor * xs.cpa_ref),
           'count', (xs.k28)::numeric, (xs.s28 / (xs.pause_factor * xs.cpa_ref))::numeric,
           (greatest(0.005, coalesce(xs.phi_k, 0.03) / 28) + xs.ref_relvar)::numeric, (NULL)::numeric, (NULL)::float8, 'lower',
           xs.k7 < xs.s7 / (xs.pause_factor * xs.cpa_ref) AND xs.k28 < xs.s28 / (xs.pause_factor * xs.cpa_ref),
           1 - xs.k28 / nullif(xs.s28 / (xs.pause_factor * xs.cpa_ref), 0)
    FROM xs WHERE xs.cpa_ref > 0 AND xs.s7 >= xs.min_spend AND xs.days28 >= 14 AND NOT xs.held AND NOT (xs.tracking_suspect AND xs.streak_days > 3)
    UNION ALL
    -- pause after a suspected tracking loss held for 3 days: H0 the entity
    -- still converts at least at the pause line over the streak
    SELECT xs.*, 'pause_streak', xs.pause_factor * coalesce(xs.cpa_ref, xs.sh / nullif(xs.kh, 0)),
           xs.streak_a / (xs.pause_factor * coalesce(xs.cpa_ref, xs.sh / nullif(xs.kh, 0))),
           'count', (0)::numeric, (xs.streak_a / (xs.pause_factor * coalesce(xs.cpa_ref, xs.sh / nullif(xs.kh, 0))))::numeric, (greatest(0.01, coalesce(xs.phi_k, 0.03) / xs.streak_days))::numeric, (NULL)::numeric, (NULL)::float8, 'lower',
           true, 1
    FROM xs WHERE xs.tracking_suspect AND xs.streak_days > 3 AND xs.streak_spend >= xs.min_spend AND NOT xs.held
      AND coalesce(xs.cpa_ref, xs.sh / nullif(xs.kh, 0)) > 0
    UNION ALL
    -- budget_decrease: H0 ROAS >= 0.8 x target (value of the window against it)
    SELECT xs.*, 'budget_decrease', 0.8 * xs.roas_ref, 0.8 * xs.roas_ref * xs.s7 / nullif(xs.aov, 0),
           'value', (xs.v7)::numeric, (0.8 * xs.roas_ref * xs.s7)::numeric, (NULL)::numeric, (ads_engine.value_variance(0.8 * xs.roas_ref * xs.s7 / xs.aov, xs.aov, sqrt(xs.kappa2), greatest(0.01, xs.phi_k / 7), 0))::numeric, (exp(-least(0.8 * xs.roas_ref * xs.s7 / xs.aov, 700)::float8))::float8, 'lower',
           xs.roas7 < 0.8 * xs.roas_ref, 1 - xs.roas7 / (0.8 * xs.roas_ref)
    FROM xs WHERE xs.level = 'campaign' AND xs.budget_id IS NOT NULL AND xs.roas_ref > 0 AND xs.aov > 0
      AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
    UNION ALL
    -- budget_increase: H0 ROAS <= 1.2 x target, on a campaign its budget holds back
    SELECT xs.*, 'budget_increase', 1.2 * xs.roas_ref, 1.2 * xs.roas_ref * xs.s7 / nullif(xs.aov, 0),
           'value', (xs.v7)::numeric, (1.2 * xs.roas_ref * xs.s7)::numeric, (NULL)::numeric, (ads_engine.value_variance(1.2 * xs.roas_ref * xs.s7 / xs.aov, xs.aov, sqrt(xs.kappa2), greatest(0.01, xs.phi_k / 7), 0))::numeric, (exp(-least(1.2 * xs.roas_ref * xs.s7 / xs.aov, 700)::float8))::float8, 'upper',
           xs.roas7 > 1.2 * xs.roas_ref AND xs.capped_days >= 5, xs.roas7 / (1.2 * xs.roas_ref) - 1
    FROM xs WHERE xs.level = 'campaign' AND xs.budget_id IS NOT NULL AND xs.roas_ref > 0 AND xs.aov > 0
      AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
    UNION ALL
    -- the ROAS budget rules over 28 days, while the last 7 days are beyond the line too
    SELECT xs.*, 'budget_decrease_28d', 0.8 * xs.roas_ref, 0.8 * xs.roas_ref * xs.s28 / nullif(xs.aov, 0),
           'value', (xs.v28)::numeric, (0.8 * xs.roas_ref * xs.s28)::numeric, (NULL)::numeric,
           (ads_engine.value_variance(0.8 * xs.roas_ref * xs.s28 / xs.aov, xs.aov, sqrt(xs.kappa2), greatest(0.005, xs.phi_k / 28), 0))::numeric,
           (exp(-least(0.8 * xs.roas_ref * xs.s28 / xs.aov, 700)::float8))::float8, 'lower',
           xs.roas7 < 0.8 * xs.roas_ref AND xs.v28 < 0.8 * xs.roas_ref * xs.s28, 1 - xs.v28 / (0.8 * xs.roas_ref * xs.s28)
    FROM xs WHERE xs.level = 'campaign' AND xs.budget_id IS NOT NULL AND xs.roas_ref > 0 AND xs.aov > 0 AND xs.days28 >= 14
      AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
    UNION ALL
    SELECT xs.*, 'budget_increase_28d', 1.2 * xs.roas_ref, 1.2 * xs.roas_ref * xs.s28 / nullif(xs.aov, 0),
           'value', (xs.v28)::numeric, (1.2 * xs.roas_ref * xs.s28)::numeric, (NULL)::numeric,
           (ads_engine.value_variance(1.2 * xs.roas_ref * xs.s28 / xs.aov, xs.aov, sqrt(xs.kappa2), greatest(0.005, xs.phi_k / 28), 0))::numeric,
           (exp(-least(1.2 * xs.roas_ref * xs.s28 / xs.aov, 700)::float8))::float8, 'upper',
           xs.roas7 > 1.2 * xs.roas_ref AND xs.v28 > 1.2 * xs.roas_ref * xs.s28 AND xs.capped_days >= 5, xs.v28 / (1.2 * xs.roas_ref * xs.s28) - 1
    FROM xs WHERE xs.level = 'campaign' AND xs.budget_id IS NOT NULL AND xs.roas_ref > 0 AND xs.aov > 0 AND xs.days28 >= 14
      AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
    UNION ALL
    -- budget moves on a CPA target when no ROAS target is set: H0 CPA <= target / 0.8 (decrease), >= target / 1.2 (increase)
    SELECT xs.*, 'budget_decrease_cpa', xs.bud_target_cpa / 0.8, 0.8 * xs.s7 / xs.bud_target_cpa,
           'count', (xs.k7)::numeric, (0.8 * xs.s7 / xs.bud_target_cpa)::numeric, (greatest(0.01, coalesce(xs.phi_k, 0.03) / 7))::numeric, (NULL)::numeric, (NULL)::float8, 'lower',
           xs.k7 < 0.8 * xs.s7 / xs.bud_target_cpa, 1 - xs.k7 / (0.8 * xs.s7 / xs.bud_target_cpa)
    FROM xs WHERE xs.level = 'campaign' AND xs.budget_id IS NOT NULL AND xs.roas_ref IS NULL AND xs.bud_target_cpa > 0
      AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
    UNION ALL
    SELECT xs.*, 'budget_increase_cpa', xs.bud_target_cpa / 1.2, 1.2 * xs.s7 / xs.bud_target_cpa,
           'count', (xs.k7)::numeric, (1.2 * xs.s7 / xs.bud_target_cpa)::numeric, (greatest(0.01, coalesce(xs.phi_k, 0.03) / 7))::numeric, (NULL)::numeric, (NULL)::float8, 'upper',
           xs.k7 > 1.2 * xs.s7 / xs.bud_target_cpa AND xs.capped_days >= 5, xs.k7 / (1.2 * xs.s7 / xs.bud_target_cpa) - 1
    FROM xs WHERE xs.level = 'campaign' AND xs.budget_id IS NOT NULL AND xs.roas_ref IS NULL AND xs.bud_target_cpa > 0
      AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
    UNION ALL
    -- bid_adjustment on CPC: H0 CPC <= 1.3 x the entity's own previous 21 days
    SELECT xs.*, 'bid_cpc', 1.3 * xs.cpc_h, xs.s7 / (1.3 * xs.cpc_h),
           'count', (xs.c7)::numeric, (xs.s7 / (1.3 * xs.cpc_h))::numeric, (greatest(0.01, coalesce(xs.phi_c, 0.03) / 7) + 1 / (xs.ch + 1))::numeric, (NULL)::numeric, (NULL)::float8, 'lower',
           xs.c7 < xs.s7 / (1.3 * xs.cpc_h) AND (xs.cpa_ref IS NULL OR xs.cpa7 IS NULL OR xs.cpa7 > xs.cpa_ref),
           1 - xs.c7 / (xs.s7 / (1.3 * xs.cpc_h))
    FROM xs WHERE xs.cpc_h > 0 AND xs.ch >= 50 AND xs.c7 >= 30 AND xs.s7 >= xs.min_spend AND xs.daysh >= 7
    UNION ALL
    -- bid_adjustment on CPA: above max CPA on each of the last 7 days; H0 CPA <= max CPA
    SELECT xs.*, 'bid_cpa', xs.max_cpa, xs.s7 / xs.max_cpa,
           'count', (xs.k7)::numeric, (xs.s7 / xs.max_cpa)::numeric, (greatest(0.01, coalesce(xs.phi_k, 0.03) / 7))::numeric, (NULL)::numeric, (NULL)::float8, 'lower',
           xs.days7 = 7 AND NOT EXISTS (SELECT 1 FROM unnest(xs.s_days, xs.k_days) AS dk(s, k) WHERE dk.k >= dk.s / xs.max_cpa),
           1 - xs.k7 / (xs.s7 / xs.max_cpa)
    FROM xs WHERE xs.max_cpa > 0 AND xs.k7 > 0 AND xs.s7 >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
    UNION ALL
    -- creative: H0 CTR >= 0.75 x the entity's own previous 21 days
    SELECT xs.*, 'creative', 0.75 * xs.ctr_h, 0.75 * xs.i7 * xs.ctr_h,
           'count', (xs.c7)::numeric, (0.75 * xs.i7 * xs.ctr_h)::numeric, (greatest(0.01, coalesce(xs.phi_t, 0.03) / 7) + 1 / (xs.ch + 1))::numeric, (NULL)::numeric, (NULL)::float8, 'lower',
           xs.ctr7 < 0.75 * xs.ctr_h, 1 - xs.ctr7 / (0.75 * xs.ctr_h)
    FROM xs WHERE xs.ch >= 50 AND xs.daysh >= 7 AND xs.i7 >= 5000 AND xs.ctr_h > 0
    UNION ALL
    -- audience: H0 CPM ratio <= 1.3 x the rest of the platform's (impressions bought with the window's spend)
    SELECT xs.*, 'audience', 1.3 * xs.cpm_h * pr.r, xs.s7 * 1000 / (1.3 * xs.cpm_h * pr.r),
           'count', (xs.i7)::numeric, (xs.s7 * 1000 / (1.3 * xs.cpm_h * pr.r))::numeric, (greatest(0.01, coalesce(xs.phi_i, 0.03) / 7) + 1 / (xs.ih + 1))::numeric, (NULL)::numeric, (NULL)::float8, 'lower',
           xs.cpm7 > 1.3 * xs.cpm_h * pr.r, xs.cpm7 / (1.3 * xs.cpm_h * pr.r) - 1
    FROM xs
    CROSS JOIN LATERAL (SELECT coalesce(((xs.ps7 - xs.s7) / nullif(xs.pi7 - xs.i7, 0)) / nullif((xs.psh - xs.sh) / nullif(xs.pih - xs.ih, 0), 0), 1) AS r) pr
    WHERE xs.i7 >= 10000 AND xs.ih >= 10000 AND xs.daysh >= 7 AND xs.cpm_h > 0 AND xs.s7 >= xs.min_spend AND pr.r > 0
  ),
  -- the p-values, computed only where the point estimate is beyond the line
  -- (elsewhere p >= 1/2: counted as 1, which can only make the cut stricter)
  -- Conversion-based tests expect what the figures can hold at their age
  -- (the conversion lag): the null's count or value times the window's
  -- completeness.
  t AS (
    SELECT r.*, CASE WHEN r.beyond THEN
                  CASE r.pkind WHEN 'count' THEN ads_engine.count_p_value(r.p_obs, r.p_mu * lg.f, r.p_phi, r.p_dir)
                               ELSE ads_engine.value_p_value(r.p_obs, r.p_mu * lg.f, r.p_var * lg.f * lg.f, r.p_zero, r.p_dir) END
                ELSE 1 END AS p, lg.f AS completeness
    FROM t_raw r
    CROSS JOIN LATERAL (SELECT CASE WHEN r.rule IN ('pause_28d', 'budget_decrease_28d', 'budget_increase_28d') THEN r.comp28
                                    WHEN r.rule IN ('bid_cpc', 'creative', 'audience') THEN 1
                                    ELSE r.comp7 END AS f) lg
  ),
  -- timing: conversions per spend by weekday over 28 days; Pearson's
  -- statistic divided by the over-dispersion factor, chi-square with 6 df
  wd AS (
    SELECT x.platform, x.level, x.entity_id, x.dow, sum(x.s) AS s, sum(x.k) AS k
    FROM dd x WHERE x.active GROUP BY x.platform, x.level, x.entity_id, x.dow
  ),
  wde AS (
    SELECT w.*, tt.k * w.s / nullif(tt.s, 0) AS expected, tt.s AS s_tot, tt.k AS k_tot
    FROM wd w JOIN wt tt ON tt.platform = w.platform AND tt.level = w.level AND tt.entity_id = w.entity_id
  ),
  timing AS (
    SELECT w.platform, w.level, w.entity_id,
           sum((w.k - w.expected) ^ 2 / nullif(w.expected, 0)) AS pearson, avg(w.expected) AS mean_expected,
           min(w.k / nullif(w.expected, 0)) AS worst_efficiency, max(w.s_tot) AS s28t, max(w.k_tot) AS k28t,
           sum(w.s) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_spend,
           sum(w.k) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_conv,
           sum(greatest(0, w.s - w.k * w.s_tot / nullif(w.k_tot, 0))) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_excess,
           array_agg(w.dow ORDER BY w.dow) FILTER (WHERE w.k / nullif(w.expected, 0) <= 0.6) AS weak_days,
           jsonb_agg(jsonb_build_object('isodow', w.dow, 'spend', w.s, 'conversions', w.k,
                                        'expected', round(w.expected, 2), 'efficiency', round(w.k / nullif(w.expected, 0), 3)) ORDER BY w.dow) AS by_weekday
    FROM wde w WHERE w.expected > 0
    GROUP BY w.platform, w.level, w.entity_id
    HAVING count(*) = 7 AND min(w.expected) >= 5
  ),
  tt AS (
    SELECT xs.*, tm.pearson, tm.mean_expected, tm.worst_efficiency, tm.s28t, tm.k28t, tm.weak_spend, tm.weak_conv, tm.weak_excess,
           tm.weak_days, tm.by_weekday, tm.pearson / (1 + coalesce(xs.phi_k, 0.03) * tm.mean_expected / 4) AS chi2
    FROM timing tm JOIN xs ON xs.platform = tm.platform AND xs.level = tm.level AND xs.entity_id = tm.entity_id
    WHERE xs.days28 >= 21 AND tm.s28t >= xs.min_spend AND NOT xs.held AND NOT xs.tracking_suspect
  ),
  allp AS (
    SELECT t.platform, t.q, least(1, t.p)::float8 AS p, ads_engine.test_weight(t.level, ads_engine.rule_kind(t.rule)) AS w_raw FROM t
    UNION ALL
    -- chi-square survival with 6 df: exp(-x/2) (1 + x/2 + x^2/8)
    SELECT tt.platform, tt.q, least(1, exp(-tt.chi2 / 2) * (1 + tt.chi2 / 2 + tt.chi2 ^ 2 / 8))::float8, ads_engine.test_weight(tt.level, 'timing') FROM tt
  ),
  -- weighted Benjamini-Hochberg (ads_engine.test_weight), per platform
  norm AS (
    SELECT a.platform, count(*) AS m, sum(a.w_raw) AS sw FROM allp a GROUP BY a.platform
  ),
  cut AS (
    SELECT a.platform, ads_engine.bh_cut(array_agg(a.p / (a.w_raw * n.m / n.sw)), min(a.q)) AS wcut, min(n.m) AS m, min(n.sw) AS sw
    FROM allp a JOIN norm n ON n.platform = a.platform GROUP BY a.platform
  ),
  -- the discoveries, as stored (cut: the threshold on this test's own p)
  hit AS (
    SELECT t.*, cu.wcut * ads_engine.test_weight(t.level, ads_engine.rule_kind(t.rule)) * cu.m / cu.sw AS cut, cu.m
    FROM t JOIN cut cu ON cu.platform = t.platform
    WHERE t.beyond AND t.p / (ads_engine.test_weight(t.level, ads_engine.rule_kind(t.rule)) * cu.m / cu.sw) <= cu.wcut
  ),
  timing_hit AS (
    SELECT tt.*, exp(-tt.chi2 / 2) * (1 + tt.chi2 / 2 + tt.chi2 ^ 2 / 8) AS p,
           cu.wcut * ads_engine.test_weight(tt.level, 'timing') * cu.m / cu.sw AS cut, cu.m
    FROM tt JOIN cut cu ON cu.platform = tt.platform
    WHERE tt.worst_efficiency <= 0.6
      AND least(1, exp(-tt.chi2 / 2) * (1 + tt.chi2 / 2 + tt.chi2 ^ 2 / 8)) / (ads_engine.test_weight(tt.level, 'timing') * cu.m / cu.sw) <= cu.wcut
  ),
  -- one pause per entity (the streak rule names tracking), one bid rule per entity
  pause1 AS (
    SELECT DISTINCT ON (h.platform, h.level, h.entity_id) h.* FROM hit h WHERE h.rule IN ('pause', 'pause_28d', 'pause_streak')
    ORDER BY h.platform, h.level, h.entity_id, (h.rule = 'pause_streak') DESC, h.p
  ),
  bid1 AS (
    SELECT DISTINCT ON (h.platform, h.level, h.entity_id) h.* FROM hit h WHERE h.rule IN ('bid_cpc', 'bid_cpa')
      AND NOT EXISTS (SELECT 1 FROM pause1 p WHERE p.platform = h.platform AND p.level = h.level AND p.entity_id = h.entity_id)
    ORDER BY h.platform, h.level, h.entity_id, h.p
  ),
  budget1 AS (
    SELECT DISTINCT ON (h.platform, h.entity_id) h.* FROM hit h
    WHERE h.rule IN ('budget_decrease', 'budget_increase', 'budget_decrease_28d', 'budget_increase_28d', 'budget_decrease_cpa', 'budget_increase_cpa')
      AND NOT EXISTS (SELECT 1 FROM pause1 p WHERE p.platform = h.platform AND p.level = h.level AND p.entity_id = h.entity_id)
    ORDER BY h.platform, h.entity_id, h.p
  ),
  cand AS (
    SELECT p.platform, p.level, p.entity_id, p.name, p.campaign_id, 'pause'::text AS type,
           CASE WHEN p.rule = 'pause_streak' THEN
             format('Pause %s, or check its conversion tracking first: no conversion in its last %s active days (%s spent) where its own rate '
                    'promised %s; at the limit of %s x %s (%s) %s were due, so the chance this is noise is %s',
                    coalesce(p.name, p.entity_id), p.streak_days, round(p.streak_spend, 2), round(p.streak_expected_own, 1),
                    p.pause_factor, round(p.line / p.pause_factor, 2), p.cpa_ref_source, round(p.mu0, 1), ads_engine.format_p(p.p))
           WHEN p.cpa_ref_source = 'tenant_cpa_90d' THEN
             format('Pause %s: %s spent over the last 7 days with %s conversions (CPA %s); no max CPA is set for %s, and against the '
                    'account''s own 90-day CPA %s x %s the chance this is noise is %s. Set a max CPA in the settings to judge it on your target',
                    coalesce(p.name, p.entity_id), round(p.s7, 2), round(p.k7, 2), coalesce(round(p.cpa7, 2)::text, 'none'), p.platform,
                    round(p.line / p.pause_factor, 2), p.pause_factor, ads_engine.format_p(p.p))
           WHEN p.rule = 'pause_28d' THEN
             format('Pause %s: CPA %s over the last 28 days (%s spent, %s conversions; %s over the last 7) against a pause line of %s x %s = %s (%s): '
                    'the chance this is noise is %s',
                    coalesce(p.name, p.entity_id), coalesce(round(p.s28 / nullif(p.k28, 0), 2)::text, 'infinite'), round(p.s28, 2), round(p.k28, 2),
                    coalesce(round(p.cpa7, 2)::text, 'infinite'), p.pause_factor, round(p.line / p.pause_factor, 2), round(p.line, 2), p.cpa_ref_source,
                    ads_engine.format_p(p.p))
           ELSE
             format('Pause %s: CPA %s over the last 7 days (%s spent, %s conversions) against a pause line of %s x %s = %s (%s): '
                    'the chance this is noise is %s',
                    coalesce(p.name, p.entity_id), coalesce(round(p.cpa7, 2)::text, 'infinite'), round(p.s7, 2), round(p.k7, 2),
                    p.pause_factor, round(p.line / p.pause_factor, 2), round(p.line, 2), p.cpa_ref_source, ads_engine.format_p(p.p))
           END AS description,
           round(p.spend_per_day, 2) AS current_value, 0::numeric AS recommended_value,
           jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'spend_7d', p.s7,
                              'conversions_7d', p.k7, 'cpa_7d', round(p.cpa7, 4), 'cpa_reference', round(p.line / p.pause_factor, 4),
                              'reference_source', p.cpa_ref_source, 'auto_pause_threshold', p.pause_factor, 'pause_line', round(p.line, 4),
                              'expected_conversions_at_line', round(p.mu0, 2),
                              'test', 'nb_lower', 'null_hypothesis', 'CPA <= pause line',
                              'spend_28d', p.s28, 'conversions_28d', p.k28, 'span_days', CASE WHEN p.rule = 'pause_28d' THEN 28 ELSE 7 END,
                              'conversions_lost_per_week', round(p.k7 * p.week_factor, 2), 'value_lost_per_week', round(p.v7 * p.week_factor, 2))
           || CASE WHEN p.rule = 'pause_streak' THEN jsonb_build_object('possible_cause', 'tracking', 'days_without_conversion', p.streak_days,
                                                                       'spend_without_conversion', p.streak_spend,
                                                                       'expected_at_own_rate', round(p.streak_expected_own, 2)) ELSE '{}'::jsonb END AS evidence,
           round(p.spend_per_day * 7, 2) AS impact, 'spend_saved_per_week'::text AS unit, p.spend_per_day * 7 AS money,
           p.p, p.cut, p.m, p.effect, 7 AS expires_days, p.budget_id,
           jsonb_build_object('metric', 'spend', 'expected_change', -1, 'unit', 'relative', 'horizon_days', 7) AS prediction
    FROM pause1 p
    UNION ALL
    SELECT b.platform, b.level, b.entity_id, b.name, b.campaign_id,
           CASE WHEN b.rule LIKE 'budget_increase%' THEN 'budget_increase' ELSE 'budget_decrease' END,
           CASE WHEN b.rule LIKE 'budget_increase%' THEN
             format('Raise the daily budget of %s from %s to %s: %s %s against a line of %s (%s %s x 1.2) with spend at the budget on %s of 7 days; '
                    'the chance this is noise is %s',
                    coalesce(b.name, b.entity_id), b.daily_budget, nb.new_budget,
                    CASE WHEN b.rule IN ('budget_increase', 'budget_increase_28d') THEN 'ROAS' ELSE 'CPA' END,
                    CASE WHEN b.rule IN ('budget_increase', 'budget_increase_28d') THEN round(b.roas7, 2) ELSE round(b.cpa7, 2) END, round(b.line, 2),
                    CASE WHEN b.rule IN ('budget_increase', 'budget_increase_28d') THEN b.roas_ref_source ELSE 'budget_allocation.target_cpa' END,
                    CASE WHEN b.rule IN ('budget_increase', 'budget_increase_28d') THEN round(b.roas_ref, 2) ELSE round(b.bud_target_cpa, 2) END, b.capped_days,
                    ads_engine.format_p(b.p))
           ELSE
             format('Lower the daily budget of %s from %s to %s: %s %s against a line of %s (%s %s x 0.8); the chance this is noise is %s',
                    coalesce(b.name, b.entity_id), b.daily_budget, nb.new_budget,
                    CASE WHEN b.rule IN ('budget_decrease', 'budget_decrease_28d') THEN 'ROAS' ELSE 'CPA' END,
                    CASE WHEN b.rule IN ('budget_decrease', 'budget_decrease_28d') THEN round(b.roas7, 2) ELSE round(b.cpa7, 2) END, round(b.line, 2),
                    CASE WHEN b.rule IN ('budget_decrease', 'budget_decrease_28d') THEN b.roas_ref_source ELSE 'budget_allocation.target_cpa' END,
                    CASE WHEN b.rule IN ('budget_decrease', 'budget_decrease_28d') THEN round(b.roas_ref, 2) ELSE round(b.bud_target_cpa, 2) END,
                    ads_engine.format_p(b.p))
           END,
           b.daily_budget, nb.new_budget,
           jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'spend_7d', b.s7, 'value_7d', b.v7,
                              'conversions_7d', b.k7, 'roas_7d', round(b.roas7, 4), 'cpa_7d', round(b.cpa7, 4),
                              'target_roas', round(b.roas_ref, 4), 'target_roas_source', b.roas_ref_source, 'target_cpa', b.bud_target_cpa,
                              'line', round(b.line, 4), 'capped_days_7d', b.capped_days, 'daily_budget', b.daily_budget,
                              'average_daily_spend_7d', round(b.spend_per_day, 2),
                              'test', CASE WHEN b.rule LIKE '%cpa' THEN 'nb_' ELSE 'value_' END
                                      || CASE WHEN b.rule LIKE 'budget_increase%' THEN 'upper' ELSE 'lower' END,
                              'span_days', CASE WHEN b.rule LIKE '%28d' THEN 28 ELSE 7 END,
                              'null_hypothesis', CASE regexp_replace(b.rule, '_28d$', '') WHEN 'budget_decrease' THEN 'ROAS >= 0.8 x target' WHEN 'budget_increase' THEN 'ROAS <= 1.2 x target'
                                                              WHEN 'budget_decrease_cpa' THEN 'CPA <= target / 0.8' ELSE 'CPA >= target / 1.2' END),
           CASE WHEN b.rule = 'budget_increase_cpa' THEN round((nb.new_budget - b.daily_budget) * 7 / nullif(b.cpa7, 0), 2)
                WHEN b.rule LIKE 'budget_increase%' THEN round((nb.new_budget - b.daily_budget) * 7 * (b.roas7 + b.roas_ref) / 2, 2)
                ELSE round((least(b.daily_budget, b.spend_per_day) - nb.new_budget) * 7, 2) END,
           CASE WHEN b.rule = 'budget_increase_cpa' THEN 'conversions_per_week'
                WHEN b.rule LIKE 'budget_increase%' THEN 'value_per_week' ELSE 'spend_saved_per_week' END,
           CASE WHEN b.rule LIKE 'budget_increase%' THEN (nb.new_budget - b.daily_budget) * 7 * coalesce((b.roas7 + b.roas_ref) / 2, 1)
                ELSE (least(b.daily_budget, b.spend_per_day) - nb.new_budget) * 7 END,
           b.p, b.cut, b.m, b.effect, 7, b.budget_id,
           jsonb_build_object('metric', 'spend', 'expected_change', round(nb.new_budget / nullif(least(b.daily_budget, b.spend_per_day), 0) - 1, 4),
                              'unit', 'relative', 'horizon_days', 7)
    FROM budget1 b
    CROSS JOIN LATERAL (SELECT CASE WHEN b.rule LIKE 'budget_increase%' THEN
                                 least(coalesce(b.max_budget, 'Infinity'::numeric),
                                       round(b.daily_budget * least(1.5::numeric, 1 + greatest(b.effect, 0) / 2 + 0.1), 2))
                               ELSE greatest(coalesce(b.min_budget, 0),
                                             round(least(b.daily_budget, b.spend_per_day) * greatest(0.5::numeric, 1 - greatest(b.effect, 0) - 0.2), 2))
                               END AS new_budget) nb
    WHERE (b.rule LIKE 'budget_increase%' AND nb.new_budget > b.daily_budget)
       OR (b.rule LIKE 'budget_decrease%' AND nb.new_budget < least(b.daily_budget, b.spend_per_day))
    UNION ALL
    SELECT b.platform, b.level, b.entity_id, b.name, b.campaign_id, 'bid_adjustment',
           CASE WHEN b.rule = 'bid_cpc' THEN
             format('Lower bids on %s: CPC %s over the last 7 days against %s over the 21 days before (line 1.3 x = %s); the chance this is noise is %s',
                    coalesce(b.name, b.entity_id), round(b.cpc7, 2), round(b.cpc_h, 2), round(b.line, 2), ads_engine.format_p(b.p))
           ELSE
             format('Lower bids on %s: CPA above the max CPA %s on each of the last 7 days (7-day CPA %s); the chance this is noise is %s',
                    coalesce(b.name, b.entity_id), round(b.max_cpa, 2), round(b.cpa7, 2), ads_engine.format_p(b.p))
           END,
           CASE WHEN b.rule = 'bid_cpc' THEN round(b.cpc7, 4) ELSE round(b.cpa7, 4) END,
           CASE WHEN b.rule = 'bid_cpc' THEN round(b.cpc_h, 4) ELSE round(b.max_cpa, 4) END,
           jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'rule', CASE WHEN b.rule = 'bid_cpc' THEN 'cpc_up' ELSE 'cpa_above_max_7d' END,
                              'spend_7d', b.s7, 'clicks_7d', b.c7, 'conversions_7d', b.k7, 'cpc_7d', round(b.cpc7, 4), 'cpc_history', round(b.cpc_h, 4),
                              'cpa_7d', round(b.cpa7, 4), 'max_cpa', b.max_cpa, 'line', round(b.line, 4), 'test', 'nb_lower',
                              'null_hypothesis', CASE WHEN b.rule = 'bid_cpc' THEN 'CPC <= 1.3 x own history' ELSE 'CPA <= max CPA' END),
           round(CASE WHEN b.rule = 'bid_cpc' THEN (b.cpc7 - b.cpc_h) * b.c7 ELSE greatest(0, b.s7 - b.k7 * b.max_cpa) END * b.week_factor, 2),
           'spend_saved_per_week',
           CASE WHEN b.rule = 'bid_cpc' THEN (b.cpc7 - b.cpc_h) * b.c7 ELSE greatest(0, b.s7 - b.k7 * b.max_cpa) END * b.week_factor,
           b.p, b.cut, b.m, b.effect, 7, b.budget_id,
           jsonb_build_object('metric', CASE WHEN b.rule = 'bid_cpc' THEN 'cpc' ELSE 'cpa' END,
                              'expected_change', round(CASE WHEN b.rule = 'bid_cpc' THEN b.cpc_h / b.cpc7 ELSE b.max_cpa / b.cpa7 END - 1, 4),
                              'unit', 'relative', 'horizon_days', 7)
    FROM bid1 b
    UNION ALL
    SELECT f.platform, f.level, f.entity_id, f.name, f.campaign_id, 'creative',
           format('Refresh the creatives of %s: CTR %s%% over the last 7 days against %s%% over the 21 days before (line 0.75 x); the chance this is noise is %s',
                  coalesce(f.name, f.entity_id), round(f.ctr7 * 100, 2), round(f.ctr_h * 100, 2), ads_engine.format_p(f.p)),
           round(f.ctr7, 6), round(f.ctr_h, 6),
           jsonb_build_object('recent', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of, 'impressions', f.i7, 'clicks', f.c7),
                              'history', jsonb_build_object('from', p_as_of - 27, 'to', p_as_of - 7, 'impressions', f.ih, 'clicks', f.ch),
                              'ctr_7d', round(f.ctr7, 6), 'ctr_history', round(f.ctr_h, 6), 'line', round(f.line, 6), 'test', 'nb_lower',
                              'null_hypothesis', 'CTR >= 0.75 x own history'),
           round((f.ctr_h - f.ctr7) * f.i7 * f.week_factor, 1), 'clicks_per_week',
           (f.ctr_h - f.ctr7) * f.i7 * f.week_factor * coalesce(f.sh / nullif(f.ch, 0), 0),
           f.p, f.cut, f.m, f.effect, 7, f.budget_id,
           jsonb_build_object('metric', 'ctr', 'expected_change', round(f.ctr_h / f.ctr7 - 1, 4), 'unit', 'relative', 'horizon_days', 7)
    FROM hit f WHERE f.rule = 'creative'
    UNION ALL
    SELECT a.platform, a.level, a.entity_id, a.name, a.campaign_id, 'audience',
           format('Review the audience of %s: CPM %s over the last 7 days against %s before, more than 1.3 x what the rest of the platform moved; the chance this is noise is %s',
                  coalesce(a.name, a.entity_id), round(a.cpm7, 2), round(a.cpm_h, 2), ads_engine.format_p(a.p)),
           round(a.cpm7, 4), round(a.cpm_h, 4),
           jsonb_build_object('recent', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of, 'impressions', a.i7, 'spend', a.s7),
                              'history', jsonb_build_object('from', p_as_of - 27, 'to', p_as_of - 7, 'impressions', a.ih, 'spend', a.sh),
                              'line', round(a.line, 4), 'test', 'nb_lower', 'null_hypothesis', 'CPM <= 1.3 x own history x the platform''s move'),
           round((a.cpm7 - a.cpm_h) * a.i7 / 1000 * a.week_factor, 2), 'spend_saved_per_week',
           (a.cpm7 - a.cpm_h) * a.i7 / 1000 * a.week_factor,
           a.p, a.cut, a.m, a.effect, 7, a.budget_id,
           jsonb_build_object('metric', 'cpm', 'expected_change', round(a.cpm_h / a.cpm7 - 1, 4), 'unit', 'relative', 'horizon_days', 7)
    FROM hit a WHERE a.rule = 'audience'
    UNION ALL
    SELECT t2.platform, t2.level, t2.entity_id, t2.name, t2.campaign_id, 'timing',
           format('Reduce delivery of %s on weekdays %s (ISO): they convert at %s x its average per unit of spend over 28 days (chi-square %s, 6 df, '
                  'corrected for over-dispersion); the chance this is noise is %s',
                  coalesce(t2.name, t2.entity_id), array_to_string(t2.weak_days, ', '), round(t2.worst_efficiency, 2), round(t2.chi2, 1),
                  ads_engine.format_p(t2.p)),
           round(t2.weak_spend / nullif(t2.weak_conv, 0), 4), round(t2.s28t / nullif(t2.k28t, 0), 4),
           jsonb_build_object('window', jsonb_build_object('from', p_as_of - 27, 'to', p_as_of), 'by_weekday', t2.by_weekday,
                              'chi_square', round(t2.chi2, 3), 'pearson', round(t2.pearson, 3), 'degrees_of_freedom', 6,
                              'weak_weekdays', to_jsonb(t2.weak_days), 'cpa_28d', round(t2.s28t / nullif(t2.k28t, 0), 4), 'test', 'chi_square',
                              'null_hypothesis', 'the same conversions per spend on every weekday'),
           round(t2.weak_excess / 4, 2), 'spend_saved_per_week', t2.weak_excess / 4,
           t2.p, t2.cut, t2.m, 0.5, 14, t2.budget_id,
           jsonb_build_object('metric', 'cpa', 'expected_change', -0.1, 'unit', 'relative', 'horizon_days', 14)
    FROM timing_hit t2
    UNION ALL
    -- no reference at all (no target, no conversion in the account's 90 days): say so
    SELECT xs.platform, xs.level, xs.entity_id, xs.name, xs.campaign_id, 'pause',
           format('Pause %s or set a max CPA: %s spent over 28 days without a single conversion, and neither %s nor the account has a CPA to judge it by',
                  coalesce(xs.name, xs.entity_id), round(xs.s28, 2), xs.platform),
           round(xs.spend_per_day, 2), 0,
           jsonb_build_object('window', jsonb_build_object('from', p_as_of - 27, 'to', p_as_of), 'spend_28d', xs.s28, 'conversions_28d', 0,
                              'reference_source', 'none', 'test', 'none', 'min_spend_for_decision', xs.min_spend),
           round(xs.spend_per_day * 7, 2), 'spend_saved_per_week', xs.spend_per_day * 7,
           NULL::float8, NULL::float8, NULL::bigint, 1::numeric, 7, xs.budget_id,
           jsonb_build_object('metric', 'spend', 'expected_change', -1, 'unit', 'relative', 'horizon_days', 7)
    FROM xs WHERE xs.cpa_ref_source = 'none' AND xs.k28 = 0 AND xs.s28 >= 10 * xs.min_spend
  ),
  -- an ad set's recommendation replaces its campaign's of the same type
  ded AS (
    SELECT c.*,
           (c.level = 'adset' AND EXISTS (SELECT 1 FROM cand p WHERE p.level = 'campaign' AND p.platform = c.platform
                                          AND p.entity_id = c.campaign_id AND p.type = c.type)) AS explains_campaign
    FROM cand c
    WHERE NOT (c.level = 'campaign' AND EXISTS (SELECT 1 FROM cand a WHERE a.level = 'adset' AND a.platform = c.platform
                                                AND a.campaign_id = c.entity_id AND a.type = c.type))
  ),
  track AS (
    SELECT tr.recommendation_type, tr.confidence_factor FROM ads_engine.track_record(p_tenant) tr
  )
  SELECT 'candidate'::text, r.platform, r.level, r.entity_id, r.name, r.campaign_id, r.type, r.description,
         r.current_value, r.recommended_value,
         r.evidence || jsonb_build_object('p_value', round(r.p::numeric, 10), 'p_threshold', round(r.cut::numeric, 10), 'tests_in_run', r.m,
                                          'money_per_week', round(r.money, 2), 'tenant_spend_7d', round(tw.s7, 2), 'prediction', r.prediction)
         || CASE WHEN r.explains_campaign THEN jsonb_build_object('explains_campaign', true, 'campaign_id', r.campaign_id) ELSE '{}'::jsonb END,
         r.impact, r.unit, round(r.money, 2), r.p, r.cut,
         -- 1 - the test's q-value (p scaled so that the run's cut is the level q), times the effect beyond the line
         -- (0.5 at it, 1 at 50 % beyond), times the type's measured track record
         round(least(1, greatest(0, 1 - CASE WHEN r.p IS NULL THEN 0 ELSE least(1, r.p * cfg.q / nullif(r.cut, 0)) END) * least(1, 0.5 + greatest(coalesce(r.effect, 0), 0))
                        * coalesce(tk.confidence_factor, 1))::numeric, 3),
         (CASE WHEN r.money >= 0.10 * tw.s7 THEN 'critical'
               WHEN r.money >= 0.03 * tw.s7 THEN 'high'
               -- spend with nothing at all to show for it (no conversion in the window where the pause line
               -- implied 5 or more, or none in 28 days with no reference): high in any account
               WHEN r.type = 'pause' AND ((r.evidence ->> 'conversions_7d')::numeric = 0
                                          AND (r.evidence ->> 'spend_7d')::numeric >= 5 * (r.evidence ->> 'pause_line')::numeric
                                          OR r.evidence ->> 'reference_source' = 'none') THEN 'high'
               WHEN r.money >= 0.005 * tw.s7 THEN 'medium'
               ELSE 'low' END)::ads.priority_level,
         r.expires_days, cfg.auto_apply
  FROM ded r CROSS JOIN tweek tw JOIN cfg ON cfg.platform = r.platform
  LEFT JOIN track tk ON tk.recommendation_type = r.type
  UNION ALL
  SELECT 'hold', xs.platform, xs.level, xs.entity_id, xs.name, xs.campaign_id, NULL, NULL, NULL, NULL,
         jsonb_build_object('days_without_conversion', xs.streak_days, 'expected_at_own_rate', round(xs.streak_expected_own, 2),
                            'platform_dark', EXISTS (SELECT 1 FROM dark dk WHERE dk.platform = xs.platform)),
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM xs WHERE xs.held
  UNION ALL
  SELECT 'figures', xs.platform, xs.level, xs.entity_id, xs.name, xs.campaign_id, NULL, NULL, NULL, NULL,
         jsonb_build_object('window', jsonb_build_object('from', p_as_of - 6, 'to', p_as_of), 'spend_7d', xs.s7, 'conversions_7d', xs.k7,
                            'value_7d', xs.v7, 'cpa_7d', round(xs.cpa7, 4), 'roas_7d', round(xs.roas7, 4), 'cpc_7d', round(xs.cpc7, 4),
                            'ctr_7d', round(xs.ctr7, 6)),
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM xs;

  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.recommendation_candidates(uuid, date) IS
  'Every recommendation the tenant''s data of the 7 days ending p_as_of support (kind candidate: type, description, values, evidence with the test, '
  'its p-value and the run''s Benjamini-Hochberg cut, money per week, confidence, priority), the entities whose advice is held back for a suspected '
  'tracking loss (kind hold, at most 3 days), and every entity judged with its 7-day figures (kind figures). Writes nothing. See ads.generate_recommendations.';

-- Applies a pending budget recommendation to ads.budget_allocation, marks it
-- applied and writes the audit row, all in the caller's transaction. With
-- p_recheck (every caller but the run that has just made it), the rule is
-- tested again on the latest data first: a recommendation the data no longer
-- support is withdrawn instead.
DROP FUNCTION IF EXISTS ads_engine.apply_budget_recommendation(uuid, uuid, text, text);
CREATE OR REPLACE FUNCTION ads_engine.apply_budget_recommendation(
  p_tenant uuid, p_recommendation_id uuid, p_actor_label text DEFAULT 'optimizer',
  p_action text DEFAULT 'recommendation.auto_apply', p_recheck boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  rec ads.optimization_recommendations%ROWTYPE;
  bud ads.budget_allocation%ROWTYPE;
  v_day date;
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
  IF p_recheck THEN
    -- the latest day with data for the platform, up to the tenant's yesterday
    SELECT max(m.day) INTO v_day FROM ads.metrics_daily m
     WHERE m.tenant_id = p_tenant AND m.platform = rec.platform AND m.day <= ads_engine.tenant_yesterday(p_tenant);
    IF v_day IS NULL OR NOT EXISTS (
         SELECT 1 FROM ads_engine.recommendation_candidates(p_tenant, v_day) c
         WHERE c.kind = 'candidate' AND c.recommendation_type = rec.recommendation_type AND c.platform = rec.platform::text
           AND c.level = rec.level::text AND c.entity_id = rec.entity_id) THEN
      PERFORM ads_engine.withdraw_recommendation(p_tenant, rec.id,
        format('At approval the data up to %s no longer support it: nothing was changed', coalesce(v_day::text, 'today')), '{}'::jsonb);
      RAISE NOTICE 'recommendation % not applied and withdrawn: the data up to % no longer support it', rec.id, v_day;
      PERFORM ads_engine.leave_tenant(v_entered);
      RETURN false;
    END IF;
  END IF;
  UPDATE ads.budget_allocation ba
     SET daily_budget = rec.recommended_value, recommended_budget = rec.recommended_value, updated_at = now()
   WHERE ba.tenant_id = p_tenant AND ba.id = bud.id;
  -- The optimiser's own change is nobody's approval, even in a run a buyer started.
  UPDATE ads.optimization_recommendations o
     SET status = 'applied', applied_at = now(),
         applied_by = CASE WHEN p_action = 'recommendation.auto_apply' THEN NULL ELSE saas.current_user_id() END
   WHERE o.tenant_id = p_tenant AND o.id = rec.id;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
  VALUES (p_tenant, CASE WHEN p_action = 'recommendation.auto_apply' THEN NULL ELSE saas.current_user_id() END, p_actor_label, p_action,
          'budget_allocation', bud.id::text,
          jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform,
                             'daily_budget', bud.daily_budget, 'recommended_budget', bud.recommended_budget),
          jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform,
                             'daily_budget', rec.recommended_value, 'recommended_budget', rec.recommended_value,
                             'recommendation_id', rec.id, 'recommendation_type', rec.recommendation_type));
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN true;
END
$$;
COMMENT ON FUNCTION ads_engine.apply_budget_recommendation(uuid, uuid, text, text, boolean) IS
  'Applies a pending budget_increase / budget_decrease: daily_budget := recommended value in ads.budget_allocation, the recommendation marked applied '
  '(applied_by the user, or NULL for p_action recommendation.auto_apply: the optimiser''s, even in a run a buyer started), '
  'and a saas.audit_log row (before / after) in the same transaction. Returns false, changing no budget, when the recommendation is no longer pending; '
  'when it is stale (expires_at passed, or the budget''s daily_budget is no longer the current_value it was computed from): it is then marked expired; '
  'and, with p_recheck (default), when the rule no longer holds on the latest data (ads_engine.recommendation_candidates): it is then withdrawn. '
  'A NOTICE says why.';

-- Withdraws one pending recommendation: status withdrawn, when and why, the
-- figures that changed in evidence -> 'withdrawal', and an audit row.
CREATE OR REPLACE FUNCTION ads_engine.withdraw_recommendation(p_tenant uuid, p_recommendation_id uuid, p_reason text, p_figures jsonb)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_before jsonb;
BEGIN
  IF p_reason IS NULL OR btrim(p_reason) = '' THEN
    RAISE EXCEPTION 'reason must not be empty' USING ERRCODE = '22023';
  END IF;
  UPDATE ads.optimization_recommendations o
     SET status = 'withdrawn', withdrawn_at = now(), withdrawal_reason = p_reason,
         evidence = o.evidence || jsonb_build_object('withdrawal', coalesce(p_figures, '{}'::jsonb) || jsonb_build_object('reason', p_reason))
   WHERE o.tenant_id = p_tenant AND o.id = p_recommendation_id AND o.status = 'pending'
  RETURNING jsonb_build_object('recommendation_type', o.recommendation_type, 'platform', o.platform, 'level', o.level,
                               'entity_id', o.entity_id, 'status', 'pending', 'evidence', o.evidence - 'withdrawal')
    INTO v_before;
  IF v_before IS NULL THEN
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
  VALUES (p_tenant, saas.current_user_id(), 'optimizer', 'recommendation.withdraw', 'recommendation', p_recommendation_id::text,
          v_before, jsonb_build_object('status', 'withdrawn', 'reason', p_reason, 'figures', coalesce(p_figures, '{}'::jsonb)));
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN true;
END
$$;
COMMENT ON FUNCTION ads_engine.withdraw_recommendation(uuid, uuid, text, jsonb) IS
  'Marks a pending recommendation withdrawn (withdrawn_at, withdrawal_reason, evidence -> ''withdrawal'' with p_figures and the reason) and writes '
  'a saas.audit_log row (action recommendation.withdraw, actor optimizer). Returns false when it is not pending. Never deletes.';

CREATE OR REPLACE FUNCTION ads_engine.generate_recommendations(p_tenant uuid, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_n integer := 0;
  v_all jsonb;
  r record;
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);

  -- A pending recommendation past its expiry no longer blocks a fresh one.
  PERFORM ads_engine.expire_recommendations(p_tenant);

  SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) INTO v_all
  FROM ads_engine.recommendation_candidates(p_tenant, p_as_of) c;

  -- Advice that stays true: a pending recommendation of a platform judged in
  -- this run that the data no longer support is withdrawn, quoting the
  -- figures now (an entity whose advice is held back keeps its own).
  FOR r IN
    WITH c AS (
      SELECT * FROM jsonb_to_recordset(v_all) AS x(kind text, platform text, level text, entity_id text, recommendation_type text, evidence jsonb)
    )
    SELECT o.id, o.recommendation_type, f.evidence AS figures
    FROM ads.optimization_recommendations o
    LEFT JOIN c f ON f.kind = 'figures' AND f.platform = o.platform::text AND f.level = o.level::text AND f.entity_id = o.entity_id
    WHERE o.tenant_id = p_tenant AND o.status = 'pending'
      AND EXISTS (SELECT 1 FROM c j WHERE j.kind = 'figures' AND j.platform = o.platform::text)
      AND NOT EXISTS (SELECT 1 FROM c k WHERE k.kind IN ('candidate', 'hold') AND k.platform = o.platform::text AND k.level = o.level::text
                        AND k.entity_id = o.entity_id AND (k.kind = 'hold' OR k.recommendation_type = o.recommendation_type))
    ORDER BY o.created_at, o.id
  LOOP
    PERFORM ads_engine.withdraw_recommendation(p_tenant, r.id,
      CASE WHEN r.figures IS NULL
           THEN format('No longer supported: no delivery in the 7 days to %s', p_as_of)
           ELSE format('No longer supported by the 7 days to %s (spend %s, conversions %s, CPA %s, ROAS %s)', p_as_of,
                       r.figures ->> 'spend_7d', r.figures ->> 'conversions_7d',
                       -- to the cent and two decimals, as a buyer reads them (the figures keep 4)
                       coalesce(round((r.figures ->> 'cpa_7d')::numeric, 2)::text, '-'),
                       coalesce(round((r.figures ->> 'roas_7d')::numeric, 2)::text, '-')) END,
      coalesce(r.figures, '{}'::jsonb));
  END LOOP;

  FOR r IN
    WITH
    n AS (
      SELECT x.platform, x.level, x.entity_id, x.entity_name AS name, x.campaign_id, x.recommendation_type AS type, x.description,
             x.current_value, x.recommended_value, x.evidence, x.estimated_impact AS impact, x.impact_unit AS unit,
             x.priority::ads.priority_level AS priority, x.confidence_score AS confidence,
             now() + make_interval(days => x.expires_days) AS expires_at, x.auto_apply
      FROM jsonb_to_recordset(v_all) AS x(kind text, platform text, level text, entity_id text, entity_name text, campaign_id text,
                                          recommendation_type text, description text, current_value numeric, recommended_value numeric,
                                          evidence jsonb, estimated_impact numeric, impact_unit text, priority text,
                                          confidence_score numeric, expires_days integer, auto_apply boolean)
      WHERE x.kind = 'candidate'
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
        AND o.platform = n.platform AND o.level = n.level AND o.entity_id = n.entity_id
        AND (o.current_value, o.recommended_value, o.evidence, o.estimated_impact, o.priority, o.confidence_score)
            IS DISTINCT FROM (n.current_value, n.recommended_value, n.evidence, n.impact, n.priority, n.confidence)
      RETURNING o.id, o.recommendation_type, o.platform, o.level, o.entity_id, o.current_value, o.recommended_value, false AS is_new, n.auto_apply
    ),
    ins AS (
      INSERT INTO ads.optimization_recommendations AS o (
        tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description,
        current_value, recommended_value, evidence, estimated_impact, impact_unit, priority, confidence_score, expires_at)
      SELECT p_tenant, n.platform, n.level, n.entity_id, n.name, n.campaign_id, n.type, n.description,
             n.current_value, n.recommended_value, n.evidence, n.impact, n.unit, n.priority, n.confidence, n.expires_at
      FROM n
      WHERE NOT EXISTS (
        SELECT 1 FROM ads.optimization_recommendations prev
        WHERE prev.tenant_id = p_tenant AND prev.recommendation_type = n.type AND prev.platform = n.platform
          AND prev.level = n.level AND prev.entity_id = n.entity_id
          AND (prev.status = 'pending'  -- refreshed above (same snapshot), not duplicated
            -- cooldown: nothing for 7 days after a buyer dismissed, approved or applied one
            OR (prev.status = 'dismissed' AND coalesce(prev.dismissed_at, prev.created_at) > now() - interval '7 days')
            OR (prev.status IN ('approved', 'applied') AND coalesce(prev.applied_at, prev.created_at) > now() - interval '7 days')))
      ON CONFLICT (tenant_id, recommendation_type, platform, level, entity_id) WHERE status = 'pending' DO NOTHING
      RETURNING o.id, o.recommendation_type, o.platform, o.level, o.entity_id, o.current_value, o.recommended_value, true AS is_new,
                (SELECT bool_or(n2.auto_apply) FROM n n2 WHERE n2.platform = o.platform) AS auto_apply
    )
    SELECT * FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) x
    ORDER BY x.platform, x.entity_id, x.recommendation_type
  LOOP
    IF r.is_new THEN
      v_n := v_n + 1;
    END IF;
    IF r.recommendation_type IN ('budget_increase', 'budget_decrease') AND r.level = 'campaign' THEN
      UPDATE ads.budget_allocation ba SET recommended_budget = r.recommended_value, updated_at = now()
       WHERE ba.tenant_id = p_tenant AND ba.platform = r.platform AND ba.campaign_id = r.entity_id;
      IF r.auto_apply AND ads_engine.auto_apply_allows(p_tenant, r.platform, r.recommendation_type, r.level, r.current_value, r.recommended_value) THEN
        -- decided a moment ago on the same data: no re-check
        IF ads_engine.apply_budget_recommendation(p_tenant, r.id, 'optimizer', 'recommendation.auto_apply', false) THEN
          PERFORM ads_engine.record_auto_application(p_tenant, r.id);
        END IF;
      END IF;
    ELSIF r.recommendation_type = 'pause' AND r.level = 'campaign' AND r.auto_apply
          AND ads_engine.auto_apply_allows(p_tenant, r.platform, r.recommendation_type, r.level, r.current_value, r.recommended_value) THEN
      IF ads_engine.auto_apply_pause(p_tenant, r.id) THEN
        PERFORM ads_engine.record_auto_application(p_tenant, r.id);
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
SET search_path = pg_catalog, pg_temp
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
  'Creates recommendations per campaign and ad set from the last 7 complete days (ending on the tenant''s yesterday in saas.tenants.timezone) and '
  'ads.platform_configs; returns how many are new. Each rule is a one-sided test against the line it announces, on the entity''s own data '
  '(docs/engine.md): pause when CPA is significantly above auto_pause_threshold x the limit (max_cpa, else the budget''s target_cpa, else the account''s '
  '90-day CPA; with none at all, a campaign spending 10 x min_spend over 28 days without a conversion is told to set one); after a suspected tracking '
  'loss advice waits at most 3 days, then a pause naming tracking; budget_decrease when ROAS is significantly below 0.8 x target (CPA above target / 0.8 '
  'without a ROAS target), budget_increase when above 1.2 x target with spend at the budget on 5 of 7 days; bid_adjustment when CPC is significantly above '
  '1.3 x the entity''s previous 21 days (while CPA is above its reference) or CPA is above max_cpa on each of the last 7 days; creative when CTR is '
  'below 0.75 x its previous 21 days; audience when CPM rose 1.3 x more than the rest of the platform; timing when the weekday pattern is significant '
  '(over-dispersion-corrected chi-square, 6 df) with a weekday at <= 0.6 x. Counts are negative binomial with the entity''s own dispersion; values a '
  'compound sum of order values. Benjamini-Hochberg per platform at half of ads_engine.fdr_level(anomaly_sensitivity). An ad set''s recommendation '
  'replaces its campaign''s of the same type; one budget recommendation per campaign; min_spend_for_decision in the tenant''s currency '
  '(ads_engine.currency_scale). Priority from the money per week against the tenant''s weekly spend; confidence from the BH q-value, the effect '
  'beyond the line and the type''s measured track record. Pending ones the data no longer support are withdrawn (status withdrawn, audited); a '
  'still-pending one whose numbers changed is refreshed in place and not counted as new; pending ones past expires_at are expired first. Nothing for '
  '7 days after one was dismissed, approved or applied; nothing where recommendations_enabled is off. With auto_apply_recommendations on, campaign '
  'budget changes within the step limit (by default any step it proposes) are applied to ads.budget_allocation at once, marked applied and audited '
  '(ads_engine.apply_budget_recommendation), and pauses too where ads_engine.auto_apply_policies enables them (never by default); each is recorded in '
  'ads_engine.auto_applications and can be undone for 24 hours (ads_engine.undo_auto_apply). '
  'SECURITY INVOKER; refuses a tenant_id other than saas.tenant_id, and with no tenant set (a superuser or aegis_owner member in psql) uses tenant_id '
  'for the call (the app role is refused).';

SET LOCAL aegis.media_part_090_recommendations = 'done';
