-- Media Buying, 055_rollups: ads_engine.metrics_platform_daily, the per-platform, per-day totals
-- of ads.metrics_daily, kept exactly equal to it by statement-level triggers.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- Why here and not next to the table (020): the check at the end of this part
-- lists every tenant through the scheduler's read-only policy on saas.tenants
-- (optimizer_scheduler_scan, 050_run_log), so it comes after 050; and it runs
-- after 040, so on every deployment it finds ads.metrics_daily as the app sees it.
--
-- Re-applied on every deployment, so written to change nothing the second time:
-- the table is created when missing, the functions replaced, the triggers
-- dropped and created again, and the totals re-aggregated only for a tenant
-- whose row count disagrees with ads.metrics_daily.

-- ---------------------------------------------------------------------------
-- The rollup. Keyed for the performance page's read: one tenant, one level, a
-- range of days, some platforms (lib/performance/queries.ts, readDaily).
-- Figures are plain numeric: a sum of numeric(14,2) keeps its two decimals,
-- a sum of bigint is a whole numeric, exactly what sum() over
-- ads.metrics_daily returns, so the two compare equal as text too.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.metrics_platform_daily (
  tenant_id         uuid              NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  level             ads.entity_level  NOT NULL,
  platform          ads.platform      NOT NULL,
  day               date              NOT NULL,
  spend             numeric           NOT NULL,
  impressions       numeric           NOT NULL,
  clicks            numeric           NOT NULL,
  conversions       numeric           NOT NULL,
  conversion_value  numeric           NOT NULL,
  rows              integer           NOT NULL,
  CONSTRAINT metrics_platform_daily_pkey PRIMARY KEY (tenant_id, level, day, platform),
  -- A group's count can only go below zero if the rollup missed some writes
  -- (triggers disabled, a partial restore): fail loudly rather than drift.
  CONSTRAINT metrics_platform_daily_rows_check CHECK (rows >= 0)
);
COMMENT ON TABLE ads_engine.metrics_platform_daily IS
  'Totals of ads.metrics_daily per tenant, level, platform and day (sums of spend, impressions, clicks, conversions, conversion_value; rows: how many '
  'metrics rows), always equal to SELECT ... GROUP BY over it: maintained by the statement-level triggers metrics_platform_daily_* on ads.metrics_daily '
  '(ads_engine.tg_metrics_platform_daily) in the same transaction as each write, checked and repaired by the deployment '
  '(ads_engine.rebuild_metrics_platform_daily). Read-only for the app.';
COMMENT ON COLUMN ads_engine.metrics_platform_daily.rows IS
  'Number of ads.metrics_daily rows in the group (never 0: a group without rows has no rollup row). The deployment compares its sum with count(*).';

-- RLS forced like every tenant table; the policy before the grant. The app
-- reads; only the trigger function (as the owner) writes.
CALL aegis_deploy.isolate_by_tenant('ads_engine.metrics_platform_daily');
REVOKE ALL ON ads_engine.metrics_platform_daily FROM PUBLIC;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ads_engine.metrics_platform_daily FROM aegis_app;
GRANT SELECT ON ads_engine.metrics_platform_daily TO aegis_app;

-- ---------------------------------------------------------------------------
-- The trigger function: one function for the three statement-level triggers
-- (transition tables allow one event per trigger) and TRUNCATE.
--
-- It applies the statement's change as a delta, group by group:
--   + the inserted rows, - the deleted rows, + new - old for updated rows
--   (an update that moves a row to another day or platform leaves one group
--   and enters the other; INSERT ... ON CONFLICT DO UPDATE fires the insert
--   trigger with the inserted rows and the update trigger with the updated ones),
-- then deletes the groups whose count fell to zero. Deltas rather than a new
-- sum over ads.metrics_daily: numeric addition is exact, and under
-- concurrency a delta is the only correct write. Two loads of the same
-- platform and day in two transactions cannot see each other's rows, so a
-- re-aggregation by the second would overwrite the first's total when it
-- commits; "total = total + delta" is applied to the latest row version after
-- the row lock, at READ COMMITTED and (or a serialization failure) above.
--
-- Security. The app role holds SELECT only, so the function is SECURITY
-- DEFINER, owned by aegis_owner, with a fixed search_path and every name
-- qualified. aegis_owner is subject to the forced RLS too, so it writes a
-- tenant's rollup rows with saas.tenant_id set to that tenant:
--   * the app always has it set to its tenant, and the transition tables hold
--     only rows that ads.metrics_daily's own policy let it write, that is rows
--     of that tenant: the function never changes the setting for the app;
--   * a superuser (psql, a bulk load) bypasses RLS and may write several
--     tenants, or none set: the function sets each tenant of the statement's
--     rows in turn for its own writes and restores the caller's value.
-- The tenants written are therefore always those of rows the statement really
-- wrote in ads.metrics_daily, by exactly the amounts written: one tenant's
-- write cannot reach another tenant's totals. The function refuses to run for
-- any other table or kind of trigger, so it cannot be pointed at a table
-- whose rows name arbitrary tenants.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.tg_metrics_platform_daily() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_caller text := pg_catalog.current_setting('saas.tenant_id', true);
  v_delta ads_engine.metrics_platform_daily[];
  v_tenant uuid;
  v_tenants uuid[];
  v_scope text;
  v_updated bigint;
  v_switched boolean := false;
BEGIN
  IF TG_RELID <> 'ads.metrics_daily'::pg_catalog.regclass OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT' THEN
    RAISE EXCEPTION 'ads_engine.tg_metrics_platform_daily maintains ads_engine.metrics_platform_daily from ads.metrics_daily only (called for % % % on %)',
      TG_WHEN, TG_LEVEL, TG_OP, TG_RELID::pg_catalog.regclass
      USING ERRCODE = '42501';
  END IF;

  -- TRUNCATE ignores RLS and empties every tenant's metrics: the same for the totals.
  IF TG_OP = 'TRUNCATE' THEN
    BEGIN
      TRUNCATE ads_engine.metrics_platform_daily;
    EXCEPTION WHEN object_in_use THEN
      -- The rollup is open in this session, most often because this very
      -- TRUNCATE lists it too (TRUNCATE saas.tenants CASCADE) and has emptied
      -- it already. Delete whatever is left, tenant by tenant (listed through
      -- the scheduler's scan policy, as the owner).
      v_scope := pg_catalog.current_setting('ads_engine.scope', true);
      PERFORM pg_catalog.set_config('ads_engine.scope', 'all_tenants', true);
      SELECT pg_catalog.array_agg(t.id) INTO v_tenants FROM saas.tenants t;
      PERFORM pg_catalog.set_config('ads_engine.scope', coalesce(v_scope, ''), true);
      FOREACH v_tenant IN ARRAY coalesce(v_tenants, '{}') LOOP
        PERFORM pg_catalog.set_config('saas.tenant_id', v_tenant::text, true);
        DELETE FROM ads_engine.metrics_platform_daily r WHERE r.tenant_id = v_tenant;
      END LOOP;
      PERFORM pg_catalog.set_config('saas.tenant_id', coalesce(v_caller, ''), true);
    END;
    RETURN NULL;
  END IF;

  -- The statement's change per group, every tenant at once (one pass over the
  -- transition tables), as rows of the rollup's own type: the ROW(...) lists
  -- its columns in table order (a column added to the table is added here).
  IF TG_OP = 'INSERT' THEN
    SELECT pg_catalog.array_agg(ROW(g.tenant_id, g.level, g.platform, g.day, g.spend, g.impressions, g.clicks, g.conversions, g.conversion_value, g.n)
                                ::ads_engine.metrics_platform_daily)
      INTO v_delta
      FROM (SELECT n.tenant_id, n.level, n.platform, n.day, sum(n.spend) AS spend, sum(n.impressions) AS impressions, sum(n.clicks) AS clicks,
                   sum(n.conversions) AS conversions, sum(n.conversion_value) AS conversion_value, count(*)::integer AS n
              FROM new_rows n
             GROUP BY n.tenant_id, n.level, n.platform, n.day) g;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT pg_catalog.array_agg(ROW(g.tenant_id, g.level, g.platform, g.day, g.spend, g.impressions, g.clicks, g.conversions, g.conversion_value, g.n)
                                ::ads_engine.metrics_platform_daily)
      INTO v_delta
      FROM (SELECT o.tenant_id, o.level, o.platform, o.day, -sum(o.spend) AS spend, -sum(o.impressions) AS impressions, -sum(o.clicks) AS clicks,
                   -sum(o.conversions) AS conversions, -sum(o.conversion_value) AS conversion_value, -count(*)::integer AS n
              FROM old_rows o
             GROUP BY o.tenant_id, o.level, o.platform, o.day) g;
  ELSE
    SELECT pg_catalog.array_agg(ROW(g.tenant_id, g.level, g.platform, g.day, g.spend, g.impressions, g.clicks, g.conversions, g.conversion_value, g.n)
                                ::ads_engine.metrics_platform_daily)
      INTO v_delta
      FROM (SELECT u.tenant_id, u.level, u.platform, u.day, sum(u.spend) AS spend, sum(u.impressions) AS impressions, sum(u.clicks) AS clicks,
                   sum(u.conversions) AS conversions, sum(u.conversion_value) AS conversion_value, sum(u.n)::integer AS n
              FROM (SELECT n.tenant_id, n.level, n.platform, n.day, n.spend, n.impressions::numeric AS impressions, n.clicks::numeric AS clicks,
                           n.conversions, n.conversion_value, 1 AS n
                      FROM new_rows n
                    UNION ALL
                    SELECT o.tenant_id, o.level, o.platform, o.day, -o.spend, -o.impressions::numeric, -o.clicks::numeric,
                           -o.conversions, -o.conversion_value, -1
                      FROM old_rows o) u
             GROUP BY u.tenant_id, u.level, u.platform, u.day
             -- an update that changed no figure (names, custom metrics, first_* backfills) changes no total
            HAVING sum(u.n) <> 0 OR sum(u.spend) <> 0 OR sum(u.impressions) <> 0 OR sum(u.clicks) <> 0
                OR sum(u.conversions) <> 0 OR sum(u.conversion_value) <> 0) g;
  END IF;
  IF v_delta IS NULL THEN
    RETURN NULL;
  END IF;

  FOR v_tenant IN SELECT DISTINCT d.tenant_id FROM pg_catalog.unnest(v_delta) d LOOP
    IF v_tenant IS DISTINCT FROM saas.current_tenant_id() THEN
      PERFORM pg_catalog.set_config('saas.tenant_id', v_tenant::text, true);
      v_switched := true;
    END IF;
    -- A tenant deleted by this very statement (ON DELETE CASCADE from
    -- saas.tenants) has no totals left to keep: its rollup rows go with it.
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = v_tenant);

    -- The groups' existing rows, locked in key order first: two statements
    -- touching the same groups then wait for each other instead of deadlocking.
    PERFORM 1
       FROM ads_engine.metrics_platform_daily r
       JOIN pg_catalog.unnest(v_delta) d
         ON r.tenant_id = d.tenant_id AND r.level = d.level AND r.day = d.day AND r.platform = d.platform
      WHERE d.tenant_id = v_tenant
      ORDER BY r.level, r.day, r.platform
        FOR UPDATE OF r;

    IF TG_OP <> 'INSERT' THEN
      -- A group that loses rows, or whose rows changed in place, has a rollup
      -- row counting at least those rows: anything else means the rollup
      -- missed writes (see the table's comment), and it must not drift on.
      UPDATE ads_engine.metrics_platform_daily r
         SET spend = r.spend + d.spend,
             impressions = r.impressions + d.impressions,
             clicks = r.clicks + d.clicks,
             conversions = r.conversions + d.conversions,
             conversion_value = r.conversion_value + d.conversion_value,
             rows = r.rows + d.rows
        FROM pg_catalog.unnest(v_delta) d
       WHERE d.tenant_id = v_tenant AND d.rows <= 0
         AND r.tenant_id = d.tenant_id AND r.level = d.level AND r.day = d.day AND r.platform = d.platform
         AND r.rows + d.rows >= 0;
      GET DIAGNOSTICS v_updated = ROW_COUNT;
      IF v_updated <> (SELECT count(*) FROM pg_catalog.unnest(v_delta) d WHERE d.tenant_id = v_tenant AND d.rows <= 0) THEN
        RAISE EXCEPTION 'ads_engine.metrics_platform_daily is out of date for tenant % (rows of ads.metrics_daily changed without its triggers)', v_tenant
          USING ERRCODE = '55000',
                HINT = 'As the owner: SELECT ads_engine.rebuild_metrics_platform_daily(tenant_id), or redeploy db/media_buying_deployment.sql.';
      END IF;
      DELETE FROM ads_engine.metrics_platform_daily r
       USING pg_catalog.unnest(v_delta) d
       WHERE d.tenant_id = v_tenant AND d.rows < 0
         AND r.tenant_id = d.tenant_id AND r.level = d.level AND r.day = d.day AND r.platform = d.platform
         AND r.rows = 0;
    END IF;

    IF TG_OP <> 'DELETE' THEN
      -- Groups that gain rows: insert, or add to the row another transaction
      -- may have just inserted (ON CONFLICT waits for it, then adds to its version).
      INSERT INTO ads_engine.metrics_platform_daily AS r
             (tenant_id, level, platform, day, spend, impressions, clicks, conversions, conversion_value, rows)
      SELECT d.tenant_id, d.level, d.platform, d.day, d.spend, d.impressions, d.clicks, d.conversions, d.conversion_value, d.rows
        FROM pg_catalog.unnest(v_delta) d
       WHERE d.tenant_id = v_tenant AND d.rows > 0
       ORDER BY d.level, d.day, d.platform
      ON CONFLICT (tenant_id, level, day, platform) DO UPDATE
         SET spend = r.spend + EXCLUDED.spend,
             impressions = r.impressions + EXCLUDED.impressions,
             clicks = r.clicks + EXCLUDED.clicks,
             conversions = r.conversions + EXCLUDED.conversions,
             conversion_value = r.conversion_value + EXCLUDED.conversion_value,
             rows = r.rows + EXCLUDED.rows;
    END IF;
  END LOOP;

  IF v_switched THEN
    PERFORM pg_catalog.set_config('saas.tenant_id', coalesce(v_caller, ''), true);
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION ads_engine.tg_metrics_platform_daily() IS
  'Trigger of ads.metrics_daily (AFTER INSERT / UPDATE / DELETE FOR EACH STATEMENT with transition tables, and AFTER TRUNCATE): adds the statement''s '
  'change to ads_engine.metrics_platform_daily group by group (tenant, level, platform, day: + inserted, - deleted, + new - old updated rows) and deletes '
  'the groups left without rows; TRUNCATE empties it. Exact (numeric) and safe under concurrent loads (deltas on the latest row version). '
  'SECURITY DEFINER (owned by aegis_owner, search_path pg_catalog, pg_temp): the app may only read the rollup. It writes each tenant''s rows with '
  'saas.tenant_id set to that tenant (unchanged for the app, whose rows are all of its own tenant; set in turn, then restored, for a superuser''s '
  'statement over several tenants or none), so only the tenants of rows the statement wrote change, by what it wrote. Refuses any other table.';

DROP TRIGGER IF EXISTS metrics_platform_daily_insert ON ads.metrics_daily;
CREATE TRIGGER metrics_platform_daily_insert AFTER INSERT ON ads.metrics_daily
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_metrics_platform_daily();
DROP TRIGGER IF EXISTS metrics_platform_daily_update ON ads.metrics_daily;
CREATE TRIGGER metrics_platform_daily_update AFTER UPDATE ON ads.metrics_daily
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_metrics_platform_daily();
DROP TRIGGER IF EXISTS metrics_platform_daily_delete ON ads.metrics_daily;
CREATE TRIGGER metrics_platform_daily_delete AFTER DELETE ON ads.metrics_daily
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_metrics_platform_daily();
DROP TRIGGER IF EXISTS metrics_platform_daily_truncate ON ads.metrics_daily;
CREATE TRIGGER metrics_platform_daily_truncate AFTER TRUNCATE ON ads.metrics_daily
  FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_metrics_platform_daily();

-- ---------------------------------------------------------------------------
-- Re-aggregation of one tenant from ads.metrics_daily: for the deployment
-- (below) and for an operator after anything that bypassed the triggers
-- (ALTER TABLE ... DISABLE TRIGGER, session_replication_role = replica, a
-- restore of ads.metrics_daily alone). SECURITY INVOKER: only a role that may
-- write the rollup (the owner, its members, a superuser) gets past the first
-- check; the app role cannot.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.rebuild_metrics_platform_daily(p_tenant uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_caller text := current_setting('saas.tenant_id', true);
  v_entered boolean := false;
  v_deleted integer;
  v_written integer;
BEGIN
  PERFORM saas.assert_tenant(p_tenant);
  IF NOT (has_table_privilege('ads_engine.metrics_platform_daily', 'INSERT')
          AND has_table_privilege('ads_engine.metrics_platform_daily', 'UPDATE')
          AND has_table_privilege('ads_engine.metrics_platform_daily', 'DELETE')) THEN
    RAISE EXCEPTION 'ads_engine.rebuild_metrics_platform_daily is for the owner: % may not write ads_engine.metrics_platform_daily', current_user
      USING ERRCODE = '42501';
  END IF;
  -- The lock below makes every later statement see all committed writes only at READ COMMITTED.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'ads_engine.rebuild_metrics_platform_daily must run at READ COMMITTED (not %)', current_setting('transaction_isolation')
      USING ERRCODE = '25000';
  END IF;
  IF saas.current_tenant_id() IS NULL THEN
    PERFORM set_config('saas.tenant_id', p_tenant::text, true);
    v_entered := true;
  END IF;
  -- No write to ads.metrics_daily may land between the sums below and the
  -- commit (its delta would be overwritten): SHARE blocks writers, not readers.
  LOCK TABLE ads.metrics_daily IN SHARE MODE;

  DELETE FROM ads_engine.metrics_platform_daily r
   WHERE r.tenant_id = p_tenant
     AND NOT EXISTS (SELECT 1 FROM ads.metrics_daily m
                      WHERE m.tenant_id = r.tenant_id AND m.platform = r.platform AND m.level = r.level AND m.day = r.day);
  GET DIAGNOSTICS v_deleted = ROW_COUNT;

  -- Rows already right (the same figures, written the same way) are left untouched.
  INSERT INTO ads_engine.metrics_platform_daily AS r
         (tenant_id, level, platform, day, spend, impressions, clicks, conversions, conversion_value, rows)
  SELECT m.tenant_id, m.level, m.platform, m.day, sum(m.spend), sum(m.impressions), sum(m.clicks), sum(m.conversions), sum(m.conversion_value),
         count(*)::integer
    FROM ads.metrics_daily m
   WHERE m.tenant_id = p_tenant
   GROUP BY m.tenant_id, m.level, m.platform, m.day
  ON CONFLICT (tenant_id, level, day, platform) DO UPDATE
     SET spend = EXCLUDED.spend, impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, conversions = EXCLUDED.conversions,
         conversion_value = EXCLUDED.conversion_value, rows = EXCLUDED.rows
   WHERE ROW(r.spend, r.impressions, r.clicks, r.conversions, r.conversion_value, r.rows)::text
         IS DISTINCT FROM ROW(EXCLUDED.spend, EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.conversions, EXCLUDED.conversion_value, EXCLUDED.rows)::text;
  GET DIAGNOSTICS v_written = ROW_COUNT;

  IF v_entered THEN
    PERFORM set_config('saas.tenant_id', coalesce(v_caller, ''), true);
  END IF;
  RETURN v_deleted + v_written;
END
$$;
COMMENT ON FUNCTION ads_engine.rebuild_metrics_platform_daily(uuid) IS
  'Re-aggregates ads_engine.metrics_platform_daily for one tenant from ads.metrics_daily (deletes groups without rows, writes groups whose totals differ, '
  'leaves the others) and returns the number of rollup rows changed. Takes a SHARE lock on ads.metrics_daily until the end of the transaction (loads wait). '
  'For the deployment and operators after anything that bypassed the triggers; requires READ COMMITTED and write access to the rollup (not the app role). '
  'With no tenant set, sets saas.tenant_id to p_tenant for its own duration; refuses one that differs (saas.assert_tenant).';

-- ---------------------------------------------------------------------------
-- Check on every deployment: per tenant, the rollup's row count against
-- ads.metrics_daily's (two index-only counts, no sums, so a redeployment over
-- a large, correct table stays quick), and a re-aggregation of the tenants
-- that disagree. The first deployment of this part on a database with metrics
-- fills the rollup this way. Writers of ads.metrics_daily wait on the trigger
-- lock taken above until the deployment commits, so nothing lands unseen.
-- Tenants are listed through the scheduler's scan policy (owner only, while
-- ads_engine.scope is 'all_tenants'); each is then counted with its own
-- tenant setting, like the app.
-- ---------------------------------------------------------------------------
DO $rollup_check$
DECLARE
  v_scope text := current_setting('ads_engine.scope', true);
  v_caller text := current_setting('saas.tenant_id', true);
  v_tenants uuid[];
  v_tenant uuid;
  v_metrics bigint;
  v_rolled bigint;
  v_rebuilt integer := 0;
BEGIN
  PERFORM set_config('ads_engine.scope', 'all_tenants', true);
  SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') INTO v_tenants FROM saas.tenants t;
  PERFORM set_config('ads_engine.scope', coalesce(v_scope, ''), true);

  FOREACH v_tenant IN ARRAY v_tenants LOOP
    PERFORM set_config('saas.tenant_id', v_tenant::text, true);
    SELECT count(*) INTO v_metrics FROM ads.metrics_daily m WHERE m.tenant_id = v_tenant;
    SELECT coalesce(sum(r.rows), 0) INTO v_rolled FROM ads_engine.metrics_platform_daily r WHERE r.tenant_id = v_tenant;
    IF v_metrics <> v_rolled THEN
      PERFORM ads_engine.rebuild_metrics_platform_daily(v_tenant);
      v_rebuilt := v_rebuilt + 1;
    END IF;
  END LOOP;
  PERFORM set_config('saas.tenant_id', coalesce(v_caller, ''), true);

  IF v_rebuilt > 0 THEN
    RAISE NOTICE 'ads_engine.metrics_platform_daily: re-aggregated % of % tenants from ads.metrics_daily', v_rebuilt, cardinality(v_tenants);
  END IF;
END
$rollup_check$;

SET LOCAL aegis.media_part_055_rollups = 'done';
