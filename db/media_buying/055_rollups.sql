-- Media Buying, 055_rollups: two rollups of ads.metrics_daily, kept exactly
-- equal to it by the same statement-level triggers:
--   * ads_engine.metrics_platform_daily, the per-platform, per-day totals
--     (the performance page's cards, sparklines and chart);
--   * ads_engine.metrics_entity_weekly, the per-entity, per-ISO-week totals
--     (the entity table: whole weeks from here, edge days from the metrics).
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- Why here and not next to the table (020): the check at the end of this part
-- lists every tenant through the scheduler's read-only policy on saas.tenants
-- (optimizer_scheduler_scan, 050_run_log), so it comes after 050; and it runs
-- after 040, so on every deployment it finds ads.metrics_daily as the app sees it.
--
-- Re-applied on every deployment, so written to change nothing the second time:
-- the tables are created when missing, the functions replaced, the triggers
-- dropped and created again, and the totals re-aggregated only for a tenant
-- whose row counts disagree with ads.metrics_daily.

-- ---------------------------------------------------------------------------
-- The daily rollup. Keyed for the performance page's read: one tenant, one
-- level, a range of days, some platforms (lib/performance/queries.ts, readDaily).
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
-- The weekly rollup per entity. Keyed for the entity table's read
-- (lib/performance/entity-sums.ts): one tenant, one level, some platforms, a
-- range of weeks, every entity in them; each platform's weeks are one range
-- of the key. A range of days takes its whole weeks from here and its edge
-- days (those in weeks it covers only in part) from ads.metrics_daily.
--   * week is the ISO week's Monday, date_trunc('week', day) (the check below);
--   * campaign_id is the rows' parent as ads.metrics_daily has it, '' for
--     NULL (a key column is NOT NULL), and part of the group: an entity whose
--     parent changed within a week has one row per parent, so a filter on
--     campaign_id is as exact here as on ads.metrics_daily (only '' itself
--     cannot tell a NULL parent from an empty one: entity-sums reads that
--     filter from the days).
-- Figures plain numeric, as in the daily rollup.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.metrics_entity_weekly (
  tenant_id         uuid              NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  level             ads.entity_level  NOT NULL,
  platform          ads.platform      NOT NULL,
  week              date              NOT NULL,
  platform_id       text              NOT NULL,
  campaign_id       text              NOT NULL,
  spend             numeric           NOT NULL,
  impressions       numeric           NOT NULL,
  clicks            numeric           NOT NULL,
  conversions       numeric           NOT NULL,
  conversion_value  numeric           NOT NULL,
  rows              integer           NOT NULL,
  CONSTRAINT metrics_entity_weekly_pkey PRIMARY KEY (tenant_id, level, platform, week, platform_id, campaign_id),
  CONSTRAINT metrics_entity_weekly_week_check CHECK (week = date_trunc('week', week::timestamp)::date),
  CONSTRAINT metrics_entity_weekly_rows_check CHECK (rows >= 0)
);
COMMENT ON TABLE ads_engine.metrics_entity_weekly IS
  'Totals of ads.metrics_daily per tenant, level, platform, ISO week (its Monday, date_trunc(''week'', day)), entity (platform_id) and parent '
  '(coalesce(campaign_id, '''')): sums of spend, impressions, clicks, conversions, conversion_value and rows, always equal to SELECT ... GROUP BY over it. '
  'Maintained by the same triggers and function as ads_engine.metrics_platform_daily (ads_engine.tg_metrics_platform_daily), in the same statement; '
  'checked and repaired with it by the deployment (ads_engine.rebuild_metrics_platform_daily). Read-only for the app.';
COMMENT ON COLUMN ads_engine.metrics_entity_weekly.week IS
  'Monday of the ISO week of the rows'' days: date_trunc(''week'', day::timestamp)::date.';
COMMENT ON COLUMN ads_engine.metrics_entity_weekly.campaign_id IS
  'The rows'' ads.metrics_daily.campaign_id, '''' where it is NULL. Part of the key: a parent changed within the week gives one row per parent.';
COMMENT ON COLUMN ads_engine.metrics_entity_weekly.rows IS
  'Number of ads.metrics_daily rows in the group (1 to 7; a group without rows has no rollup row). The deployment compares its sum with count(*).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.metrics_entity_weekly');
REVOKE ALL ON ads_engine.metrics_entity_weekly FROM PUBLIC;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ads_engine.metrics_entity_weekly FROM aegis_app;
GRANT SELECT ON ads_engine.metrics_entity_weekly TO aegis_app;

-- ---------------------------------------------------------------------------
-- The trigger function: one function for the three statement-level triggers
-- (transition tables allow one event per trigger) and TRUNCATE, for both
-- rollups.
--
-- It applies the statement's change as a delta, set-based, first to the daily
-- rollup, then to the weekly one, always in that order (two statements then
-- wait for each other at the first rollup they share, never crosswise); for
-- each rollup, one statement and at most one more:
--   1. the transition tables, read once as signed rows (+ an inserted row and
--      an updated row's new version, - a deleted row and an updated row's old
--      version: an update that moves a row to another day, week, platform or
--      parent leaves one group and enters the other; INSERT ... ON CONFLICT DO
--      UPDATE fires the insert trigger with the inserted rows and the update
--      trigger with the updated ones), are summed per group into the delta,
--      the groups whose delta is all zeros left out;
--   2. in the same statement, one INSERT ... ON CONFLICT DO UPDATE, in key
--      order, adds the delta to each group's row, or inserts the row of a new
--      group, and returns the ctids of the groups left with no rows;
--   3. one DELETE of those, by ctid.
-- The rows a group loses travel marked. The CHECK (rows >= 0) applies to the
-- row an INSERT proposes even when that row then conflicts, so a proposed row
-- cannot carry a negative count: a group that loses k rows proposes
-- v_lost + k (v_lost = 2^30), which the update takes off as k. A count from
-- 2^30 up is therefore always a mark, never a count (a group is one tenant's
-- platform and level on one day, or one entity's week: far fewer rows).
--
-- The rollup missed writes (see the table's comment) where the change takes
-- rows from a group that has no row (the row the upsert inserts keeps the
-- mark), takes more rows than the group counts (the update leaves the mark
-- rather than a negative count), restates the figures of a group that has no
-- row (inserted with no rows but totals), or empties a group whose totals do
-- not come to zero: the statement then fails rather than let the rollup drift
-- on, and no mark is ever committed.
--
-- Deltas rather than a new sum over ads.metrics_daily: numeric addition is
-- exact, and under concurrency a delta is the only correct write. Two loads of
-- the same group in two transactions cannot see each other's rows, so a
-- re-aggregation by the second would overwrite the first's total when it
-- commits; ON CONFLICT DO UPDATE adds the delta to the row's latest version,
-- after waiting for a transaction that is inserting or changing it (or
-- inserts the group again after one that deleted it), at READ COMMITTED (and
-- fails with a serialization failure above). The upsert locks the groups' rows
-- in key order, so two statements wait for each other at the first group they
-- share instead of deadlocking; the DELETE removes only rows it locked.
--
-- No statement joins the delta to a rollup table: each group reaches its row
-- through the primary key (ON CONFLICT) or its ctid, whatever the planner
-- believes of the table (a join once scanned a tenant's whole rollup for each
-- group when the statistics predated a large load: 3 s for one restatement of
-- 4,000 rows). Steps 1 and 2 run with EXECUTE, planned for each firing with
-- the transition tables' sizes (one row to millions) known, where a plan
-- cached from a small statement would serve a large one.
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
-- whose rows name arbitrary tenants. The text it EXECUTEs is made of this
-- function's own constants; values pass as parameters.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.tg_metrics_platform_daily() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_caller text := pg_catalog.current_setting('saas.tenant_id', true);
  v_changes text;
  v_tenant uuid;
  v_tenants uuid[];
  v_others boolean;
  v_only text;
  v_scope text;
  v_lost CONSTANT integer := 1073741824;  -- 2^30, the mark of rows lost (above)
  -- Both rollups' conflict action and answer: the delta added (a marked count subtracted), and the groups left
  -- empty (to delete) or wrong (rows lost that the group never had, or totals without rows: to refuse).
  v_merge CONSTANT text := $m$DO UPDATE
           SET spend = r.spend + EXCLUDED.spend, impressions = r.impressions + EXCLUDED.impressions, clicks = r.clicks + EXCLUDED.clicks,
               conversions = r.conversions + EXCLUDED.conversions, conversion_value = r.conversion_value + EXCLUDED.conversion_value,
               rows = CASE WHEN EXCLUDED.rows < $2 THEN r.rows + EXCLUDED.rows
                           WHEN r.rows >= EXCLUDED.rows - $2 THEN r.rows - (EXCLUDED.rows - $2)
                           ELSE $2 END
        RETURNING r.ctid AS tid, r.rows,
                  r.spend = 0 AND r.impressions = 0 AND r.clicks = 0 AND r.conversions = 0 AND r.conversion_value = 0 AS zero
      )
      SELECT pg_catalog.array_agg(w.tid) FILTER (WHERE w.rows = 0), pg_catalog.count(*) FILTER (WHERE w.rows >= $2 OR (w.rows = 0 AND NOT w.zero))
        FROM w$m$;
  v_gone pg_catalog.tid[];
  v_missing bigint;
  v_switched boolean := false;
BEGIN
  IF TG_RELID <> 'ads.metrics_daily'::pg_catalog.regclass OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT' THEN
    RAISE EXCEPTION 'ads_engine.tg_metrics_platform_daily maintains ads_engine.metrics_platform_daily and ads_engine.metrics_entity_weekly from ads.metrics_daily only (called for % % % on %)',
      TG_WHEN, TG_LEVEL, TG_OP, TG_RELID::pg_catalog.regclass
      USING ERRCODE = '42501';
  END IF;

  -- TRUNCATE ignores RLS and empties every tenant's metrics: the same for the totals.
  IF TG_OP = 'TRUNCATE' THEN
    BEGIN
      TRUNCATE ads_engine.metrics_platform_daily, ads_engine.metrics_entity_weekly;
    EXCEPTION WHEN object_in_use THEN
      -- A rollup is open in this session, most often because this very
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
        DELETE FROM ads_engine.metrics_entity_weekly r WHERE r.tenant_id = v_tenant;
      END LOOP;
      PERFORM pg_catalog.set_config('saas.tenant_id', coalesce(v_caller, ''), true);
    END;
    RETURN NULL;
  END IF;

  -- The statement's rows, signed (step 1's input): a row written counts +1
  -- with its figures, a row removed -1 with its figures negated. They are
  -- read once beforehand, without sorting or hashing, for their tenants: the
  -- caller's alone for every write of the app (ads.metrics_daily's policy
  -- lets it write no other); else, for a role that bypasses RLS, each tenant
  -- of the rows, in order. A statement that wrote no row (an import with
  -- nothing new) changes nothing.
  v_tenant := saas.current_tenant_id();
  IF TG_OP = 'INSERT' THEN
    SELECT pg_catalog.bool_or(n.tenant_id IS DISTINCT FROM v_tenant) INTO v_others FROM new_rows n;
    v_changes := 'SELECT n.tenant_id, n.level, n.platform, n.day, n.platform_id, n.campaign_id,
                         n.spend, n.impressions, n.clicks, n.conversions, n.conversion_value, 1 AS n
                    FROM new_rows n';
  ELSIF TG_OP = 'DELETE' THEN
    SELECT pg_catalog.bool_or(o.tenant_id IS DISTINCT FROM v_tenant) INTO v_others FROM old_rows o;
    v_changes := 'SELECT o.tenant_id, o.level, o.platform, o.day, o.platform_id, o.campaign_id,
                         -o.spend AS spend, -o.impressions AS impressions, -o.clicks AS clicks, -o.conversions AS conversions,
                         -o.conversion_value AS conversion_value, -1 AS n
                    FROM old_rows o';
  ELSE
    SELECT pg_catalog.bool_or(c.tenant_id IS DISTINCT FROM v_tenant) INTO v_others
      FROM (SELECT n.tenant_id FROM new_rows n UNION ALL SELECT o.tenant_id FROM old_rows o) c;
    v_changes := 'SELECT n.tenant_id, n.level, n.platform, n.day, n.platform_id, n.campaign_id,
                         n.spend, n.impressions, n.clicks, n.conversions, n.conversion_value, 1 AS n
                    FROM new_rows n
                  UNION ALL
                  SELECT o.tenant_id, o.level, o.platform, o.day, o.platform_id, o.campaign_id,
                         -o.spend, -o.impressions, -o.clicks, -o.conversions, -o.conversion_value, -1
                    FROM old_rows o';
  END IF;
  IF v_others IS NULL THEN
    RETURN NULL;
  END IF;
  IF v_others THEN
    EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(t.tenant_id ORDER BY t.tenant_id) FROM (SELECT DISTINCT c.tenant_id FROM (%s) c) t', v_changes)
       INTO v_tenants;
  ELSE
    v_tenants := ARRAY[v_tenant];
  END IF;
  -- Each tenant's rows are picked by a filter only where there are several:
  -- the planner cannot know how many rows it keeps (it assumes a few), and
  -- sizes the aggregation of a large statement for a small one.
  v_only := CASE WHEN pg_catalog.cardinality(v_tenants) > 1 THEN 'WHERE c.tenant_id = $1' ELSE '' END;

  FOREACH v_tenant IN ARRAY v_tenants LOOP
    IF v_tenant IS DISTINCT FROM saas.current_tenant_id() THEN
      PERFORM pg_catalog.set_config('saas.tenant_id', v_tenant::text, true);
      v_switched := true;
    END IF;
    -- A tenant deleted by this very statement (ON DELETE CASCADE from
    -- saas.tenants) has no totals left to keep: its rollup rows go with it.
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = v_tenant);

    -- The daily rollup (an update that moved rows only between parents
    -- changes no daily total: its delta is empty here). The delta d and its
    -- upsert w (step 2: the rows gained, or the mark of the rows lost), then
    -- from w's rows as written: the ctids of those left with no rows, and how
    -- many show missed writes (marked, or no rows but totals).
    EXECUTE pg_catalog.format($q$
      WITH d AS (
        SELECT c.level, c.platform, c.day, sum(c.spend) AS spend, sum(c.impressions) AS impressions, sum(c.clicks) AS clicks,
               sum(c.conversions) AS conversions, sum(c.conversion_value) AS conversion_value, sum(c.n)::integer AS n
          FROM (%s) c
        %s
         GROUP BY c.level, c.platform, c.day
        -- an update that changed no figure (names, custom metrics, first_* backfills) changes no total
        HAVING sum(c.n) <> 0 OR sum(c.spend) <> 0 OR sum(c.impressions) <> 0 OR sum(c.clicks) <> 0
            OR sum(c.conversions) <> 0 OR sum(c.conversion_value) <> 0
      ), w AS (
        INSERT INTO ads_engine.metrics_platform_daily AS r
               (tenant_id, level, platform, day, spend, impressions, clicks, conversions, conversion_value, rows)
        SELECT $1, d.level, d.platform, d.day, d.spend, d.impressions, d.clicks, d.conversions, d.conversion_value,
               CASE WHEN d.n >= 0 THEN d.n ELSE $2 - d.n END
          FROM d
         ORDER BY d.level, d.day, d.platform
        ON CONFLICT (tenant_id, level, day, platform) %s$q$, v_changes, v_only, v_merge) INTO v_gone, v_missing USING v_tenant, v_lost;
    IF v_missing > 0 THEN
      RAISE EXCEPTION 'ads_engine.metrics_platform_daily is out of date for tenant % (rows of ads.metrics_daily changed without its triggers)', v_tenant
        USING ERRCODE = '55000',
              HINT = 'As the owner: SELECT ads_engine.rebuild_metrics_platform_daily(tenant_id), or redeploy db/media_buying_deployment.sql.';
    END IF;
    IF v_gone IS NOT NULL THEN
      DELETE FROM ads_engine.metrics_platform_daily r WHERE r.ctid = ANY (v_gone);
    END IF;

    -- The weekly rollup: the same steps on its groups.
    EXECUTE pg_catalog.format($q$
      WITH d AS (
        SELECT c.level, c.platform, pg_catalog.date_trunc('week', c.day::timestamp)::date AS week, c.platform_id, coalesce(c.campaign_id, '') AS campaign_id,
               sum(c.spend) AS spend, sum(c.impressions) AS impressions, sum(c.clicks) AS clicks,
               sum(c.conversions) AS conversions, sum(c.conversion_value) AS conversion_value, sum(c.n)::integer AS n
          FROM (%s) c
        %s
         GROUP BY 1, 2, 3, 4, 5
        -- the same: a row that keeps its week, entity, parent and figures changes nothing
        HAVING sum(c.n) <> 0 OR sum(c.spend) <> 0 OR sum(c.impressions) <> 0 OR sum(c.clicks) <> 0
            OR sum(c.conversions) <> 0 OR sum(c.conversion_value) <> 0
      ), w AS (
        INSERT INTO ads_engine.metrics_entity_weekly AS r
               (tenant_id, level, platform, week, platform_id, campaign_id, spend, impressions, clicks, conversions, conversion_value, rows)
        SELECT $1, d.level, d.platform, d.week, d.platform_id, d.campaign_id, d.spend, d.impressions, d.clicks, d.conversions, d.conversion_value,
               CASE WHEN d.n >= 0 THEN d.n ELSE $2 - d.n END
          FROM d
         ORDER BY d.level, d.platform, d.week, d.platform_id, d.campaign_id
        ON CONFLICT (tenant_id, level, platform, week, platform_id, campaign_id) %s$q$, v_changes, v_only, v_merge) INTO v_gone, v_missing USING v_tenant, v_lost;
    IF v_missing > 0 THEN
      RAISE EXCEPTION 'ads_engine.metrics_entity_weekly is out of date for tenant % (rows of ads.metrics_daily changed without its triggers)', v_tenant
        USING ERRCODE = '55000',
              HINT = 'As the owner: SELECT ads_engine.rebuild_metrics_platform_daily(tenant_id), or redeploy db/media_buying_deployment.sql.';
    END IF;
    IF v_gone IS NOT NULL THEN
      DELETE FROM ads_engine.metrics_entity_weekly r WHERE r.ctid = ANY (v_gone);
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
  'change to ads_engine.metrics_platform_daily (groups: tenant, level, platform, day) and then to ads_engine.metrics_entity_weekly (groups: tenant, level, '
  'platform, ISO week, platform_id, coalesce(campaign_id, '''')), set-based: per rollup one pass over the transition tables (+ inserted, - deleted, '
  '+ new - old updated rows, summed per group), one INSERT ... ON CONFLICT DO UPDATE adding that delta in key order (rows lost proposed as 2^30 + k, '
  'since the CHECK applies to the proposed row), and one DELETE of the groups left without rows; TRUNCATE empties both. Exact (numeric) and safe '
  'under concurrent loads (deltas on the latest row version); fails (55000) when a rollup missed writes. '
  'SECURITY DEFINER (owned by aegis_owner, search_path pg_catalog, pg_temp): the app may only read the rollups. It writes each tenant''s rows with '
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
-- Re-aggregation of one tenant's two rollups from ads.metrics_daily: for the
-- deployment (below) and for an operator after anything that bypassed the
-- triggers (ALTER TABLE ... DISABLE TRIGGER, session_replication_role =
-- replica, a restore of ads.metrics_daily alone). SECURITY INVOKER: only a
-- role that may write the rollups (the owner, its members, a superuser) gets
-- past the first check; the app role cannot.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION ads_engine.rebuild_metrics_platform_daily(p_tenant uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_caller text := current_setting('saas.tenant_id', true);
  v_entered boolean := false;
  v_changed integer := 0;
  v_count integer;
BEGIN
  PERFORM saas.assert_tenant(p_tenant);
  IF NOT (has_table_privilege('ads_engine.metrics_platform_daily', 'INSERT')
          AND has_table_privilege('ads_engine.metrics_platform_daily', 'UPDATE')
          AND has_table_privilege('ads_engine.metrics_platform_daily', 'DELETE')
          AND has_table_privilege('ads_engine.metrics_entity_weekly', 'INSERT')
          AND has_table_privilege('ads_engine.metrics_entity_weekly', 'UPDATE')
          AND has_table_privilege('ads_engine.metrics_entity_weekly', 'DELETE')) THEN
    RAISE EXCEPTION 'ads_engine.rebuild_metrics_platform_daily is for the owner: % may not write ads_engine.metrics_platform_daily and ads_engine.metrics_entity_weekly', current_user
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

  -- The daily rollup. Rows already right (the same figures, written the same
  -- way) are left untouched, here and in the weekly one.
  DELETE FROM ads_engine.metrics_platform_daily r
   WHERE r.tenant_id = p_tenant
     AND NOT EXISTS (SELECT 1 FROM ads.metrics_daily m
                      WHERE m.tenant_id = r.tenant_id AND m.platform = r.platform AND m.level = r.level AND m.day = r.day);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  v_changed := v_changed + v_count;

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
  GET DIAGNOSTICS v_count = ROW_COUNT;
  v_changed := v_changed + v_count;

  -- The weekly rollup (a group's days: its week's Monday to Sunday, by the primary key of ads.metrics_daily).
  DELETE FROM ads_engine.metrics_entity_weekly r
   WHERE r.tenant_id = p_tenant
     AND NOT EXISTS (SELECT 1 FROM ads.metrics_daily m
                      WHERE m.tenant_id = r.tenant_id AND m.platform = r.platform AND m.level = r.level AND m.platform_id = r.platform_id
                        AND m.day BETWEEN r.week AND r.week + 6 AND coalesce(m.campaign_id, '') = r.campaign_id);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  v_changed := v_changed + v_count;

  INSERT INTO ads_engine.metrics_entity_weekly AS r
         (tenant_id, level, platform, week, platform_id, campaign_id, spend, impressions, clicks, conversions, conversion_value, rows)
  SELECT m.tenant_id, m.level, m.platform, date_trunc('week', m.day::timestamp)::date, m.platform_id, coalesce(m.campaign_id, ''),
         sum(m.spend), sum(m.impressions), sum(m.clicks), sum(m.conversions), sum(m.conversion_value), count(*)::integer
    FROM ads.metrics_daily m
   WHERE m.tenant_id = p_tenant
   GROUP BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (tenant_id, level, platform, week, platform_id, campaign_id) DO UPDATE
     SET spend = EXCLUDED.spend, impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, conversions = EXCLUDED.conversions,
         conversion_value = EXCLUDED.conversion_value, rows = EXCLUDED.rows
   WHERE ROW(r.spend, r.impressions, r.clicks, r.conversions, r.conversion_value, r.rows)::text
         IS DISTINCT FROM ROW(EXCLUDED.spend, EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.conversions, EXCLUDED.conversion_value, EXCLUDED.rows)::text;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  v_changed := v_changed + v_count;

  IF v_entered THEN
    PERFORM set_config('saas.tenant_id', coalesce(v_caller, ''), true);
  END IF;
  RETURN v_changed;
END
$$;
COMMENT ON FUNCTION ads_engine.rebuild_metrics_platform_daily(uuid) IS
  'Re-aggregates ads_engine.metrics_platform_daily and ads_engine.metrics_entity_weekly for one tenant from ads.metrics_daily (deletes groups without '
  'rows, writes groups whose totals differ, leaves the others) and returns the number of rollup rows changed in both. Takes a SHARE lock on '
  'ads.metrics_daily until the end of the transaction (loads wait). For the deployment and operators after anything that bypassed the triggers; '
  'requires READ COMMITTED and write access to the rollups (not the app role). With no tenant set, sets saas.tenant_id to p_tenant for its own '
  'duration; refuses one that differs (saas.assert_tenant).';

-- ---------------------------------------------------------------------------
-- Check on every deployment: per tenant, each rollup's row count against
-- ads.metrics_daily's (counts, no sums, so a redeployment over a large,
-- correct table stays quick), and a re-aggregation of the tenants where
-- either disagrees. The first deployment of a rollup on a database with
-- metrics fills it this way. Writers of ads.metrics_daily wait on the trigger
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
  v_daily bigint;
  v_weekly bigint;
  v_rebuilt integer := 0;
BEGIN
  PERFORM set_config('ads_engine.scope', 'all_tenants', true);
  SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') INTO v_tenants FROM saas.tenants t;
  PERFORM set_config('ads_engine.scope', coalesce(v_scope, ''), true);

  FOREACH v_tenant IN ARRAY v_tenants LOOP
    PERFORM set_config('saas.tenant_id', v_tenant::text, true);
    SELECT count(*) INTO v_metrics FROM ads.metrics_daily m WHERE m.tenant_id = v_tenant;
    SELECT coalesce(sum(r.rows), 0) INTO v_daily FROM ads_engine.metrics_platform_daily r WHERE r.tenant_id = v_tenant;
    SELECT coalesce(sum(r.rows), 0) INTO v_weekly FROM ads_engine.metrics_entity_weekly r WHERE r.tenant_id = v_tenant;
    IF v_metrics <> v_daily OR v_metrics <> v_weekly THEN
      PERFORM ads_engine.rebuild_metrics_platform_daily(v_tenant);
      v_rebuilt := v_rebuilt + 1;
    END IF;
  END LOOP;
  PERFORM set_config('saas.tenant_id', coalesce(v_caller, ''), true);

  IF v_rebuilt > 0 THEN
    RAISE NOTICE 'ads_engine.metrics_platform_daily, ads_engine.metrics_entity_weekly: re-aggregated % of % tenants from ads.metrics_daily', v_rebuilt, cardinality(v_tenants);
  END IF;
END
$rollup_check$;

SET LOCAL aegis.media_part_055_rollups = 'done';
