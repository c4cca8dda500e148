-- AEGIS engine: measured outcomes of applied recommendations, the one-time
-- part (the functions that fill and read it, and the trigger that records a
-- prediction when a recommendation is applied, are in
-- db/media_buying/105_outcomes.sql, re-applied on deploy).
--
-- One row per applied recommendation: what it predicted (metric, relative
-- change, horizon), the entity's figures over the 7 days before the day it
-- was applied, and for the horizons 7 and 14 days after it a
-- difference-in-differences estimate against comparable entities of the same
-- platform and level that had nothing applied in the window.
--
-- The table is the engine's own record (schema ads_engine): the ads schema
-- holds the guide's tables only.
--
-- Idempotent: objects are created when missing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_OUTCOMES_START', 'started', '006_recommendation_outcomes: measured outcomes of applied recommendations');

CREATE TABLE IF NOT EXISTS ads_engine.recommendation_outcomes (
  tenant_id            uuid             NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  recommendation_id    uuid             NOT NULL,
  recommendation_type  text             NOT NULL,
  platform             ads.platform     NOT NULL,
  level                ads.entity_level NOT NULL,
  entity_id            text             NOT NULL,
  applied_at           timestamptz      NOT NULL,
  applied_day          date             NOT NULL,
  -- the prediction
  metric               text             NOT NULL
                       CHECK (metric IN ('spend', 'conversions', 'conversion_value', 'cpa', 'roas', 'cpc', 'ctr', 'cpm')),
  expected_change      numeric          NOT NULL CHECK (expected_change >= -1),
  unit                 text,
  horizon_days         integer          NOT NULL CHECK (horizon_days BETWEEN 1 AND 90),
  prediction_source    text             NOT NULL CHECK (prediction_source IN ('evidence', 'default')),
  -- the 7 days before applied_day
  pre_from             date             NOT NULL,
  pre_to               date             NOT NULL,
  pre_value            numeric,
  pre_support          numeric,
  -- 7 days after applied_day
  post_value_7         numeric,
  entity_change_7      numeric,
  control_change_7     numeric,
  did_7                numeric,
  did_lower_7          numeric,
  did_upper_7          numeric,
  controls_7           integer          CHECK (controls_7 >= 0),
  direction_held_7     boolean,
  measured_at_7        timestamptz,
  -- 14 days after applied_day
  post_value_14        numeric,
  entity_change_14     numeric,
  control_change_14    numeric,
  did_14               numeric,
  did_lower_14         numeric,
  did_upper_14         numeric,
  controls_14          integer          CHECK (controls_14 >= 0),
  direction_held_14    boolean,
  measured_at_14       timestamptz,
  created_at           timestamptz      NOT NULL DEFAULT now(),
  CONSTRAINT recommendation_outcomes_pkey PRIMARY KEY (tenant_id, recommendation_id),
  CONSTRAINT recommendation_outcomes_recommendation_fkey FOREIGN KEY (tenant_id, recommendation_id)
    REFERENCES ads.optimization_recommendations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT recommendation_outcomes_pre_period CHECK (pre_to >= pre_from AND pre_to < applied_day),
  CONSTRAINT recommendation_outcomes_intervals CHECK (
    (did_lower_7 IS NULL OR did_lower_7 <= did_upper_7) AND (did_lower_14 IS NULL OR did_lower_14 <= did_upper_14))
);
CREATE INDEX IF NOT EXISTS recommendation_outcomes_applied_day_idx
  ON ads_engine.recommendation_outcomes (tenant_id, applied_day);
CREATE INDEX IF NOT EXISTS recommendation_outcomes_entity_idx
  ON ads_engine.recommendation_outcomes (tenant_id, platform, level, entity_id);

COMMENT ON TABLE ads_engine.recommendation_outcomes IS
  'What an applied recommendation predicted and what happened: one row per applied recommendation (written by ads_engine.record_prediction, '
  'from the trigger on ads.optimization_recommendations), measured 7 and 14 days after applied_day by ads_engine.measure_outcomes; '
  'read per type by ads_engine.track_record.';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.applied_day IS
  'The tenant''s local calendar day of applied_at (saas.tenants.timezone, UTC when unknown): the pre period ends the day before, the post period starts the day after.';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.metric IS
  'The metric the prediction is about: spend, conversions, conversion_value (per day), cpa, roas, cpc, ctr, cpm (ratios of sums over the period).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.expected_change IS
  'Predicted relative change of the metric, post over pre minus 1 (-0.25: a fall of 25 %; -1: to zero).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.prediction_source IS
  '''evidence'': the recommendation''s evidence -> ''prediction''; ''default'': the default of its recommendation_type (ads_engine.record_prediction).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.pre_value IS
  'The metric over pre_from .. pre_to (applied_day - 7 .. applied_day - 1): a per-day mean for spend, conversions, conversion_value, else a ratio of sums; '
  'refreshed at each measurement (late conversions are restated).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.pre_support IS
  'The count behind pre_value''s noise (conversions for conversions, conversion_value, cpa, roas; clicks for cpc, ctr; impressions for cpm; NULL for spend).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.entity_change_7 IS
  'The entity''s relative change post (applied_day + 1 .. + 7) over pre, minus 1.';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.control_change_7 IS
  'The controls'' typical relative change: exp(mean of their log(post/pre)) - 1.';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.did_7 IS
  'Difference in differences on the log scale: log(post/pre) of the entity minus the mean log(post/pre) of the controls. NULL when the entity''s post value is 0 '
  '(log undefined; entity_change is then -1).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.did_lower_7 IS
  '95 % interval of did_7: did -/+ 1.96 sqrt(tau^2 + v_e + s^2 / n), s^2 the sample variance of the controls'' log changes, n their number, '
  'v_e the entity''s count noise (1/k_pre + 1/k_post of its support), tau^2 = max(0, s^2 - the controls'' mean count noise). NULL with fewer than 2 controls.';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.controls_7 IS
  'Controls: the other entities of the same platform and level with the metric positive in both periods and no recommendation applied '
  'from applied_day - 7 to applied_day + 7.';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.direction_held_7 IS
  'Whether the estimate moved the way predicted: sign(did_7) = sign(expected_change) (for a post value of 0, a predicted fall held). NULL when no prediction of direction (0).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.measured_at_7 IS 'When the 7-day horizon was measured (NULL: not yet; measured once).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.did_14 IS 'As did_7, over applied_day + 1 .. + 14 (controls: nothing applied from applied_day - 7 to applied_day + 14).';
COMMENT ON COLUMN ads_engine.recommendation_outcomes.measured_at_14 IS 'When the 14-day horizon was measured (NULL: not yet; measured once).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.recommendation_outcomes');
GRANT SELECT, INSERT, UPDATE ON ads_engine.recommendation_outcomes TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_OUTCOMES_COMPLETE', 'success', '006_recommendation_outcomes applied');

COMMIT;
