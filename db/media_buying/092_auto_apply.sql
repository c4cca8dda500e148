-- Media Buying, 092_auto_apply: which recommendations the daily loop applies
-- by itself, applying a pause, and undoing what it applied.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- Only changes the product can make itself auto-apply: a campaign's daily
-- budget (budget_increase, budget_decrease) and marking its budget paused
-- (pause). Bids, creatives, audiences and timing are changed by a buyer on
-- the platform. The guide's switch, ads.platform_configs
-- .auto_apply_recommendations, must be on; then each type follows its row of
-- ads_engine.auto_apply_policies (db/migrations/010), or the default:
-- budget changes of any step the engine proposes, pauses never.
--
-- The tables come from a numbered migration, which runs after this file on a
-- new database: these functions are plpgsql (planned when first run) and
-- treat a missing table as no policy row and nothing to record.

-- ---------------------------------------------------------------------------
-- The effective policy
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.auto_apply_default_step() RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 1::numeric $$;
COMMENT ON FUNCTION ads_engine.auto_apply_default_step() IS
  'The default largest relative budget change auto-applied: 1 (100 %), no limit beyond the engine''s own (an increase of at most 50 % and max_budget, '
  'a decrease to no less than half the spend and min_budget), so that turning on auto_apply_recommendations alone applies every budget change, as the '
  'guide describes. A buyer sets a lower limit per type.';

CREATE OR REPLACE FUNCTION ads_engine.auto_apply_policy(p_tenant uuid)
RETURNS TABLE (platform ads.platform, switched_on boolean, recommendation_type text, enabled boolean, max_step numeric, is_default boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_table boolean := to_regclass('ads_engine.auto_apply_policies') IS NOT NULL;
BEGIN
  PERFORM saas.assert_tenant(p_tenant);
  -- The platforms with a config row (the switch lives there), and any with a policy.
  RETURN QUERY EXECUTE format($q$
    WITH p AS (
      SELECT c.platform FROM ads.platform_configs c WHERE c.tenant_id = $1
      %s
    )
    SELECT p.platform::ads.platform, coalesce(c.auto_apply_recommendations, false), t.t,
           coalesce(a.enabled, t.t <> 'pause'),
           CASE WHEN t.t <> 'pause' THEN coalesce(a.max_step, ads_engine.auto_apply_default_step()) END,
           a.enabled IS NULL
    FROM p
    CROSS JOIN unnest(ARRAY['budget_decrease', 'budget_increase', 'pause']) AS t(t)
    LEFT JOIN ads.platform_configs c ON c.tenant_id = $1 AND c.platform = p.platform
    LEFT JOIN %s a ON a.tenant_id = $1 AND a.platform = p.platform AND a.recommendation_type = t.t
    ORDER BY p.platform, t.t
  $q$,
    CASE WHEN v_table THEN 'UNION SELECT x.platform FROM ads_engine.auto_apply_policies x WHERE x.tenant_id = $1' ELSE '' END,
    CASE WHEN v_table THEN 'ads_engine.auto_apply_policies'
         ELSE '(SELECT NULL::uuid AS tenant_id, NULL::text AS platform, NULL::text AS recommendation_type, NULL::boolean AS enabled, NULL::numeric AS max_step WHERE false)' END)
  USING p_tenant;
END
$$;
COMMENT ON FUNCTION ads_engine.auto_apply_policy(uuid) IS
  'Per platform the tenant configured (a row of ads.platform_configs or a policy) and auto-appliable type (budget_decrease, budget_increase, pause): switched_on = ads.platform_configs.auto_apply_recommendations '
  '(false without a config row), enabled and max_step from ads_engine.auto_apply_policies, else the default (budget types on up to '
  'ads_engine.auto_apply_default_step(), pause off; is_default true). A type applies automatically when switched_on and enabled.';

-- Whether the loop applies this recommendation without a buyer: the switch,
-- the type's policy, a campaign (budgets are per campaign) and a step within
-- the limit.
CREATE OR REPLACE FUNCTION ads_engine.auto_apply_allows(
  p_tenant uuid, p_platform ads.platform, p_type text, p_level ads.entity_level, p_current numeric, p_recommended numeric)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pol record;
BEGIN
  IF p_level IS DISTINCT FROM 'campaign' OR p_type NOT IN ('budget_increase', 'budget_decrease', 'pause') THEN
    RETURN false;
  END IF;
  SELECT * INTO pol FROM ads_engine.auto_apply_policy(p_tenant) a WHERE a.platform = p_platform AND a.recommendation_type = p_type;
  IF NOT FOUND OR NOT pol.switched_on OR NOT pol.enabled THEN
    RETURN false;
  END IF;
  IF p_type = 'pause' THEN
    RETURN true;
  END IF;
  RETURN p_current > 0 AND p_recommended >= 0 AND abs(p_recommended / p_current - 1) <= pol.max_step + 0.0000001;
END
$$;
COMMENT ON FUNCTION ads_engine.auto_apply_allows(uuid, ads.platform, text, ads.entity_level, numeric, numeric) IS
  'True when the daily loop may apply this recommendation by itself: a campaign-level budget_increase / budget_decrease whose step '
  '|recommended / current - 1| is within the policy''s max_step, or a campaign-level pause, on a platform whose auto_apply_recommendations is on and '
  'whose policy (ads_engine.auto_apply_policy) enables the type.';

CREATE OR REPLACE FUNCTION ads_engine.set_auto_apply_policy(
  p_tenant uuid, p_platform ads.platform, p_type text, p_enabled boolean, p_max_step numeric DEFAULT NULL,
  p_actor_label text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_caller_tenant(p_tenant);
  v_before jsonb;
BEGIN
  IF p_platform IS NULL THEN
    RAISE EXCEPTION 'platform must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF p_type IS NULL OR p_type NOT IN ('budget_increase', 'budget_decrease', 'pause') THEN
    RAISE EXCEPTION 'recommendation_type must be budget_increase, budget_decrease or pause (the changes the product makes itself), not %',
      coalesce(p_type, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF p_enabled IS NULL THEN
    RAISE EXCEPTION 'enabled must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF p_type = 'pause' AND p_max_step IS NOT NULL THEN
    RAISE EXCEPTION 'max_step applies to budget changes only: leave it NULL for pause' USING ERRCODE = '22023';
  END IF;
  IF p_type <> 'pause' AND p_max_step IS NULL THEN
    p_max_step := ads_engine.auto_apply_default_step();
  END IF;
  -- checked as stored (three decimals): 0.0004 would become a step of 0
  IF p_type <> 'pause' AND NOT (round(p_max_step, 3) > 0 AND round(p_max_step, 3) <= 1) THEN
    RAISE EXCEPTION 'max_step must be above 0 and at most 1 (100 %%), not %', p_max_step USING ERRCODE = '22023';
  END IF;
  SELECT jsonb_build_object('enabled', a.enabled, 'max_step', a.max_step) INTO v_before
    FROM ads_engine.auto_apply_policies a
   WHERE a.tenant_id = p_tenant AND a.platform = p_platform AND a.recommendation_type = p_type
   FOR UPDATE;
  INSERT INTO ads_engine.auto_apply_policies AS a (tenant_id, platform, recommendation_type, enabled, max_step, updated_at, updated_by)
  VALUES (p_tenant, p_platform, p_type, p_enabled, round(p_max_step, 3), now(), saas.current_user_id())
  ON CONFLICT (tenant_id, platform, recommendation_type) DO UPDATE
    SET enabled = EXCLUDED.enabled, max_step = EXCLUDED.max_step, updated_at = now(), updated_by = EXCLUDED.updated_by;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
  VALUES (p_tenant, saas.current_user_id(), coalesce(p_actor_label, (SELECT u.email FROM saas.users u WHERE u.id = saas.current_user_id()), session_user::text), 'auto_apply.policy',
          'platform_config', p_platform::text || ':' || p_type, v_before,
          jsonb_build_object('enabled', p_enabled, 'max_step', round(p_max_step, 3)));
  IF v_entered THEN PERFORM set_config('saas.tenant_id', '', true); END IF;
END
$$;
COMMENT ON FUNCTION ads_engine.set_auto_apply_policy(uuid, ads.platform, text, boolean, numeric, text) IS
  'Sets whether a type auto-applies on a platform (where its auto_apply_recommendations is on) and, for budget changes, the largest relative step '
  '(0 < max_step <= 1; NULL: the default). Refuses another type, a step for pause or out of range (22023) and NULLs (22004); audited '
  '(action auto_apply.policy, before and after; actor p_actor_label, else the user''s email). SECURITY DEFINER (search_path pg_catalog, pg_temp; '
  'tenant checked by ads_engine.enter_caller_tenant): the app role reads the policies but writes them only through here, so no change escapes the audit.';

-- ---------------------------------------------------------------------------
-- The record of what the loop applied is written and closed only by the
-- SECURITY DEFINER functions below (the app role may read it, not write it):
-- otherwise anything running as the app role could plant an "automatic
-- change" with a forged budget, or stretch its undo window, and have a
-- buyer's Undo carry it out under their name. Inside a definer current_user
-- is the owner, so the tenant check looks at session_user, the login.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.enter_caller_tenant(p_tenant uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_current uuid := nullif(pg_catalog.current_setting('saas.tenant_id', true), '')::uuid;
BEGIN
  IF p_tenant IS NULL THEN
    RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF v_current IS NOT NULL THEN
    IF v_current <> p_tenant THEN
      RAISE EXCEPTION 'tenant_id % does not match the current tenant setting saas.tenant_id', p_tenant USING ERRCODE = '42501';
    END IF;
    RETURN false;
  END IF;
  IF NOT (pg_catalog.pg_has_role(session_user, 'aegis_owner', 'MEMBER')
          OR coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false)) THEN
    RAISE EXCEPTION 'saas.tenant_id is not set: call inside a tenant transaction' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_catalog.set_config('saas.tenant_id', p_tenant::text, true);
  RETURN true;
END
$$;
COMMENT ON FUNCTION ads_engine.enter_caller_tenant(uuid) IS
  'ads_engine.enter_tenant for SECURITY DEFINER functions: refuses a NULL tenant or one other than saas.tenant_id; with no tenant set, sets it '
  '(transaction-local, returns true) only when the login (session_user) is a superuser or a member of aegis_owner, as in psql; anyone else is refused.';

-- ---------------------------------------------------------------------------
-- Applying a pause automatically (a buyer's approval is in the app)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.auto_apply_pause(p_tenant uuid, p_recommendation_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  rec ads.optimization_recommendations%ROWTYPE;
  bud ads.budget_allocation%ROWTYPE;
BEGIN
  SELECT * INTO rec FROM ads.optimization_recommendations o
   WHERE o.tenant_id = p_tenant AND o.id = p_recommendation_id FOR UPDATE;
  IF NOT FOUND OR rec.recommendation_type <> 'pause' OR rec.level <> 'campaign' OR rec.status <> 'pending' OR rec.expires_at <= now() THEN
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;
  SELECT * INTO bud FROM ads.budget_allocation ba
   WHERE ba.tenant_id = p_tenant AND ba.platform = rec.platform AND ba.campaign_id = rec.entity_id FOR UPDATE;
  -- Nothing to mark: the pause waits for a buyer, who also pauses it on the platform.
  IF NOT FOUND OR bud.status <> 'active' THEN
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN false;
  END IF;
  UPDATE ads.budget_allocation ba SET status = 'paused', updated_at = now()
   WHERE ba.tenant_id = p_tenant AND ba.id = bud.id;
  UPDATE ads.optimization_recommendations o SET status = 'applied', applied_at = now(), applied_by = NULL
   WHERE o.tenant_id = p_tenant AND o.id = rec.id;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
  VALUES (p_tenant, NULL, 'optimizer', 'recommendation.auto_apply', 'budget_allocation', bud.id::text,
          jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform, 'status', bud.status),
          jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform, 'status', 'paused',
                             'recommendation_id', rec.id, 'recommendation_type', rec.recommendation_type));
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN true;
END
$$;
COMMENT ON FUNCTION ads_engine.auto_apply_pause(uuid, uuid) IS
  'Applies a pending, unexpired campaign pause by itself: the campaign''s active budget row marked paused, the recommendation applied (applied_by NULL), '
  'an audit row (action recommendation.auto_apply, actor optimizer). Returns false, changing nothing, for anything else, or with no active budget row.';

-- Records what the loop applied, for the list on the queue and the undo.
-- What it was before needs no argument: a budget change applies only while
-- the daily budget equals the value it was computed from (current_value),
-- and a pause only to an active budget.
DROP FUNCTION IF EXISTS ads_engine.record_auto_application(uuid, uuid, jsonb);
CREATE OR REPLACE FUNCTION ads_engine.record_auto_application(p_tenant uuid, p_recommendation_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_caller_tenant(p_tenant);
  rec ads.optimization_recommendations%ROWTYPE;
  bud ads.budget_allocation%ROWTYPE;
  v_n integer;
BEGIN
  IF pg_catalog.to_regclass('ads_engine.auto_applications') IS NULL THEN
    RETURN false;
  END IF;
  SELECT * INTO rec FROM ads.optimization_recommendations o
   WHERE o.tenant_id = p_tenant AND o.id = p_recommendation_id FOR UPDATE;
  -- Only what the optimiser applied in this very transaction: applied, by no
  -- user, at this transaction's now(), a campaign-level budget change or pause.
  IF NOT FOUND OR rec.status <> 'applied' OR rec.applied_by IS NOT NULL OR rec.applied_at IS DISTINCT FROM pg_catalog.now()
     OR rec.level <> 'campaign' OR rec.recommendation_type NOT IN ('budget_increase', 'budget_decrease', 'pause')
     OR (rec.recommendation_type <> 'pause' AND rec.current_value IS NULL)
     -- and audited as the optimiser's own change in this transaction, as apply_budget_recommendation and auto_apply_pause write it
     OR NOT EXISTS (SELECT 1 FROM saas.audit_log l
                    WHERE l.tenant_id = p_tenant AND l.action = 'recommendation.auto_apply' AND l.occurred_at = pg_catalog.now()
                      AND l.actor_user_id IS NULL AND l.after ->> 'recommendation_id' = rec.id::text) THEN
    IF v_entered THEN PERFORM pg_catalog.set_config('saas.tenant_id', '', true); END IF;
    RETURN false;
  END IF;
  SELECT * INTO bud FROM ads.budget_allocation ba
   WHERE ba.tenant_id = p_tenant AND ba.platform = rec.platform AND ba.campaign_id = rec.entity_id;
  IF NOT FOUND THEN
    IF v_entered THEN PERFORM pg_catalog.set_config('saas.tenant_id', '', true); END IF;
    RETURN false;
  END IF;
  INSERT INTO ads_engine.auto_applications (tenant_id, recommendation_id, recommendation_type, platform, campaign_id, budget_id,
                                            applied_at, undo_until, before, after)
  VALUES (p_tenant, rec.id, rec.recommendation_type, rec.platform, rec.entity_id, bud.id, rec.applied_at, rec.applied_at + interval '24 hours',
          CASE WHEN rec.recommendation_type = 'pause' THEN pg_catalog.jsonb_build_object('status', 'active')
               ELSE pg_catalog.jsonb_build_object('daily_budget', rec.current_value) END,
          CASE WHEN rec.recommendation_type = 'pause' THEN pg_catalog.jsonb_build_object('status', bud.status)
               ELSE pg_catalog.jsonb_build_object('daily_budget', bud.daily_budget) END)
  ON CONFLICT (tenant_id, recommendation_id) DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  IF v_entered THEN PERFORM pg_catalog.set_config('saas.tenant_id', '', true); END IF;
  RETURN v_n > 0;
END
$$;
COMMENT ON FUNCTION ads_engine.record_auto_application(uuid, uuid) IS
  'Writes the ads_engine.auto_applications row of a recommendation the optimiser applied in this transaction (status applied, applied_by NULL, '
  'applied_at = now(), a campaign budget change or pause, with its recommendation.auto_apply audit row of this transaction and no user): before = {daily_budget: current_value} or {status: active}, after = the budget row now, '
  'undoable for 24 hours. Returns false, writing nothing, for anything else. SECURITY DEFINER (search_path pg_catalog, pg_temp): the app role '
  'cannot write the table itself; tenant checked against saas.tenant_id (ads_engine.enter_caller_tenant). Called by ads_engine.generate_recommendations.';

-- ---------------------------------------------------------------------------
-- Undo, for 24 hours
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.undo_auto_apply(p_tenant uuid, p_recommendation_id uuid, p_actor_label text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_caller_tenant(p_tenant);
  v_user uuid := saas.current_user_id();
  v_label text;
  aa record;
  bud ads.budget_allocation%ROWTYPE;
  v_reason text;
  v_who text;
BEGIN
  IF p_recommendation_id IS NULL THEN
    RAISE EXCEPTION 'recommendation_id must not be NULL' USING ERRCODE = '22004';
  END IF;
  SELECT * INTO aa FROM ads_engine.auto_applications a
   WHERE a.tenant_id = p_tenant AND a.recommendation_id = p_recommendation_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'recommendation % was not applied automatically in this tenant: there is nothing to undo', p_recommendation_id
      USING ERRCODE = 'P0002';
  END IF;
  IF aa.undone_at IS NOT NULL THEN
    SELECT coalesce(nullif(btrim(u.name), ''), u.email) INTO v_who FROM saas.users u WHERE u.id = aa.undone_by;
    RAISE EXCEPTION 'Already undone% at %', coalesce(' by ' || v_who, ''), to_char(aa.undone_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
      USING ERRCODE = '55000';
  END IF;
  IF now() > aa.undo_until THEN
    RAISE EXCEPTION 'The 24 hours to undo it ended at %: change the budget on the budgets page instead',
      to_char(aa.undo_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') USING ERRCODE = '55000';
  END IF;
  SELECT * INTO bud FROM ads.budget_allocation ba WHERE ba.tenant_id = p_tenant AND ba.id = aa.budget_id FOR UPDATE;
  -- Undo puts back what the loop changed, and only while it is still what the
  -- loop set: otherwise it would overwrite a buyer's later decision. The
  -- engine's recommended_budget is left as it is (a later run may have moved it).
  IF aa.recommendation_type = 'pause' THEN
    IF bud.status IS DISTINCT FROM 'paused' THEN
      RAISE EXCEPTION 'The budget of % is % now, no longer the pause the optimiser set: nothing to undo', aa.campaign_id, bud.status
        USING ERRCODE = '55000';
    END IF;
    UPDATE ads.budget_allocation ba SET status = aa.before ->> 'status', updated_at = now()
     WHERE ba.tenant_id = p_tenant AND ba.id = bud.id;
    v_reason := format('Undone: the optimiser''s pause was reverted and the budget set back to %s', aa.before ->> 'status');
  ELSE
    IF bud.daily_budget IS DISTINCT FROM (aa.after ->> 'daily_budget')::numeric THEN
      RAISE EXCEPTION 'The daily budget of % is % now, changed since the optimiser set it to %: undo would overwrite that change',
        aa.campaign_id, bud.daily_budget, aa.after ->> 'daily_budget' USING ERRCODE = '55000';
    END IF;
    UPDATE ads.budget_allocation ba SET daily_budget = (aa.before ->> 'daily_budget')::numeric, updated_at = now()
     WHERE ba.tenant_id = p_tenant AND ba.id = bud.id;
    v_reason := format('Undone: the daily budget was set back from %s to %s', aa.after ->> 'daily_budget', aa.before ->> 'daily_budget');
  END IF;
  UPDATE ads_engine.auto_applications a SET undone_at = now(), undone_by = v_user
   WHERE a.tenant_id = p_tenant AND a.recommendation_id = aa.recommendation_id;
  -- No longer applied: dismissed by the one who undid it (which also keeps
  -- the engine from proposing it again for 7 days). Its outcome row stays,
  -- unmeasured: measure_outcomes and track_record count applied ones only.
  UPDATE ads.optimization_recommendations o
     SET status = 'dismissed', dismissed_at = now(), dismissed_by = v_user, dismiss_reason = v_reason
   WHERE o.tenant_id = p_tenant AND o.id = aa.recommendation_id;
  SELECT u.email INTO v_label FROM saas.users u WHERE u.id = v_user;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, before, after)
  VALUES (p_tenant, v_user, coalesce(p_actor_label, v_label, session_user::text), 'recommendation.undo',
          'budget_allocation', bud.id::text,
          jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform, 'daily_budget', bud.daily_budget, 'status', bud.status),
          aa.before || jsonb_build_object('campaign_id', bud.campaign_id, 'platform', bud.platform,
                                          'recommendation_id', aa.recommendation_id, 'recommendation_type', aa.recommendation_type));
  IF v_entered THEN PERFORM set_config('saas.tenant_id', '', true); END IF;
  RETURN jsonb_build_object('recommendation_id', aa.recommendation_id, 'recommendation_type', aa.recommendation_type,
                            'campaign_id', aa.campaign_id, 'platform', aa.platform, 'before', aa.after, 'after', aa.before, 'reason', v_reason);
END
$$;
COMMENT ON FUNCTION ads_engine.undo_auto_apply(uuid, uuid, text) IS
  'Reverts what the daily loop applied by itself, within 24 hours (ads_engine.auto_applications.undo_until): the daily budget, or the paused status, '
  'set back as it was (recommended_budget left alone); the recommendation becomes dismissed (by the caller, reason "Undone: ...", so not proposed '
  'again for 7 days); its outcome no longer measured or counted (ads_engine.measure_outcomes and track_record read applied ones only); audited '
  '(action recommendation.undo, actor p_actor_label, else the user''s email). Refuses (55000) past the 24 hours, twice, or when the daily budget '
  '(for a pause, the status) is no longer what the optimiser set (it would overwrite a later decision); P0002 for a recommendation not '
  'auto-applied in this tenant. SECURITY DEFINER (search_path pg_catalog, pg_temp; tenant checked by ads_engine.enter_caller_tenant): it closes '
  'the record the app role may not write. Returns what changed as jsonb.';

SET LOCAL aegis.media_part_092_auto_apply = 'done';
