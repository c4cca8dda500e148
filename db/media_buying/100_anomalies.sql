-- Media Buying, 100_anomalies: ads.detect_anomalies.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- The model (docs/engine.md): each entity (campaign or ad set) is judged on
-- its own history. Conversions given the day's spend are negative binomial
-- around the entity's rate x its weekday profile; value given conversions is a
-- compound sum of order values; clicks given impressions (CTR) and given spend
-- (CPC) are negative binomial; spend is log-normal around its weekday-adjusted
-- median. Each test's p-value goes through Benjamini-Hochberg per tenant,
-- platform and day at half the run's level (the other half is the
-- recommendations'); a discovery also needs a change of 20 % (spend 25 %).

-- ---------------------------------------------------------------------------
-- 4. Anomalies
-- ---------------------------------------------------------------------------
-- The tenant-local day a budget change took effect: the day it was applied,
-- or, when that lies after the day being examined (a backfill or a replay of
-- past days), the day after the data it was decided on.
CREATE OR REPLACE FUNCTION ads_engine.budget_effective_day(p_timezone text, p_applied_at timestamptz, p_window_to date, p_day date)
RETURNS date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN (p_applied_at AT TIME ZONE ads_engine.valid_timezone(p_timezone))::date <= p_day
              THEN (p_applied_at AT TIME ZONE ads_engine.valid_timezone(p_timezone))::date
              ELSE coalesce(p_window_to + 1, (p_applied_at AT TIME ZONE ads_engine.valid_timezone(p_timezone))::date) END
$$;
COMMENT ON FUNCTION ads_engine.budget_effective_day(text, timestamptz, date, date) IS
  'The local day from which an applied budget change counts when judging p_day: the day applied_at falls on, or, when that is after p_day '
  '(days examined after the fact), the day after the recommendation''s window.';

-- One day of one tenant: every campaign and ad set with a row that day (and
-- every one that delivered on 5 of the 7 days before and has none while its
-- platform reports: zero delivery), on the platforms given (NULL: all).
-- Its one statement joins CTEs (which have no indexes) on entity keys; on
-- PostgreSQL 18 the planner often picks nested loops there, whose cost
-- grows with the square of the entities (6 s a day on a demo tenant of 300
-- entities, 0.3 s with hash joins). Hash and merge joins are forced for
-- the function's duration; plans do not change results. Disabled plans carry
-- a huge cost, which on a server with JIT (PostgreSQL 15 from Debian) makes
-- it compile the statement with every optimisation: 12 s of compiling for
-- 0.3 s of work. JIT is off for the function too.
CREATE OR REPLACE FUNCTION ads_engine.detect_anomalies_day(p_tenant uuid, p_day date, p_platforms text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_tz text;
  v_scale numeric;
  v_n integer;
  v_bchange boolean;
BEGIN
  PERFORM ads_engine.check_as_of(p_day);
  -- the zone checked once, not per row (valid_timezone catches an error: a subtransaction a call)
  SELECT ads_engine.valid_timezone(t.timezone), ads_engine.currency_scale(t.currency) INTO v_tz, v_scale FROM saas.tenants t WHERE t.id = p_tenant;
  -- whether bchange below has any row: without one, every history row's budget factor is 1 (no lookup per row)
  v_bchange := EXISTS (SELECT 1 FROM ads.optimization_recommendations o
                       WHERE o.tenant_id = p_tenant AND o.status = 'applied' AND o.recommendation_type IN ('budget_increase', 'budget_decrease')
                         AND o.current_value > 0 AND o.recommended_value > 0 AND o.applied_at IS NOT NULL);

  WITH
  cfg AS (
    SELECT p.platform, coalesce(c.anomaly_sensitivity, 3.5) AS sens,
           ads_engine.fdr_level(coalesce(c.anomaly_sensitivity, 3.5)) / 2 AS q,
           coalesce(c.min_spend_for_decision, 50) * v_scale AS min_spend
    FROM (SELECT DISTINCT m.platform::text AS platform FROM ads.metrics_daily m
          WHERE m.tenant_id = p_tenant AND m.day = p_day AND m.level IN ('campaign', 'adset')) p
    LEFT JOIN ads.platform_configs c ON c.tenant_id = p_tenant AND c.platform = p.platform
    WHERE coalesce(c.anomaly_detection_enabled, true) AND (p_platforms IS NULL OR p.platform = ANY (p_platforms))
  ),
  raw AS MATERIALIZED (
    SELECT m.platform::text AS platform, m.level::text AS level, m.platform_id AS entity_id, m.day,
           extract(isodow FROM m.day)::integer AS dow,
           coalesce(m.entity_name, m.campaign_name) AS name, coalesce(m.campaign_id, m.platform_id) AS campaign_id,
           m.spend AS s, m.impressions::numeric AS i, m.clicks::numeric AS c, m.conversions AS k, m.conversion_value AS v,
           (m.spend > 0 OR m.impressions > 0) AS active,
           -- the age of the figures: the local day of their latest load, minus the day
           (greatest(m.updated_at, m.first_loaded_at) AT TIME ZONE v_tz)::date - m.day AS age
    FROM ads.metrics_daily m JOIN cfg ON cfg.platform = m.platform
    WHERE m.tenant_id = p_tenant AND m.level IN ('campaign', 'adset') AND m.day BETWEEN p_day - 83 AND p_day
  ),
  -- conversion lag: the share of a day's final conversions its figures hold
  -- at their age, learnt from the platform's restatements (1 when unknown)
  lag AS MATERIALIZED (
    SELECT cc.platform, cc.age_days, cc.completeness FROM ads_engine.conversion_completeness(p_tenant, p_day) cc
  ),
  pcomp AS (
    SELECT a.platform, coalesce(min(l.completeness), 1) AS completeness
    FROM (SELECT r.platform, max(r.age) AS age FROM raw r WHERE r.day = p_day GROUP BY r.platform) a
    LEFT JOIN lag l ON l.platform = a.platform AND l.age_days = a.age
    GROUP BY a.platform
  ),
  -- budget changes the engine applied: spend before one is scaled to it
  bchange AS (
    SELECT o.platform::text AS platform, o.entity_id AS campaign_id,
           ads_engine.budget_effective_day(v_tz, o.applied_at, (o.evidence -> 'window' ->> 'to')::date, p_day) AS eff,
           ln(o.recommended_value / o.current_value) AS lr
    FROM ads.optimization_recommendations o
    WHERE o.tenant_id = p_tenant AND o.status = 'applied' AND o.recommendation_type IN ('budget_increase', 'budget_decrease')
      AND o.current_value > 0 AND o.recommended_value > 0 AND o.applied_at IS NOT NULL
  ),
  -- the judged rows: the day's, and zero rows for entities that went missing
  tgt AS (
    SELECT r.platform, r.level, r.entity_id, r.name, r.campaign_id, r.s, r.i, r.c, r.k, r.v, r.dow, false AS missing
    FROM raw r WHERE r.day = p_day
    UNION ALL
    SELECT a.platform, a.level, a.entity_id, a.name, a.campaign_id, 0, 0, 0, 0, 0, extract(isodow FROM p_day)::integer, true
    FROM (SELECT r.platform, r.level, r.entity_id, max(r.name) AS name, max(r.campaign_id) AS campaign_id
          FROM raw r WHERE r.day BETWEEN p_day - 7 AND p_day - 1 AND r.s > 0
          GROUP BY r.platform, r.level, r.entity_id
          HAVING count(*) >= 5 AND bool_or(r.day = p_day - 1)) a
    WHERE NOT EXISTS (SELECT 1 FROM raw x WHERE x.platform = a.platform AND x.level = a.level AND x.entity_id = a.entity_id AND x.day = p_day)
      AND EXISTS (SELECT 1 FROM raw x WHERE x.platform = a.platform AND x.level = a.level AND x.day = p_day)
  ),
  hist AS MATERIALIZED (
    SELECT r.*, coalesce(CASE WHEN v_bchange THEN (SELECT exp(sum(b.lr)) FROM bchange b
                          WHERE b.platform = r.platform AND b.campaign_id = r.campaign_id AND b.eff > r.day AND b.eff <= p_day) END, 1) AS bf
    FROM raw r
    WHERE r.day < p_day AND r.active
      AND EXISTS (SELECT 1 FROM tgt t WHERE t.platform = r.platform AND t.level = r.level AND t.entity_id = r.entity_id)
  ),
  -- weekday profile of conversions per spend, per entity, shrunk towards flat
  -- with 10 pseudo-conversions per weekday (a B2B weekend without conversions
  -- is learnt; a noisy Tuesday is not)
  wtot AS (
    SELECT h.platform, h.level, h.entity_id, sum(h.k) AS k, sum(h.s) AS s FROM hist h GROUP BY h.platform, h.level, h.entity_id
  ),
  wf AS (
    SELECT h.platform, h.level, h.entity_id, h.dow,
           (sum(h.k) + 10) / (sum(h.s) * wt.k / nullif(wt.s, 0) + 10) AS f
    FROM hist h JOIN wtot wt ON wt.platform = h.platform AND wt.level = h.level AND wt.entity_id = h.entity_id
    WHERE wt.s > 0
    GROUP BY h.platform, h.level, h.entity_id, h.dow, wt.k, wt.s
  ),
  -- weekday profile of spend, per entity: its own with 4 or more of that
  -- weekday in 8 weeks, else shrunk towards flat with 2 days
  sdow AS (
    SELECT h.platform, h.level, h.entity_id, h.dow, count(*) AS n, avg(h.s * h.bf) AS s
    FROM hist h WHERE h.day >= p_day - 56 GROUP BY h.platform, h.level, h.entity_id, h.dow
  ),
  sall AS (
    SELECT sd.platform, sd.level, sd.entity_id, sum(sd.s * sd.n) / sum(sd.n) AS s FROM sdow sd GROUP BY sd.platform, sd.level, sd.entity_id
  ),
  sf AS (
    SELECT sd.platform, sd.level, sd.entity_id, sd.dow,
           CASE WHEN sd.n >= 4 THEN sd.s / nullif(sa.s, 0) ELSE (sd.n * sd.s / nullif(sa.s, 0) + 2) / (sd.n + 2) END AS f
    FROM sdow sd JOIN sall sa ON sa.platform = sd.platform AND sa.level = sd.level AND sa.entity_id = sd.entity_id
  ),
  -- the 28 days before the judged day, weekday-adjusted
  h28 AS MATERIALIZED (
    SELECT h.platform, h.level, h.entity_id, h.day, h.dow, h.s, h.i, h.c, h.k, h.v,
           h.s * coalesce(w.f, 1) AS a,
           h.s * h.bf / coalesce(nullif(f2.f, 0), 1) AS s_adj
    FROM hist h
    LEFT JOIN wf w ON w.platform = h.platform AND w.level = h.level AND w.entity_id = h.entity_id AND w.dow = h.dow
    LEFT JOIN sf f2 ON f2.platform = h.platform AND f2.level = h.level AND f2.entity_id = h.entity_id AND f2.dow = h.dow
    WHERE h.day >= p_day - 28
  ),
  e28 AS (
    SELECT h.platform, h.level, h.entity_id, count(*) AS n,
           sum(h.s) AS s, sum(h.i) AS i, sum(h.c) AS c, sum(h.k) AS k, sum(h.v) AS v, sum(h.a) AS a,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY h.s_adj))::numeric AS s_med
    FROM h28 h GROUP BY h.platform, h.level, h.entity_id
  ),
  -- the platform's rates (same level): the prior of entities with little history
  plat AS (
    SELECT e.platform, e.level, sum(e.k) / nullif(sum(e.a), 0) AS r, sum(e.c) / nullif(sum(e.i), 0) AS ctr,
           sum(e.c) / nullif(sum(e.s), 0) AS cps, sum(e.v) / nullif(sum(e.k), 0) AS aov
    FROM e28 e GROUP BY e.platform, e.level
  ),
  -- each entity's rates: its own 28 days plus 3 days' worth at the platform's
  rates AS (
    SELECT e.*, p.r AS pr,
           (e.k + 3 * coalesce(p.r, 0) * e.a / e.n) / nullif(e.a + 3 * e.a / e.n, 0) AS r,
           (e.c + 3 * coalesce(p.ctr, 0) * e.i / e.n) / nullif(e.i + 3 * e.i / e.n, 0) AS ctr,
           (e.c + 3 * coalesce(p.cps, 0) * e.s / e.n) / nullif(e.s + 3 * e.s / e.n, 0) AS cps,
           coalesce(e.v / nullif(e.k, 0), p.aov) AS aov
    FROM e28 e JOIN plat p ON p.platform = e.platform AND p.level = e.level
  ),
  -- the dispersion of conversions from all 12 weeks of history (28 days
  -- cannot tell a phi of 0.01 from 0.03; a drift of the rate over the weeks
  -- can only inflate it, which errs on the quiet side)
  kres84 AS (
    SELECT x.platform, x.level, x.entity_id, count(*) AS n,
           sum((x.k - x.a * x.r) ^ 2 - x.a * x.r) AS kn, sum((x.a * x.r) ^ 2) AS kd
    FROM (SELECT h.platform, h.level, h.entity_id, h.k, h.s * coalesce(w.f, 1) AS a,
                 sum(h.k) OVER e / nullif(sum(h.s * coalesce(w.f, 1)) OVER e, 0) AS r
          FROM hist h
          LEFT JOIN wf w ON w.platform = h.platform AND w.level = h.level AND w.entity_id = h.entity_id AND w.dow = h.dow
          WINDOW e AS (PARTITION BY h.platform, h.level, h.entity_id)) x
    GROUP BY x.platform, x.level, x.entity_id
  ),
  -- over-dispersion by moments from the entity's own residuals: conversions
  -- given weekday-adjusted spend (12 weeks), clicks given impressions and
  -- given spend (28 days); basket spread kappa^2 from value given conversions
  resid AS (
    SELECT h.platform, h.level, h.entity_id, min(k8.n) AS n84,
           min(k8.kn) AS kn, min(k8.kd) AS kd,
           sum((h.c - h.i * ra.ctr) ^ 2 - h.i * ra.ctr) AS tn, sum((h.i * ra.ctr) ^ 2) AS td,
           sum((h.c - h.s * ra.cps) ^ 2 - h.s * ra.cps) AS cn, sum((h.s * ra.cps) ^ 2) AS cd,
           sum((h.v - h.k * ra.aov) ^ 2) FILTER (WHERE h.k > 0) AS vn, sum(h.k * ra.aov ^ 2) FILTER (WHERE h.k > 0) AS vd,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(ln(greatest(h.s_adj, 0.01) / greatest(ra.s_med, 0.01)))))::numeric AS s_mad
    FROM h28 h JOIN rates ra ON ra.platform = h.platform AND ra.level = h.level AND ra.entity_id = h.entity_id
    JOIN kres84 k8 ON k8.platform = h.platform AND k8.level = h.level AND k8.entity_id = h.entity_id
    GROUP BY h.platform, h.level, h.entity_id
  ),
  pdisp AS (
    SELECT ra.platform, ra.level,
           greatest(0.02, sum(rs.kn) / nullif(sum(rs.kd), 0)) AS phi_k,
           greatest(0.01, sum(rs.tn) / nullif(sum(rs.td), 0)) AS phi_t,
           greatest(0.01, sum(rs.cn) / nullif(sum(rs.cd), 0)) AS phi_c,
           greatest(0.05, sum(rs.vn) / nullif(sum(rs.vd), 0)) AS kappa2
    FROM resid rs JOIN rates ra ON ra.platform = rs.platform AND ra.level = rs.level AND ra.entity_id = rs.entity_id
    GROUP BY ra.platform, ra.level
  ),
  model AS (
    SELECT ra.*, rs.s_mad,
           least(3, greatest(0.02, (rs.n84 * coalesce(rs.kn / nullif(rs.kd, 0), pd.phi_k) + 14 * coalesce(pd.phi_k, 0.03)) / (rs.n84 + 14))) AS phi_k,
           least(3, greatest(0.01, (ra.n * coalesce(rs.tn / nullif(rs.td, 0), pd.phi_t) + 14 * coalesce(pd.phi_t, 0.03)) / (ra.n + 14))) AS phi_t,
           least(3, greatest(0.01, (ra.n * coalesce(rs.cn / nullif(rs.cd, 0), pd.phi_c) + 14 * coalesce(pd.phi_c, 0.03)) / (ra.n + 14))) AS phi_c,
           least(9, greatest(0.05, (ra.n * coalesce(rs.vn / nullif(rs.vd, 0), pd.kappa2) + 14 * coalesce(pd.kappa2, 0.64)) / (ra.n + 14))) AS kappa2
    FROM rates ra
    JOIN resid rs ON rs.platform = ra.platform AND rs.level = ra.level AND rs.entity_id = ra.entity_id
    LEFT JOIN pdisp pd ON pd.platform = ra.platform AND pd.level = ra.level
    WHERE ra.n >= 7
  ),
  -- sustained shifts: conversions given spend over the last 7, 14 and 21
  -- days against the 28 days before each window
  -- the active rows of the shift scan with their weekday-adjusted spend,
  -- joined and multiplied once for the three windows and their pre-periods
  ha AS MATERIALIZED (
    SELECT h.platform, h.level, h.entity_id, h.day, h.k, h.s, h.s * coalesce(f.f, 1) AS a
    FROM raw h
    JOIN model mo ON mo.platform = h.platform AND mo.level = h.level AND mo.entity_id = h.entity_id
    LEFT JOIN wf f ON f.platform = h.platform AND f.level = h.level AND f.entity_id = h.entity_id AND f.dow = h.dow
    WHERE h.active AND h.day >= p_day - 48
  ),
  win AS (
    SELECT w.w, h.platform, h.level, h.entity_id,
           sum(h.k) FILTER (WHERE h.day > p_day - w.w) AS k_w,
           sum(h.a) FILTER (WHERE h.day > p_day - w.w) AS a_w,
           sum(h.a ^ 2) FILTER (WHERE h.day > p_day - w.w) AS a2_w,
           sum(h.s) FILTER (WHERE h.day > p_day - w.w) AS s_w,
           -- the window without its last day: a shift is sustained, not one day's
           sum(h.k) FILTER (WHERE h.day > p_day - w.w AND h.day < p_day) AS k_w1,
           sum(h.a) FILTER (WHERE h.day > p_day - w.w AND h.day < p_day) AS a_w1,
           count(*) FILTER (WHERE h.day > p_day - w.w) AS n_w,
           sum(h.k) FILTER (WHERE h.day <= p_day - w.w) AS k_p,
           sum(h.a) FILTER (WHERE h.day <= p_day - w.w) AS a_p,
           count(*) FILTER (WHERE h.day <= p_day - w.w) AS n_p
    FROM (VALUES (7), (14), (21)) AS w(w)
    JOIN ha h ON h.day BETWEEN p_day - w.w - 27 AND p_day
    GROUP BY w.w, h.platform, h.level, h.entity_id
  ),
  -- the over-dispersion of each window's own pre-period (the 28 days before
  -- it, which the shift has not touched), shrunk towards the platform's
  winr AS (
    SELECT wn.w, wn.platform, wn.level, wn.entity_id,
           sum((h.k - h.a * wn.k_p / nullif(wn.a_p, 0)) ^ 2 - h.a * wn.k_p / nullif(wn.a_p, 0)) AS rn,
           sum((h.a * wn.k_p / nullif(wn.a_p, 0)) ^ 2) AS rd
    FROM win wn
    JOIN ha h ON h.platform = wn.platform AND h.level = wn.level AND h.entity_id = wn.entity_id
             AND h.day BETWEEN p_day - wn.w - 27 AND p_day - wn.w
    WHERE wn.n_p >= 14 AND wn.k_p >= 20
    GROUP BY wn.w, wn.platform, wn.level, wn.entity_id
  ),
  trend AS (
    SELECT DISTINCT ON (x.platform, x.level, x.entity_id) x.*
    FROM (
      SELECT wn.*, ph.phi, mo.pr,
             wn.k_p / nullif(wn.a_p, 0) AS r_p,
             wn.a_w * wn.k_p / nullif(wn.a_p, 0) AS mu,
             -- variance of the window's sum: daily NB terms plus the pre-period rate's own uncertainty
             ((ph.phi * wn.a2_w * (wn.k_p / nullif(wn.a_p, 0)) ^ 2)
               + (wn.a_w * wn.k_p / nullif(wn.a_p, 0)) ^ 2 * (1 / (wn.k_p + 1) + ph.phi / wn.n_p))
               / nullif((wn.a_w * wn.k_p / nullif(wn.a_p, 0)) ^ 2, 0) AS phi_eff
      FROM win wn
      JOIN model mo ON mo.platform = wn.platform AND mo.level = wn.level AND mo.entity_id = wn.entity_id
      JOIN winr wr ON wr.w = wn.w AND wr.platform = wn.platform AND wr.level = wn.level AND wr.entity_id = wn.entity_id
      LEFT JOIN pdisp pd ON pd.platform = wn.platform AND pd.level = wn.level
      CROSS JOIN LATERAL (SELECT least(3, greatest(0.02, (wn.n_p * coalesce(wr.rn / nullif(wr.rd, 0), pd.phi_k, 0.03)
                                                          + 14 * coalesce(pd.phi_k, 0.03)) / (wn.n_p + 14))) AS phi) ph
      WHERE wn.n_p >= 14 AND wn.n_w >= greatest(2, wn.w - 1) AND wn.k_p >= 20
    ) x
    CROSS JOIN LATERAL (SELECT least(ads_engine.count_p_value(x.k_w, x.mu, x.phi_eff, 'lower'),
                                     ads_engine.count_p_value(x.k_w, x.mu, x.phi_eff, 'upper')) AS p1) pv
    WHERE x.mu >= 5 AND abs(x.k_w / nullif(x.mu, 0) - 1) >= 0.2
      AND abs(x.k_w1 / nullif(x.a_w1 * x.r_p, 0) - 1) >= 0.2
      AND sign(x.k_w1 - x.a_w1 * x.r_p) = sign(x.k_w - x.mu)
    ORDER BY x.platform, x.level, x.entity_id, pv.p1
  ),
  -- every test of the day: one row per entity and metric
  tests AS (
    -- conversions given spend (CPA)
    SELECT t.platform, t.level, t.entity_id, t.name, t.campaign_id, t.s, t.i, t.c, t.k, t.v, t.missing,
           'cpa'::text AS metric, 'nb'::text AS test, 'conversions'::text AS observed_metric, 'spend'::text AS exposure_metric,
           mo.r * coalesce(w.f, 1) AS rate, t.s * mo.r * coalesce(w.f, 1) * pc.completeness AS expected, t.k AS observed,
           mo.phi_k * (1 + 1.0 / mo.n) + 1 / (mo.k + 1) AS phi, NULL::numeric AS variance,
           t.s / nullif(t.k, 0) AS actual, 1 / nullif(mo.r * coalesce(w.f, 1) * pc.completeness, 0) AS baseline,
           NULL::integer AS window_days, mo.n AS history_days, pc.completeness
    FROM tgt t JOIN model mo ON mo.platform = t.platform AND mo.level = t.level AND mo.entity_id = t.entity_id
    JOIN pcomp pc ON pc.platform = t.platform
    LEFT JOIN wf w ON w.platform = t.platform AND w.level = t.level AND w.entity_id = t.entity_id AND w.dow = t.dow
    WHERE NOT t.missing AND t.s > 0 AND mo.k >= 10
    UNION ALL
    -- value given conversions (ROAS at the day's conversions: the basket)
    SELECT t.platform, t.level, t.entity_id, t.name, t.campaign_id, t.s, t.i, t.c, t.k, t.v, t.missing,
           'roas', 'value', 'conversion_value', 'conversions', mo.aov, t.k * mo.aov, t.v,
           NULL, t.k * mo.aov ^ 2 * mo.kappa2 * (1 + t.k / nullif(mo.k, 0)),
           t.v / nullif(t.s, 0), t.k * mo.aov / nullif(t.s, 0), NULL, mo.n, NULL
    FROM tgt t JOIN model mo ON mo.platform = t.platform AND mo.level = t.level AND mo.entity_id = t.entity_id
    WHERE NOT t.missing AND t.k >= 3 AND t.s > 0 AND mo.k >= 20 AND mo.v > 0
    UNION ALL
    -- clicks given impressions (CTR)
    SELECT t.platform, t.level, t.entity_id, t.name, t.campaign_id, t.s, t.i, t.c, t.k, t.v, t.missing,
           'ctr', 'nb', 'clicks', 'impressions', mo.ctr, t.i * mo.ctr, t.c,
           mo.phi_t * (1 + 1.0 / mo.n) + 1 / (mo.c + 1), NULL,
           t.c / nullif(t.i, 0), mo.ctr, NULL, mo.n, NULL
    FROM tgt t JOIN model mo ON mo.platform = t.platform AND mo.level = t.level AND mo.entity_id = t.entity_id
    WHERE NOT t.missing AND t.i >= 1000 AND mo.c >= 50
    UNION ALL
    -- clicks given spend (CPC)
    SELECT t.platform, t.level, t.entity_id, t.name, t.campaign_id, t.s, t.i, t.c, t.k, t.v, t.missing,
           'cpc', 'nb', 'clicks', 'spend', mo.cps, t.s * mo.cps, t.c,
           mo.phi_c * (1 + 1.0 / mo.n) + 1 / (mo.c + 1), NULL,
           t.s / nullif(t.c, 0), 1 / nullif(mo.cps, 0), NULL, mo.n, NULL
    FROM tgt t JOIN model mo ON mo.platform = t.platform AND mo.level = t.level AND mo.entity_id = t.entity_id
    WHERE NOT t.missing AND t.s > 0 AND mo.c >= 50
    UNION ALL
    -- spend against its weekday-adjusted median (log scale; zero for a missing row)
    SELECT t.platform, t.level, t.entity_id, t.name, t.campaign_id, t.s, t.i, t.c, t.k, t.v, t.missing,
           'spend', 'spend', 'spend', NULL, NULL, mo.s_med * coalesce(f2.f, 1), t.s,
           -- the spread of a day around the median (MAD, at least 8 %: delivery is never steadier), inflated by the
           -- uncertainty of the median (1.57 / n) and of the weekday factor (1 / its days)
           NULL, greatest(1.4826 * mo.s_mad, 0.08) * sqrt(1 + 1.57 / mo.n + 1.0 / greatest(coalesce(sd2.n, 1), 1)),
           t.s, mo.s_med * coalesce(f2.f, 1), NULL, mo.n, NULL
    FROM tgt t JOIN model mo ON mo.platform = t.platform AND mo.level = t.level AND mo.entity_id = t.entity_id
    LEFT JOIN sf f2 ON f2.platform = t.platform AND f2.level = t.level AND f2.entity_id = t.entity_id AND f2.dow = t.dow
    LEFT JOIN sdow sd2 ON sd2.platform = t.platform AND sd2.level = t.level AND sd2.entity_id = t.entity_id AND sd2.dow = t.dow
    UNION ALL
    -- sustained shift of conversions given spend
    SELECT tr.platform, tr.level, tr.entity_id, t.name, t.campaign_id, tr.s_w, NULL, NULL, tr.k_w, NULL, false,
           'cpa', 'nb_window', 'conversions', 'spend', tr.r_p, tr.mu, tr.k_w,
           tr.phi_eff, NULL, tr.s_w / nullif(tr.k_w, 0), 1 / nullif(tr.r_p, 0), tr.w, tr.n_p, NULL
    FROM trend tr JOIN tgt t ON t.platform = tr.platform AND t.level = tr.level AND t.entity_id = tr.entity_id
  ),
  -- Each test is two one-sided tests sharing its level: 0.8 of it for the
  -- side that is bad news (fewer conversions, clicks or value), 0.2 for good
  -- news (spend, neither, 0.5 each). The split is fixed before the data, so
  -- the run keeps its false-discovery rate; bad news is found 2.5 times
  -- sooner than with an even split, and good news raises fewer alarms.
  sided AS (
    SELECT x.*, CASE WHEN x.observed < x.expected THEN 'lower' ELSE 'upper' END AS direction,
           CASE WHEN x.test = 'spend' THEN 0.5
                WHEN x.observed < x.expected THEN 0.8 ELSE 0.2 END AS side_share
    FROM tests x
  ),
  scored AS (
    SELECT x.*, cfg.q, cfg.sens, cfg.min_spend,
           CASE
             -- below the effect floor a test cannot be a discovery: it counts in m with p = 1
             WHEN (x.test = 'spend' AND abs(ln(greatest(x.observed, 0.01) / x.expected)) < ln(1.25))
               OR (x.test <> 'spend' AND abs(x.observed / x.expected - 1) < 0.2) THEN 1
             WHEN x.test = 'spend' THEN
               CASE WHEN x.observed <= 0 THEN 0
                    ELSE (1 - ads_engine.normal_cdf(abs(ln(x.observed / nullif(x.expected, 0))) / x.variance)) / x.side_share END
             WHEN x.test = 'value' THEN
               ads_engine.value_p_value(x.observed, x.expected, x.variance, 0, x.direction) / x.side_share
             ELSE ads_engine.count_p_value(x.observed, x.expected, x.phi, x.direction) / x.side_share
               -- the three windows of the shift scan are one test (Bonferroni)
               * CASE WHEN x.test = 'nb_window' THEN 3 ELSE 1 END
           END AS p,
           ads_engine.test_weight(x.level, CASE WHEN x.test = 'nb_window' THEN 'trend' ELSE x.metric END) AS w_raw
    FROM sided x JOIN cfg ON cfg.platform = x.platform
    WHERE x.expected > 0
      -- tests that can say something: enough expected events, spend above the floor
      AND CASE x.test
            WHEN 'spend' THEN greatest(x.expected, x.observed) >= cfg.min_spend / 7
            WHEN 'value' THEN true
            ELSE x.expected >= 3 OR x.observed >= 6 END
  ),
  -- weighted Benjamini-Hochberg (ads_engine.test_weight), per platform
  norm AS (
    SELECT sc.platform, count(*) AS m, sum(sc.w_raw) AS sw FROM scored sc GROUP BY sc.platform
  ),
  cut AS (
    SELECT sc.platform, ads_engine.bh_cut(array_agg(least(sc.p, 1)::float8 / (sc.w_raw * n.m / n.sw)), min(sc.q)) AS wcut, min(n.m) AS m,
           min(n.sw) AS sw
    FROM scored sc JOIN norm n ON n.platform = sc.platform GROUP BY sc.platform
  ),
  disc AS (
    SELECT sc.*, cu.wcut * sc.w_raw * cu.m / cu.sw AS cut, cu.m,
           CASE WHEN sc.test = 'nb_window' THEN 'trend_change'
                WHEN sc.metric = 'cpa' AND sc.observed = 0 AND sc.direction = 'lower' THEN 'tracking_loss'
                WHEN sc.metric = 'roas' AND sc.observed = 0 THEN 'tracking_loss'
                WHEN sc.metric = 'cpa' THEN CASE WHEN sc.direction = 'lower' THEN 'spike' ELSE 'drop' END
                WHEN sc.metric = 'cpc' THEN CASE WHEN sc.direction = 'lower' THEN 'spike' ELSE 'drop' END
                ELSE CASE WHEN sc.direction = 'upper' THEN 'spike' ELSE 'drop' END END AS type,
           (sc.metric IN ('cpa', 'cpc') AND sc.direction = 'upper') OR (sc.metric IN ('roas', 'ctr') AND sc.direction = 'upper') AS favourable
    FROM scored sc JOIN cut cu ON cu.platform = sc.platform
    WHERE least(sc.p, 1) / (sc.w_raw * cu.m / cu.sw) <= cu.wcut
      AND CASE WHEN sc.test = 'spend' THEN abs(ln(greatest(sc.observed, 0.01) / sc.expected)) >= ln(1.25)
               ELSE abs(sc.observed / sc.expected - 1) >= 0.2 END
  ),
  named AS (
    SELECT d.*,
           CASE WHEN d.type = 'tracking_loss' AND d.metric = 'cpa' THEN 'conversions' ELSE d.metric END AS metric_name
    FROM disc d
  ),
  -- a platform whose campaigns all stop converting together: one incident.
  -- The platform's own test: its conversions of the day (campaign rows)
  -- against the sum of its campaigns' expectations, when at least 3
  -- campaigns were due one or more and 80 % of them got none.
  incident AS (
    SELECT x.platform, array_agg(x.entity_id ORDER BY x.entity_id) FILTER (WHERE x.observed = 0 AND x.expected >= 1) AS members,
           sum(x.s) AS s, sum(x.expected) AS expected, sum(x.observed) AS observed, min(cu.wcut) AS cut,
           ads_engine.count_p_value(sum(x.observed), sum(x.expected), 0.01, 'lower') AS p
    FROM scored x JOIN cut cu ON cu.platform = x.platform
    WHERE x.level = 'campaign' AND x.metric = 'cpa' AND x.test = 'nb'
    GROUP BY x.platform
    HAVING count(*) FILTER (WHERE x.expected >= 1) >= 3
       AND count(*) FILTER (WHERE x.expected >= 1 AND x.observed = 0) >= 0.8 * count(*) FILTER (WHERE x.expected >= 1)
       AND sum(x.expected) >= 10 AND sum(x.observed) <= 0.1 * sum(x.expected)
       AND ads_engine.count_p_value(sum(x.observed), sum(x.expected), 0.01, 'lower') <= greatest(min(cu.wcut), min(x.q) / count(*))
  ),
  -- one ad set that explains its campaign's alarm is raised instead of it;
  -- several explain it: the campaign is raised
  adsets_of AS (
    SELECT c.platform, c.entity_id, c.metric_name, c.type, count(a.entity_id) AS n_adsets, min(a.entity_id) AS the_adset
    FROM named c JOIN named a ON a.platform = c.platform AND a.level = 'adset' AND a.campaign_id = c.entity_id
                             AND a.metric_name = c.metric_name AND a.type = c.type
    WHERE c.level = 'campaign'
    GROUP BY c.platform, c.entity_id, c.metric_name, c.type
  ),
  kept AS (
    SELECT n.*, (ao2.n_adsets = 1) AS explains_campaign, ao.n_adsets
    FROM named n
    LEFT JOIN adsets_of ao ON n.level = 'campaign' AND ao.platform = n.platform AND ao.entity_id = n.entity_id
                          AND ao.metric_name = n.metric_name AND ao.type = n.type
    LEFT JOIN adsets_of ao2 ON n.level = 'adset' AND ao2.platform = n.platform AND ao2.entity_id = n.campaign_id
                           AND ao2.metric_name = n.metric_name AND ao2.type = n.type
    WHERE NOT (n.level = 'campaign' AND coalesce(ao.n_adsets, 0) = 1)
      AND NOT (n.level = 'adset' AND coalesce(ao2.n_adsets, 0) >= 2)
      -- the incident explains its platform's conversion alarms of the day, at both levels
      AND NOT (n.metric_name IN ('conversions', 'cpa', 'roas') AND n.test <> 'nb_window'
               AND EXISTS (SELECT 1 FROM incident i WHERE i.platform = n.platform))
      -- a shift whose window holds a tracking loss of the entity is that loss, not a trend
      AND NOT (n.type = 'trend_change' AND (
            EXISTS (SELECT 1 FROM named t2 WHERE t2.platform = n.platform AND t2.level = n.level AND t2.entity_id = n.entity_id
                      AND t2.type = 'tracking_loss')
         OR EXISTS (SELECT 1 FROM ads.anomalies an
                    WHERE an.tenant_id = p_tenant AND an.platform = n.platform AND an.level = n.level AND an.entity_id = n.entity_id
                      AND an.anomaly_type = 'tracking_loss' AND an.day > p_day - n.window_days AND an.day < p_day)))
      -- an episode already open (same entity, metric and type, active, within the last 3 days; 28 for a trend or a tracking loss)
      AND NOT EXISTS (
        SELECT 1 FROM ads.anomalies an
        WHERE an.tenant_id = p_tenant AND an.platform = n.platform AND an.level = n.level AND an.entity_id = n.entity_id
          AND an.metric_name = n.metric_name AND an.anomaly_type = n.type AND an.status IN ('active', 'investigating')
          AND an.day < p_day AND an.day >= p_day - CASE WHEN n.type IN ('trend_change', 'tracking_loss') THEN 28 ELSE 3 END)
  ),
  spend_ref AS (  -- the tenant's daily spend (campaign level, last 28 days): the scale of money at stake
    SELECT greatest(coalesce(sum(r.s) / nullif(count(DISTINCT r.day), 0), 0), 0.01) AS daily
    FROM raw r WHERE r.level = 'campaign' AND r.day BETWEEN p_day - 28 AND p_day - 1
  ),
  found AS (
    SELECT k.platform, k.level, k.entity_id, k.name, k.campaign_id, k.metric_name, k.type, k.baseline, k.actual,
           k.p, k.cut, k.favourable,
           CASE k.metric
             WHEN 'spend' THEN abs(k.observed - k.expected)
             WHEN 'cpa' THEN k.s * abs(1 - k.observed / nullif(k.expected, 0))
             WHEN 'roas' THEN abs(k.observed - k.expected)
             WHEN 'ctr' THEN abs(k.observed - k.expected) * k.s / nullif(k.c, 0)
             WHEN 'cpc' THEN k.s * abs(1 - k.observed / nullif(k.expected, 0))
           END AS money,
           jsonb_build_object('test', k.test, 'p_value', round(k.p::numeric, 10), 'p_threshold', round(k.cut::numeric, 10),
                              'tests_in_run', k.m, 'fdr_level', round(k.q::numeric, 5),
                              'expected', round(k.expected, 4), 'observed', k.observed, 'direction', k.direction,
                              'side_share', k.side_share,
                              'phi', round(k.phi, 5), 'rate', round(k.rate, 8), 'exposure_metric', k.exposure_metric,
                              'observed_metric', k.observed_metric, 'log_sd', CASE WHEN k.test = 'spend' THEN round(k.variance, 5) END,
                              'variance', CASE WHEN k.test = 'value' THEN round(k.variance, 4) END,
                              'aov', CASE WHEN k.test = 'value' THEN round(k.rate, 4) END,
                              -- the basket spread as the variance implies it (rate uncertainty included: re-scoring errs wide)
                              'kappa', CASE WHEN k.test = 'value' THEN round(sqrt(k.variance / nullif(k.k * k.rate ^ 2, 0)), 4) END,
                              'history_days', k.history_days, 'missing_row', k.missing,
                              'completeness', CASE WHEN k.completeness < 1 THEN round(k.completeness, 4) END,
                              'day', jsonb_build_object('spend', k.s, 'impressions', k.i, 'clicks', k.c, 'conversions', k.k, 'conversion_value', k.v))
           || CASE WHEN k.test = 'nb_window'
                   THEN jsonb_build_object('window_days', k.window_days, 'start_day', p_day - k.window_days + 1) ELSE '{}'::jsonb END
           || CASE WHEN k.explains_campaign THEN jsonb_build_object('explains_campaign', true) ELSE '{}'::jsonb END
           || CASE WHEN k.n_adsets >= 2 THEN jsonb_build_object('adsets_flagged', k.n_adsets) ELSE '{}'::jsonb END AS details
    FROM kept k
    UNION ALL
    SELECT i.platform, 'campaign', 'platform:' || i.platform, format('All %s campaigns', i.platform), NULL, 'conversions', 'tracking_loss',
           i.expected, 0, i.p, i.cut, false, i.s,
           jsonb_build_object('scope', 'platform', 'members', to_jsonb(i.members), 'test', 'nb', 'p_value', round(i.p::numeric, 10),
                              'p_threshold', round(i.cut::numeric, 10), 'expected', round(i.expected, 2), 'observed', 0,
                              'rate', round(i.expected / nullif(i.s, 0), 8), 'phi', 0.01,
                              'direction', 'lower', 'observed_metric', 'conversions', 'exposure_metric', 'spend',
                              'day', jsonb_build_object('spend', i.s, 'conversions', 0))
    FROM incident i
    WHERE NOT EXISTS (
      SELECT 1 FROM ads.anomalies an
      WHERE an.tenant_id = p_tenant AND an.platform = i.platform AND an.entity_id = 'platform:' || i.platform
        AND an.anomaly_type = 'tracking_loss' AND an.status IN ('active', 'investigating') AND an.day < p_day AND an.day >= p_day - 28)
  ),
  graded AS (
    SELECT f.*,
           CASE WHEN f.type = 'tracking_loss' THEN 3
                WHEN f.p <= f.cut / 100 THEN 3
                WHEN f.p <= f.cut / 10 THEN 2
                ELSE 1 END
           + CASE WHEN f.money >= 0.20 * sr.daily THEN 3
                  WHEN f.money >= 0.05 * sr.daily THEN 2
                  WHEN f.money >= 0.01 * sr.daily THEN 1
                  ELSE 0 END
           - CASE WHEN f.favourable THEN 2 ELSE 0 END AS points,
           sr.daily
    FROM found f CROSS JOIN spend_ref sr
  )
  INSERT INTO ads.anomalies AS an (
    tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
    baseline_value, actual_value, deviation_percent, anomaly_score, money_at_stake, severity, details)
  SELECT p_tenant, g.platform, g.level::ads.entity_level, g.entity_id, g.name, coalesce(g.campaign_id, g.entity_id), p_day, g.metric_name, g.type,
         round(g.baseline, 6), round(g.actual, 6),
         round((g.actual - g.baseline) / nullif(abs(g.baseline), 0) * 100, 2),
         -- the score: the p-value as a signed normal score (negative when the metric fell: fewer conversions
         -- is a CPA that rose)
         round((CASE WHEN (g.details ->> 'direction' = 'lower') <> (g.metric_name IN ('cpa', 'cpc')) THEN -1 ELSE 1 END
                * (CASE WHEN g.p <= 0 THEN 40 ELSE sqrt(-2 * ln(least(g.p, 1) / 2 + 1e-300)) END))::numeric, 4),
         round(g.money, 2),
         (CASE WHEN g.points >= 5 THEN 'critical' WHEN g.points = 4 THEN 'high'
               WHEN g.points >= 2 THEN 'medium' ELSE 'low' END)::ads.severity_level,
         g.details || jsonb_build_object('favourable', g.favourable, 'severity_points', g.points,
                                         'tenant_daily_spend', round(g.daily, 2))
  FROM graded g
  ON CONFLICT ON CONSTRAINT anomalies_unique_observation DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;

  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.detect_anomalies_day(uuid, date, text[]) IS
  'Anomalies of one day (p_day) of the tenant''s campaigns and ad sets on the given platforms (NULL: all), each against its own history (docs/engine.md). '
  'Returns how many rows are new.';

-- The day p_as_of and every day of the week before it that the ledger says
-- is not examined yet (a late platform, missed runs, a restated day).
CREATE OR REPLACE FUNCTION ads_engine.detect_anomalies(p_tenant uuid, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_n integer := 0;
  v_found integer;
  d record;
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);
  -- data later restated: re-scored, closed when they no longer hold
  PERFORM ads_engine.rescore_restated(p_tenant);
  -- the ledger is read once: each day's (platform, level) entries are marked
  -- with the load they were examined at
  FOR d IN
    SELECT x.day, array_agg(DISTINCT x.platform) AS platforms,
           jsonb_agg(jsonb_build_object('platform', x.platform, 'level', x.level, 'loaded_at', x.data_loaded_at, 'rows', x.rows_present)) AS entries
    FROM ads_engine.days_to_examine(p_tenant, p_as_of, 7) x
    GROUP BY x.day ORDER BY x.day
  LOOP
    v_found := ads_engine.detect_anomalies_day(p_tenant, d.day, d.platforms);
    v_n := v_n + v_found;
    PERFORM ads_engine.mark_examined(p_tenant, e.platform, e.level, d.day, e.loaded_at, e.rows, v_found)
    FROM jsonb_to_recordset(d.entries) AS e(platform text, level text, loaded_at timestamptz, rows integer);
  END LOOP;
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.detect_anomalies(uuid, date) IS
  'ads.detect_anomalies for the last complete day p_as_of: re-scores anomalies whose day was restated, then examines every (platform, day) of the '
  'week ending p_as_of that the ledger (ads_engine.examined_days) has not seen with its current data: p_as_of itself, a platform whose day came late, '
  'days missed by earlier runs. Returns how many anomalies are new.';

CREATE OR REPLACE FUNCTION ads.detect_anomalies(tenant_id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(detect_anomalies.tenant_id);
  v_n integer;
BEGIN
  v_n := ads_engine.detect_anomalies(detect_anomalies.tenant_id, ads_engine.tenant_yesterday(detect_anomalies.tenant_id));
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads.detect_anomalies(uuid) IS
  'Checks the tenant''s yesterday (in saas.tenants.timezone: ads_engine.tenant_yesterday), and any day of the week before not yet examined with its '
  'current data, for every campaign and ad set against its own history; returns how many anomalies are new. '
  'Tests (docs/engine.md): conversions given spend (negative binomial with the entity''s weekday profile and over-dispersion: metric cpa, or a '
  'tracking_loss on conversions when none came where enough were due), value given conversions (compound order values: metric roas; tracking_loss '
  'when conversions came without value), clicks given impressions (ctr) and given spend (cpc), spend against its weekday-adjusted median, and '
  'sustained shifts of conversions over 7, 14 or 21 days (trend_change, details.start_day). Benjamini-Hochberg per platform and day at half the '
  'false-discovery level of anomaly_sensitivity (ads_engine.fdr_level), a change of at least 20 % (spend 25 %). An entity that delivered on 5 of '
  'the 7 days before and has no row while its platform reports is judged as zero delivery. One ad set explaining its campaign''s alarm is raised '
  'instead of it; all campaigns of a platform stopping together is one platform row (entity_id platform:<name>). An open episode (same entity, '
  'metric and type within 3 days, 28 for a trend or a tracking loss) is not raised again. Severity from the p-value and the money at stake against the tenant''s '
  'daily spend (favourable moves rank lower). Nothing where anomaly_detection_enabled is off. SECURITY INVOKER; refuses a tenant_id other than '
  'saas.tenant_id, and with no tenant set (a superuser or aegis_owner member in psql) uses tenant_id for the call (the app role is refused).';

SET LOCAL aegis.media_part_100_anomalies = 'done';
