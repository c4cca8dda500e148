-- AEGIS engine: auto-apply per recommendation type, and a record of what the
-- engine applied by itself so that a buyer can undo it for 24 hours.
--
-- The guide's switch ads.platform_configs.auto_apply_recommendations stays
-- the switch: nothing is applied automatically on a platform where it is off.
-- Where it is on, ads_engine.auto_apply_policies says which types go through
-- and how large a budget step may be; a type without a row keeps its default
-- (ads_engine.auto_apply_policy in db/media_buying/092_auto_apply.sql):
-- budget changes of any step the engine proposes, so that the guide's switch
-- alone behaves as the guide says; pauses never.
--
-- Both tables are the engine's own record (schema ads_engine): the ads schema
-- holds the guide's tables only.
--
-- Idempotent: objects are created when missing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

CREATE TABLE IF NOT EXISTS ads_engine.auto_apply_policies (
  tenant_id            uuid          NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  platform             ads.platform  NOT NULL,
  recommendation_type  text          NOT NULL CHECK (recommendation_type IN ('budget_increase', 'budget_decrease', 'pause')),
  enabled              boolean       NOT NULL,
  -- the largest relative change of the daily budget applied without a buyer: 0.2 = 20 %
  max_step             numeric(4,3)  CHECK (max_step > 0 AND max_step <= 1),
  updated_at           timestamptz   NOT NULL DEFAULT now(),
  updated_by           uuid,
  CONSTRAINT auto_apply_policies_pkey PRIMARY KEY (tenant_id, platform, recommendation_type),
  CONSTRAINT auto_apply_policies_step CHECK ((recommendation_type = 'pause') = (max_step IS NULL))
);
COMMENT ON TABLE ads_engine.auto_apply_policies IS
  'Which recommendation types the daily loop applies without a buyer, per tenant and platform, where ads.platform_configs.auto_apply_recommendations is on. '
  'max_step: the largest relative budget change applied (budget types; NULL for pause). A missing row keeps the default of ads_engine.auto_apply_policy.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.auto_apply_policies');
-- Read by the app; written only through ads_engine.set_auto_apply_policy (SECURITY DEFINER), which audits every change.
GRANT SELECT ON ads_engine.auto_apply_policies TO aegis_app;

CREATE TABLE IF NOT EXISTS ads_engine.auto_applications (
  tenant_id            uuid          NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  recommendation_id    uuid          NOT NULL,
  recommendation_type  text          NOT NULL CHECK (recommendation_type IN ('budget_increase', 'budget_decrease', 'pause')),
  platform             ads.platform  NOT NULL,
  campaign_id          text          NOT NULL,
  budget_id            uuid          NOT NULL,
  applied_at           timestamptz   NOT NULL DEFAULT now(),
  undo_until           timestamptz   NOT NULL,
  -- the budget row's daily_budget, recommended_budget and status before and after
  before               jsonb         NOT NULL CHECK (jsonb_typeof(before) = 'object'),
  after                jsonb         NOT NULL CHECK (jsonb_typeof(after) = 'object'),
  undone_at            timestamptz,
  undone_by            uuid,
  CONSTRAINT auto_applications_pkey PRIMARY KEY (tenant_id, recommendation_id),
  CONSTRAINT auto_applications_recommendation_fkey FOREIGN KEY (tenant_id, recommendation_id)
    REFERENCES ads.optimization_recommendations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT auto_applications_budget_fkey FOREIGN KEY (tenant_id, budget_id)
    REFERENCES ads.budget_allocation (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT auto_applications_window CHECK (undo_until = applied_at + interval '24 hours')
);
CREATE INDEX IF NOT EXISTS auto_applications_applied_idx ON ads_engine.auto_applications (tenant_id, applied_at DESC);
COMMENT ON TABLE ads_engine.auto_applications IS
  'Every recommendation the daily loop applied by itself: the budget row before and after, and until when it can be undone '
  '(ads_engine.undo_auto_apply, 24 hours). Written by ads_engine.generate_recommendations.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.auto_applications');
-- Read by the app; written only by ads_engine.record_auto_application and undo_auto_apply (SECURITY DEFINER): a
-- forged row (a budget, a window) would otherwise be carried out by a buyer's Undo under their name.
GRANT SELECT ON ads_engine.auto_applications TO aegis_app;

COMMIT;
