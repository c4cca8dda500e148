-- Media Buying, 100_anomalies: ads.detect_anomalies.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- 4. Anomalies
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.detect_anomalies(p_tenant uuid, p_as_of date)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_n integer;
BEGIN
  PERFORM ads_engine.check_as_of(p_as_of);

  WITH
  cfg AS (
    SELECT p.platform, coalesce(c.anomaly_sensitivity, 3.5) AS thr, coalesce(c.min_spend_for_decision, 50) AS min_spend
    FROM (SELECT DISTINCT m.platform::text AS platform FROM ads.metrics_daily m
          WHERE m.tenant_id = p_tenant AND m.level = 'campaign' AND m.day = p_as_of) p
    LEFT JOIN ads.platform_configs c ON c.tenant_id = p_tenant AND c.platform = p.platform
    WHERE coalesce(c.anomaly_detection_enabled, true)
  ),
  r AS (
    SELECT m.platform::text AS platform, m.platform_id AS entity_id, m.day, extract(isodow FROM m.day)::integer AS dow,
           coalesce(m.campaign_name, m.entity_name) AS name, m.campaign_id,
           m.spend AS s, m.impressions::numeric AS i, m.clicks::numeric AS c, m.conversions AS k, m.conversion_value AS v
    FROM ads.metrics_daily m
    JOIN cfg ON cfg.platform = m.platform
    WHERE m.tenant_id = p_tenant AND m.level = 'campaign' AND m.day BETWEEN p_as_of - 56 AND p_as_of
  ),
  -- Weekday profile of the platform (all its campaigns, last 8 weeks): mean
  -- of each component on a weekday over its mean on all days, clamped to
  -- [0.2, 5]; 1 until the platform has two weeks of history.
  pday AS (
    SELECT r.platform, r.day, r.dow, sum(r.s) AS s, sum(r.i) AS i, sum(r.c) AS c, sum(r.k) AS k, sum(r.v) AS v
    FROM r WHERE r.day < p_as_of GROUP BY r.platform, r.day, r.dow
  ),
  pall AS (
    SELECT pd.platform, count(*) AS n, avg(pd.s) AS s, avg(pd.i) AS i, avg(pd.c) AS c, avg(pd.k) AS k, avg(pd.v) AS v
    FROM pday pd GROUP BY pd.platform
  ),
  pidx AS (
    SELECT pd.platform, pd.dow,
           CASE WHEN a.n >= 14 AND a.s > 0 THEN least(5, greatest(0.2, avg(pd.s) / nullif(a.s, 0))) ELSE 1 END AS fs,
           CASE WHEN a.n >= 14 AND a.i > 0 THEN least(5, greatest(0.2, avg(pd.i) / nullif(a.i, 0))) ELSE 1 END AS fi,
           CASE WHEN a.n >= 14 AND a.c > 0 THEN least(5, greatest(0.2, avg(pd.c) / nullif(a.c, 0))) ELSE 1 END AS fc,
           CASE WHEN a.n >= 14 AND a.k > 0 THEN least(5, greatest(0.2, avg(pd.k) / nullif(a.k, 0))) ELSE 1 END AS fk,
           CASE WHEN a.n >= 14 AND a.v > 0 THEN least(5, greatest(0.2, avg(pd.v) / nullif(a.v, 0))) ELSE 1 END AS fv
    FROM pday pd JOIN pall a ON a.platform = pd.platform
    GROUP BY pd.platform, pd.dow, a.n, a.s, a.i, a.c, a.k, a.v
  ),
  tgt AS (SELECT r.* FROM r WHERE r.day = p_as_of),
  hist AS (
    SELECT h.*, t.dow AS tdow
    FROM tgt t JOIN r h ON h.platform = t.platform AND h.entity_id = t.entity_id
    WHERE h.day < p_as_of AND (h.s > 0 OR h.i > 0)
  ),
  hmode AS (
    SELECT h.platform, h.entity_id,
           count(*) FILTER (WHERE h.dow = h.tdow) AS same_n,
           count(*) FILTER (WHERE h.day >= p_as_of - 28) AS recent_n
    FROM hist h GROUP BY h.platform, h.entity_id
  ),
  -- The comparable history: the same weekday over 8 weeks when there are at
  -- least 4 of them; otherwise the last 28 days, each day's components scaled
  -- by the platform's weekday index (index(target weekday) / index(its weekday)).
  hsel AS (
    SELECT h.platform, h.entity_id, h.day,
           CASE WHEN mo.same_n >= 4 THEN 'same_weekday' ELSE 'weekday_adjusted' END AS method,
           h.s * coalesce(ft.fs / nullif(fh.fs, 0), 1) AS s, h.i * coalesce(ft.fi / nullif(fh.fi, 0), 1) AS i,
           h.c * coalesce(ft.fc / nullif(fh.fc, 0), 1) AS c, h.k * coalesce(ft.fk / nullif(fh.fk, 0), 1) AS k,
           h.v * coalesce(ft.fv / nullif(fh.fv, 0), 1) AS v
    FROM hist h
    JOIN hmode mo ON mo.platform = h.platform AND mo.entity_id = h.entity_id
    LEFT JOIN pidx ft ON ft.platform = h.platform AND ft.dow = h.tdow
    LEFT JOIN pidx fh ON fh.platform = h.platform AND fh.dow = h.dow
    WHERE (mo.same_n >= 4 AND h.dow = h.tdow)
       OR (mo.same_n < 4 AND mo.recent_n >= 7 AND h.day >= p_as_of - 28)
  ),
  hv AS (
    SELECT hs.platform, hs.entity_id, hs.method, mv.metric, mv.val
    FROM hsel hs
    CROSS JOIN LATERAL ads_engine.anomaly_metrics(hs.s, hs.i, hs.c, hs.k, hs.v) AS mv(metric, val)
  ),
  med AS (
    SELECT hv.platform, hv.entity_id, hv.metric, min(hv.method) AS method, count(*) AS n,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY hv.val))::numeric AS m
    FROM hv GROUP BY hv.platform, hv.entity_id, hv.metric
  ),
  mad AS (
    SELECT hv.platform, hv.entity_id, hv.metric,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(hv.val - md.m)))::numeric AS mad
    FROM hv JOIN med md ON md.platform = hv.platform AND md.entity_id = hv.entity_id AND md.metric = hv.metric
    GROUP BY hv.platform, hv.entity_id, hv.metric
  ),
  sup AS (
    SELECT hs.platform, hs.entity_id, count(*) AS n,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY hs.s))::numeric AS m_s,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY hs.i))::numeric AS m_i,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY hs.c))::numeric AS m_c,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY hs.k))::numeric AS m_k,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY hs.v))::numeric AS m_v,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY (hs.s / nullif(hs.k, 0)))::numeric AS m_cpa,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY (hs.s / nullif(hs.c, 0)))::numeric AS m_cpc
    FROM hsel hs GROUP BY hs.platform, hs.entity_id
  ),
  pref AS (  -- the platform's daily spend, for the money share in the severity
    SELECT t.platform, greatest(sum(t.s), max(a.s), 0.01) AS daily_spend
    FROM tgt t LEFT JOIN pall a ON a.platform = t.platform GROUP BY t.platform
  ),
  -- Tracking loss: no conversions on a day whose spend would have bought at
  -- least 5 at the usual rate (P(0) < 1 %): scored as 0 events where
  -- `expected` were due. Or conversions (>= 5) that all came without value
  -- where value is usually tracked: scored as 0 valued conversions out of
  -- the `expected` = t.k observed ones (not from a count of 0 conversions).
  tl AS (
    SELECT t.platform, t.entity_id, t.name, t.campaign_id, 'conversions'::text AS metric, 'tracking_loss'::text AS type,
           su.m_k AS baseline, t.k AS actual, su.m_k * t.s / nullif(su.m_s, 0) AS expected, t.s AS money,
           jsonb_build_object('method', 'expected_from_spend',
                              'expected_conversions', round(su.m_k * t.s / nullif(su.m_s, 0), 2),
                              'p_zero', round(exp(-(su.m_k * t.s / nullif(su.m_s, 0))), 6)) AS details
    FROM tgt t JOIN sup su ON su.platform = t.platform AND su.entity_id = t.entity_id
    WHERE t.k = 0 AND t.s > 0 AND su.m_s > 0 AND su.m_k > 0 AND t.s >= 0.5 * su.m_s
      AND su.m_k * t.s / nullif(su.m_s, 0) >= 5
    UNION ALL
    SELECT t.platform, t.entity_id, t.name, t.campaign_id, 'roas', 'tracking_loss',
           su.m_v / nullif(su.m_s, 0), 0, t.k, su.m_v * t.s / nullif(su.m_s, 0),
           jsonb_build_object('method', 'conversions_without_value', 'conversions', t.k,
                              'expected_value', round(su.m_v * t.s / nullif(su.m_s, 0), 2))
    FROM tgt t JOIN sup su ON su.platform = t.platform AND su.entity_id = t.entity_id
    WHERE t.v = 0 AND t.k >= 5 AND su.m_v > 0 AND su.m_s > 0 AND t.s > 0
  ),
  av AS (
    SELECT t.platform, t.entity_id, t.name, t.campaign_id, t.s, t.i, t.c, t.k, t.v, mv.metric, mv.x
    FROM tgt t
    CROSS JOIN LATERAL ads_engine.anomaly_metrics(t.s, t.i, t.c, t.k, t.v) AS mv(metric, x)
  ),
  sc AS (
    SELECT av.*, md.m, md.n, md.method, ma.mad, su.m_s, su.m_i, su.m_c, su.m_k, su.m_cpa, su.m_cpc, cfg.thr, cfg.min_spend,
           greatest(1.4826 * ma.mad, 0.05 * abs(md.m),
                    CASE av.metric
                      WHEN 'conversions' THEN sqrt(greatest(su.m_k, 0))
                      WHEN 'cpa' THEN md.m / sqrt(greatest(su.m_k, 1))
                      WHEN 'roas' THEN md.m / sqrt(greatest(su.m_k, 1))
                      WHEN 'ctr' THEN md.m / sqrt(greatest(su.m_c, 1))
                      WHEN 'cpc' THEN md.m / sqrt(greatest(su.m_c, 1))
                      ELSE 0 END) AS scale,
           CASE av.metric
             WHEN 'spend' THEN greatest(md.m, av.x) >= cfg.min_spend / 7
             WHEN 'conversions' THEN greatest(md.m, av.x) >= 5
             WHEN 'cpa' THEN su.m_k >= 5
             WHEN 'roas' THEN su.m_k >= 5
             WHEN 'ctr' THEN su.m_c >= 20 AND su.m_i >= 1000
             WHEN 'cpc' THEN su.m_c >= 20
           END AS enough
    FROM av
    JOIN cfg ON cfg.platform = av.platform
    JOIN med md ON md.platform = av.platform AND md.entity_id = av.entity_id AND md.metric = av.metric
    JOIN mad ma ON ma.platform = av.platform AND ma.entity_id = av.entity_id AND ma.metric = av.metric
    JOIN sup su ON su.platform = av.platform AND su.entity_id = av.entity_id
    WHERE md.n >= 4 AND md.m > 0
  ),
  flagged AS (
    SELECT sc.*, (sc.x - sc.m) / nullif(sc.scale, 0) AS z
    FROM sc
    WHERE sc.enough AND sc.scale > 0
      AND abs(sc.x - sc.m) / nullif(sc.scale, 0) >= sc.thr
      AND abs(sc.x - sc.m) >= 0.2 * sc.m
      -- a tracking loss explains the conversion metrics of that day
      AND NOT EXISTS (SELECT 1 FROM tl WHERE tl.platform = sc.platform AND tl.entity_id = sc.entity_id
                        AND (tl.metric = sc.metric OR (tl.metric = 'conversions' AND sc.metric IN ('cpa', 'roas'))))
  ),
  found AS (
    SELECT f.platform, f.entity_id, f.name, f.campaign_id, f.metric,
           CASE WHEN f.z > 0 THEN 'spike' ELSE 'drop' END AS type,
           f.m AS baseline, f.x AS actual, f.z AS score, f.thr,
           CASE f.metric
             WHEN 'spend' THEN abs(f.x - f.m)
             WHEN 'conversions' THEN abs(f.x - f.m) * coalesce(f.m_cpa, 0)
             WHEN 'cpa' THEN abs(f.s - f.k * f.m)
             WHEN 'roas' THEN abs(f.x - f.m) * f.s
             WHEN 'ctr' THEN abs(f.x - f.m) * f.i * coalesce(f.m_cpc, 0)
             WHEN 'cpc' THEN abs(f.x - f.m) * f.c
           END AS money,
           (f.metric IN ('conversions', 'roas', 'ctr') AND f.z > 0) OR (f.metric IN ('cpa', 'cpc') AND f.z < 0) AS favourable,
           jsonb_build_object('method', f.method, 'history_points', f.n, 'median', round(f.m, 6), 'mad', round(f.mad, 6),
                              'scale', round(f.scale, 6), 'threshold', f.thr,
                              'day', jsonb_build_object('spend', f.s, 'impressions', f.i, 'clicks', f.c, 'conversions', f.k, 'conversion_value', f.v),
                              'history_medians', jsonb_build_object('spend', round(f.m_s, 2), 'clicks', round(f.m_c, 2), 'conversions', round(f.m_k, 2))) AS details
    FROM flagged f
    UNION ALL
    SELECT tl.platform, tl.entity_id, tl.name, tl.campaign_id, tl.metric, tl.type, tl.baseline, tl.actual,
           ads_engine.poisson_z(0, tl.expected), cfg.thr, tl.money, false, tl.details
    FROM tl JOIN cfg ON cfg.platform = tl.platform
  ),
  graded AS (
    SELECT fd.*,
           CASE WHEN fd.type = 'tracking_loss' THEN 3
                WHEN abs(fd.score) >= 2.5 * fd.thr THEN 3
                WHEN abs(fd.score) >= 1.5 * fd.thr THEN 2
                ELSE 1 END
           + CASE WHEN fd.money >= 0.20 * pr.daily_spend THEN 3
                  WHEN fd.money >= 0.05 * pr.daily_spend THEN 2
                  WHEN fd.money >= 0.01 * pr.daily_spend THEN 1
                  ELSE 0 END
           - CASE WHEN fd.favourable THEN 2 ELSE 0 END AS points,
           pr.daily_spend
    FROM found fd JOIN pref pr ON pr.platform = fd.platform
  )
  INSERT INTO ads.anomalies AS an (
    tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
    baseline_value, actual_value, deviation_percent, anomaly_score, money_at_stake, severity, details)
  SELECT p_tenant, g.platform, 'campaign', g.entity_id, g.name, coalesce(g.campaign_id, g.entity_id), p_as_of, g.metric, g.type,
         round(g.baseline, 6), round(g.actual, 6),
         round((g.actual - g.baseline) / nullif(abs(g.baseline), 0) * 100, 2),
         round(g.score, 4), round(g.money, 2),
         (CASE WHEN g.points >= 5 THEN 'critical' WHEN g.points = 4 THEN 'high'
               WHEN g.points >= 2 THEN 'medium' ELSE 'low' END)::ads.severity_level,
         g.details || jsonb_build_object('favourable', g.favourable, 'severity_points', g.points,
                                         'platform_daily_spend', round(g.daily_spend, 2))
  FROM graded g
  ON CONFLICT ON CONSTRAINT anomalies_unique_observation DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;

  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.detect_anomalies(uuid, date) IS
  'ads.detect_anomalies for the day p_as_of against that campaign''s history before it.';

CREATE OR REPLACE FUNCTION ads.detect_anomalies(tenant_id uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE
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
  'Checks the tenant''s yesterday (in saas.tenants.timezone: ads_engine.tenant_yesterday) of every campaign against its own history; returns how many anomalies are new. '
  'Metrics spend, conversions, CPA, ROAS, CTR, CPC. History: the same weekday over the last 8 weeks (>= 4 points), else the last 28 days scaled by the platform''s weekday profile. '
  'Robust score z = (actual - median) / max(1.4826 MAD, 5 % of the median, Poisson noise of the counts behind the metric); an anomaly when |z| >= anomaly_sensitivity '
  'and the change is >= 20 %, with minimum volumes (spend >= min_spend_for_decision / 7 a day, 5 conversions, 20 clicks). Zero conversions where spend would '
  'have bought >= 5 is a tracking_loss on conversions (score: Poisson z of 0 where that many were expected); >= 5 conversions all without value is a '
  'tracking_loss on roas (score: Poisson z of 0 valued conversions out of those observed). Severity from |z| and the money at stake against the platform''s '
  'daily spend (favourable moves rank lower). One row per entity, metric and day; nothing where anomaly_detection_enabled is off. SECURITY INVOKER; refuses a '
  'tenant_id other than saas.tenant_id, and with no tenant set (a superuser or aegis_owner member in psql) uses tenant_id for the call (the app role is refused).';

SET LOCAL aegis.media_part_100_anomalies = 'done';
