-- Media Buying, 110_daily_loop: maintenance, the daily loop and the scheduler.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- Maintenance and the daily loop
-- ---------------------------------------------------------------------------
-- Whether the maintenance below has anything to do: the conditions of its
-- three writes. Most passes find nothing due, and then write nothing.
-- (plpgsql, whose plan is kept for the session: a SQL function with its own
-- search_path is planned again on every call.)
CREATE OR REPLACE FUNCTION ads_engine.maintenance_due(p_tenant uuid)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM ads.optimization_recommendations o
                  WHERE o.tenant_id = p_tenant AND o.status = 'pending' AND o.expires_at <= pg_catalog.now())
      OR EXISTS (SELECT 1 FROM ads.anomalies an
                  WHERE an.tenant_id = p_tenant AND an.status = 'resolved' AND an.resolved_at < pg_catalog.now() - interval '30 days')
      OR EXISTS (SELECT 1 FROM ads.ab_tests t
                  WHERE t.tenant_id = p_tenant AND t.status = 'running' AND t.end_date <= ads_engine.tenant_yesterday(p_tenant));
END
$$;
COMMENT ON FUNCTION ads_engine.maintenance_due(uuid) IS
  'Whether ads_engine.run_maintenance would change anything for the tenant now: a pending recommendation past expires_at, a resolved anomaly older '
  'than 30 days, a running A/B test past its end_date in the tenant''s calendar.';

CREATE OR REPLACE FUNCTION ads_engine.run_maintenance(p_tenant uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_expired integer;
  v_deleted integer;
  v_completed integer;
BEGIN
  IF NOT ads_engine.maintenance_due(p_tenant) THEN
    PERFORM ads_engine.leave_tenant(v_entered);
    RETURN jsonb_build_object('recommendations_expired', 0, 'anomalies_deleted', 0, 'ab_tests_completed', 0);
  END IF;
  v_expired := ads_engine.expire_recommendations(p_tenant);
  DELETE FROM ads.anomalies an
   WHERE an.tenant_id = p_tenant AND an.status = 'resolved' AND an.resolved_at < now() - interval '30 days';
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  -- "past end_date" in the tenant's calendar: its today is its yesterday + 1
  UPDATE ads.ab_tests t SET status = 'completed', updated_at = now()
   WHERE t.tenant_id = p_tenant AND t.status = 'running' AND t.end_date <= ads_engine.tenant_yesterday(p_tenant);
  GET DIAGNOSTICS v_completed = ROW_COUNT;
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN jsonb_build_object('recommendations_expired', v_expired, 'anomalies_deleted', v_deleted, 'ab_tests_completed', v_completed);
END
$$;
COMMENT ON FUNCTION ads_engine.run_maintenance(uuid) IS
  'The guide''s maintenance for one tenant: expires pending recommendations past expires_at (ads_engine.expire_recommendations), deletes resolved anomalies '
  'older than 30 days, completes running A/B tests whose end_date is before the tenant''s today (saas.tenants.timezone). Returns the counts.';

CREATE OR REPLACE FUNCTION ads_engine.run_daily_loop(
  p_tenant uuid, p_as_of date DEFAULT NULL, p_trigger text DEFAULT 'manual')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_as_of date := ads_engine.tenant_as_of(p_tenant, p_as_of);
  v_summary jsonb;
  v_snapshot pg_catalog.pg_snapshot;
  v_epoch bigint;
  v_state jsonb;
  v_pending boolean;
  v_due boolean;
  v_arrived boolean;
  v_ab_tests bigint;
  v_changes text[];
  v_auto_apply boolean;
  v_decided_before bigint;
  v_settled boolean;
  -- the record of earlier passes (db/migrations/017), absent between this file and the migrations on a new database
  v_incremental boolean := pg_catalog.to_regclass('ads_engine.loop_state') IS NOT NULL;
BEGIN
  IF p_trigger IS NULL OR p_trigger NOT IN ('schedule', 'manual', 'cli') THEN
    RAISE EXCEPTION 'trigger must be schedule, manual or cli (got %)', coalesce(p_trigger, 'NULL') USING ERRCODE = '22023';
  END IF;
  -- One loop per tenant at a time (scheduler, UI and command line may overlap).
  PERFORM pg_advisory_xact_lock(hashtext('aegis.optimizer'), hashtext(p_tenant::text));
  -- Taken after the lock, so it holds the tenant's previous pass: what this
  -- pass starts from. Every later statement sees at least as much.
  v_snapshot := pg_catalog.pg_current_snapshot();
  -- What every pass needs first, in one read: whether maintenance is due,
  -- whether the day's metrics had arrived (the scheduler runs a day again
  -- when they arrive after a run without them: ads_engine.tenants_due), the
  -- A/B tests the pass reads next (lib/abtests/evaluate.ts, skipped or not:
  -- running ones, completed ones without a winner), and the last full pass.
  IF v_incremental THEN
    SELECT ads_engine.maintenance_due(p_tenant),
           EXISTS (SELECT 1 FROM ads.metrics_daily m WHERE m.tenant_id = p_tenant AND m.day >= v_as_of),
           (SELECT count(*) FROM ads.ab_tests t WHERE t.tenant_id = p_tenant AND (t.status = 'running' OR (t.status = 'completed' AND t.winner IS NULL))),
           (SELECT to_jsonb(s) FROM ads_engine.loop_state s WHERE s.tenant_id = p_tenant),
           (SELECT e.last_value FROM ads_engine.loop_epoch e),
           EXISTS (SELECT 1 FROM ads_engine.loop_changes c WHERE c.tenant_id = p_tenant)
      INTO v_due, v_arrived, v_ab_tests, v_state, v_epoch, v_pending;
    -- This pass's own writes are not changes to its inputs (ads_engine.tg_loop_input_changed).
    PERFORM pg_catalog.set_config('ads_engine.loop_writes', pg_catalog.pg_current_xact_id()::text, true);
  ELSE
    SELECT ads_engine.maintenance_due(p_tenant),
           EXISTS (SELECT 1 FROM ads.metrics_daily m WHERE m.tenant_id = p_tenant AND m.day >= v_as_of),
           (SELECT count(*) FROM ads.ab_tests t WHERE t.tenant_id = p_tenant AND (t.status = 'running' OR (t.status = 'completed' AND t.winner IS NULL)))
      INTO v_due, v_arrived, v_ab_tests;
  END IF;

  -- Maintenance first, on every pass: expired recommendations are counted
  -- here (and no longer block fresh ones), tests past their end completed.
  v_summary := CASE WHEN v_due THEN ads_engine.run_maintenance(p_tenant)
                    ELSE jsonb_build_object('recommendations_expired', 0, 'anomalies_deleted', 0, 'ab_tests_completed', 0) END;
  v_summary := v_summary || jsonb_build_object('as_of', v_as_of, 'data_arrived', v_arrived, 'ab_tests_to_read', v_ab_tests);

  -- What differs from the last full pass for this day. Nothing: the same
  -- inputs give the same results, which are already written.
  v_changes := CASE WHEN v_incremental THEN ads_engine.loop_changes_since(p_tenant, v_as_of, v_state, v_epoch, v_pending)
                    ELSE ARRAY['no record of earlier passes'] END;
  -- (a test it completed is read by the A/B step, which every pass runs)
  IF (v_summary ->> 'recommendations_expired')::integer + (v_summary ->> 'anomalies_deleted')::integer > 0 THEN
    v_changes := v_changes || 'maintenance'::text;
  END IF;

  IF cardinality(v_changes) = 0 THEN
    v_summary := v_summary || jsonb_build_object(
      'baselines', v_state -> 'summary' -> 'baselines', 'campaigns_analyzed', v_state -> 'summary' -> 'campaigns_analyzed',
      'recommendations', 0, 'anomalies', 0,
      -- time-driven, so never skipped (measured only when one is due: the condition of measure_outcomes' loop)
      'outcomes_measured', CASE WHEN EXISTS (
          SELECT 1 FROM ads_engine.recommendation_outcomes ro
           WHERE ro.tenant_id = p_tenant
             AND ((ro.measured_at_7 IS NULL AND ro.applied_day + 7 <= v_as_of) OR (ro.measured_at_14 IS NULL AND ro.applied_day + 14 <= v_as_of)))
        THEN ads_engine.measure_outcomes(p_tenant, v_as_of) ELSE 0 END,
      'skipped', true, 'changes', '[]'::jsonb);
    IF (v_summary ->> 'outcomes_measured')::integer > 0 THEN
      -- the track record the recommendations read has moved: the next pass redoes them
      UPDATE ads_engine.loop_state s SET settled = false WHERE s.tenant_id = p_tenant;
    END IF;
  ELSE
    -- Recommendations applied or expired by this pass change what it reads
    -- itself (budgets, what blocks a fresh recommendation): only auto-apply does that.
    v_auto_apply := EXISTS (SELECT 1 FROM ads.platform_configs c WHERE c.tenant_id = p_tenant AND c.auto_apply_recommendations);
    IF v_auto_apply THEN
      v_decided_before := (SELECT count(*) FROM ads.optimization_recommendations o
                            WHERE o.tenant_id = p_tenant AND o.status IN ('applied', 'expired'));
    END IF;
    -- one step after the other, in this order
    v_summary := v_summary || jsonb_build_object('baselines', ads_engine.compute_baselines(p_tenant, v_as_of));
    v_summary := v_summary || jsonb_build_object('campaigns_analyzed', ads_engine.record_campaign_performance(p_tenant, 7, v_as_of));
    v_summary := v_summary || jsonb_build_object('recommendations', ads_engine.generate_recommendations(p_tenant, v_as_of));
    v_summary := v_summary || jsonb_build_object('anomalies', ads_engine.detect_anomalies(p_tenant, v_as_of));
    v_summary := v_summary || jsonb_build_object('outcomes_measured', ads_engine.measure_outcomes(p_tenant, v_as_of));
    -- kept for the pages, which mark the days whose conversions are still coming in
    PERFORM ads_engine.store_conversion_lag(p_tenant, v_as_of);
    v_summary := v_summary || jsonb_build_object('skipped', false, 'changes', to_jsonb(v_changes));

    v_settled := (v_summary ->> 'outcomes_measured')::integer = 0
                 AND (NOT v_auto_apply OR v_decided_before = (SELECT count(*) FROM ads.optimization_recommendations o
                                                              WHERE o.tenant_id = p_tenant AND o.status IN ('applied', 'expired')));
  END IF;
  IF v_incremental AND (v_summary ->> 'skipped')::boolean THEN
    -- changes of days no step reads, seen and left aside (they stay irrelevant: an anomaly that would make
    -- them count is a change of its own)
    IF v_pending THEN
      DELETE FROM ads_engine.loop_changes c
       WHERE c.tenant_id = p_tenant
         AND (c.xid = pg_catalog.pg_current_xact_id() OR pg_catalog.pg_visible_in_snapshot(c.xid, v_snapshot));
    END IF;
  ELSIF v_incremental THEN
    INSERT INTO ads_engine.loop_state AS s (tenant_id, as_of, snapshot, run_xid, finished, settled, valid_until, epoch, summary, computed_at)
    -- with no A/B test to read the pass ends here; otherwise ads_engine.finish_daily_loop ends it
    VALUES (p_tenant, v_as_of, v_snapshot, pg_catalog.pg_current_xact_id(), (v_summary ->> 'ab_tests_to_read')::integer = 0, v_settled,
            ads_engine.loop_valid_until(p_tenant), v_epoch, v_summary, now())
    ON CONFLICT (tenant_id) DO UPDATE
       SET as_of = EXCLUDED.as_of, snapshot = EXCLUDED.snapshot, run_xid = EXCLUDED.run_xid, finished = EXCLUDED.finished,
           settled = EXCLUDED.settled, valid_until = EXCLUDED.valid_until, epoch = EXCLUDED.epoch,
           summary = EXCLUDED.summary, computed_at = EXCLUDED.computed_at;
    -- the changes this pass has taken in: seen by its first statement already, or its transaction's own
    DELETE FROM ads_engine.loop_changes c
     WHERE c.tenant_id = p_tenant
       AND (c.xid = pg_catalog.pg_current_xact_id() OR pg_catalog.pg_visible_in_snapshot(c.xid, v_snapshot));
  END IF;

  INSERT INTO ads_engine.optimizer_runs (tenant_id, trigger, as_of, status, summary, requested_by, finished_at)
  VALUES (p_tenant, p_trigger, v_as_of, 'success', v_summary, saas.current_user_id(), clock_timestamp());
  PERFORM pg_catalog.set_config('ads_engine.loop_writes', '', true);
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_summary;
END
$$;
COMMENT ON FUNCTION ads_engine.run_daily_loop(uuid, date, text) IS
  'The daily loop for one tenant in the caller''s transaction, for the day p_as_of (NULL or omitted: the tenant''s yesterday in saas.tenants.timezone, '
  'ads_engine.tenant_yesterday): maintenance, every baseline window, the 7-day campaign_performance of every campaign, recommendations, anomalies '
  '(the day and every day of the week before not yet examined with its current data), the outcomes of applied recommendations due for measurement, '
  'the conversion lag it learnt (ads_engine.store_conversion_lag); '
  'logs a success row in ads_engine.optimizer_runs and returns the counts, with as_of and data_arrived (whether metrics for as_of or later were loaded). '
  'When nothing it reads changed since its last finished full pass for the same day (ads_engine.loop_changes_since, docs/engine.md), only maintenance '
  'and the outcome measurements run: the summary says skipped true, repeats that pass''s baselines and campaigns_analyzed, and creates nothing; '
  'otherwise changes lists why the work was redone. ab_tests_to_read: the A/B tests the caller reads next, in the same transaction, before '
  'ads_engine.finish_daily_loop (lib/engine/loop.ts). Serialised per tenant by an advisory lock.';

CREATE OR REPLACE FUNCTION ads_engine.record_run_failure(
  p_tenant uuid, p_as_of date, p_trigger text, p_error text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
BEGIN
  INSERT INTO ads_engine.optimizer_runs (tenant_id, trigger, as_of, status, error, requested_by, finished_at)
  VALUES (p_tenant, p_trigger, ads_engine.tenant_as_of(p_tenant, p_as_of), 'error', left(p_error, 2000),
          saas.current_user_id(), clock_timestamp());
  PERFORM ads_engine.leave_tenant(v_entered);
END
$$;
COMMENT ON FUNCTION ads_engine.record_run_failure(uuid, date, text, text) IS
  'Logs a failed loop run in ads_engine.optimizer_runs (called in a fresh transaction after the failed one rolled back).';

-- ---------------------------------------------------------------------------
-- What changed since the last pass (tables: db/migrations/017)
-- ---------------------------------------------------------------------------
-- Every write to a table the loop reads leaves a row in
-- ads_engine.loop_changes: one per tenant and statement, with the writing
-- transaction's id. The loop's own writes are left out (its pass accounts for
-- them: ads_engine.loop_state.settled). SECURITY INVOKER: whoever may write
-- the rows of a tenant may write its change rows (row-level security as for
-- the write itself). A TRUNCATE names no tenant: it moves the epoch, which
-- makes every tenant's last pass stale.
CREATE OR REPLACE FUNCTION ads_engine.tg_loop_input_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_source text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
BEGIN
  IF pg_catalog.current_setting('ads_engine.loop_writes', true) = pg_catalog.pg_current_xact_id()::text THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_catalog.nextval('ads_engine.loop_epoch');
    RETURN NULL;
  END IF;
  -- (a tenant deleted by this very statement, ON DELETE CASCADE, has nothing left to redo)
  IF v_source = 'ads.metrics_daily' THEN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO ads_engine.loop_changes (tenant_id, source, first_day, last_day)
      SELECT g.tenant_id, v_source, g.first_day, g.last_day
        FROM (SELECT n.tenant_id, pg_catalog.min(n.day) AS first_day, pg_catalog.max(n.day) AS last_day FROM new_rows n GROUP BY n.tenant_id) g
       WHERE EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = g.tenant_id);
    ELSIF TG_OP = 'UPDATE' THEN
      INSERT INTO ads_engine.loop_changes (tenant_id, source, first_day, last_day)
      SELECT g.tenant_id, v_source, g.first_day, g.last_day
        FROM (SELECT u.tenant_id, pg_catalog.min(u.day) AS first_day, pg_catalog.max(u.day) AS last_day
                FROM (SELECT n.tenant_id, n.day FROM new_rows n UNION ALL SELECT o.tenant_id, o.day FROM old_rows o) u
               GROUP BY u.tenant_id) g
       WHERE EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = g.tenant_id);
    ELSE
      INSERT INTO ads_engine.loop_changes (tenant_id, source, first_day, last_day)
      SELECT g.tenant_id, v_source, g.first_day, g.last_day
        FROM (SELECT o.tenant_id, pg_catalog.min(o.day) AS first_day, pg_catalog.max(o.day) AS last_day FROM old_rows o GROUP BY o.tenant_id) g
       WHERE EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = g.tenant_id);
    END IF;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO ads_engine.loop_changes (tenant_id, source)
    SELECT g.tenant_id, v_source FROM (SELECT DISTINCT n.tenant_id FROM new_rows n) g
     WHERE EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = g.tenant_id);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO ads_engine.loop_changes (tenant_id, source)
    SELECT g.tenant_id, v_source FROM (SELECT n.tenant_id FROM new_rows n UNION SELECT o.tenant_id FROM old_rows o) g
     WHERE EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = g.tenant_id);
  ELSE
    INSERT INTO ads_engine.loop_changes (tenant_id, source)
    SELECT g.tenant_id, v_source FROM (SELECT DISTINCT o.tenant_id FROM old_rows o) g
     WHERE EXISTS (SELECT 1 FROM saas.tenants t WHERE t.id = g.tenant_id);
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION ads_engine.tg_loop_input_changed() IS
  'Trigger (AFTER INSERT / UPDATE / DELETE FOR EACH STATEMENT with transition tables, and AFTER TRUNCATE) on every table the daily loop reads '
  '(db/migrations/017): one ads_engine.loop_changes row per tenant written (for ads.metrics_daily with the first and last day written), '
  'nothing for the loop''s own writes (ads_engine.loop_writes = its transaction), and the next ads_engine.loop_epoch for a TRUNCATE.';

CREATE OR REPLACE FUNCTION ads_engine.tg_loop_tenant_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO ads_engine.loop_changes (tenant_id, source) VALUES (NEW.id, 'saas.tenants');
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION ads_engine.tg_loop_tenant_changed() IS
  'Trigger on saas.tenants (AFTER UPDATE of timezone or currency, when one changed): an ads_engine.loop_changes row for the tenant (its calendar '
  'and the scale of min_spend_for_decision are the loop''s inputs too).';

-- Why a pass cannot reuse the last full pass of the tenant: an empty array
-- when it can. A change to ads.metrics_daily counts unless all its days lie
-- outside every day the steps read: before as_of - 103 (the conversion lag's
-- first day, the earliest any step reads) or after as_of, and on no open
-- anomaly's day (re-scored when restated). (The A/B tests, which read other
-- days, are read on every pass.)
-- p_state is the tenant's ads_engine.loop_state row as JSON (NULL: none; JSON,
-- not the table's row type: this file runs before the migration that creates
-- it on a new database), p_epoch the current ads_engine.loop_epoch, p_pending
-- whether ads_engine.loop_changes holds any row of the tenant.
CREATE OR REPLACE FUNCTION ads_engine.loop_changes_since(p_tenant uuid, p_as_of date, p_state jsonb, p_epoch bigint, p_pending boolean)
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_state IS NULL THEN
    RETURN ARRAY['no earlier pass'];
  ELSIF (p_state ->> 'as_of')::date IS DISTINCT FROM p_as_of THEN
    RETURN ARRAY['another day'];
  ELSIF NOT (p_state ->> 'finished')::boolean THEN
    RETURN ARRAY['earlier pass not finished'];
  ELSIF (p_state ->> 'epoch')::bigint IS DISTINCT FROM p_epoch THEN
    RETURN ARRAY['a table was truncated'];
  ELSIF NOT (p_state ->> 'settled')::boolean THEN
    RETURN ARRAY['earlier pass changed what it reads'];
  ELSIF (p_state ->> 'valid_until')::timestamptz <= pg_catalog.now() THEN
    RETURN ARRAY['a cooldown ended'];
  ELSIF NOT p_pending THEN
    RETURN ARRAY[]::text[];
  END IF;
  RETURN ARRAY(
    SELECT DISTINCT c.source FROM ads_engine.loop_changes c
     WHERE c.tenant_id = p_tenant
       AND NOT (c.source = 'ads.metrics_daily'
                AND (c.last_day < p_as_of - 103 OR c.first_day > p_as_of)
                AND NOT EXISTS (SELECT 1 FROM ads.anomalies an
                                 WHERE an.tenant_id = p_tenant AND an.status IN ('active', 'investigating')
                                   AND an.day BETWEEN c.first_day AND c.last_day))
     ORDER BY 1);
END
$$;
COMMENT ON FUNCTION ads_engine.loop_changes_since(uuid, date, jsonb, bigint, boolean) IS
  'Why the daily loop for p_as_of must redo its work rather than reuse the tenant''s last full pass (p_state: its ads_engine.loop_state row as JSON; '
  'p_epoch the current ads_engine.loop_epoch; p_pending whether ads_engine.loop_changes holds rows of the tenant): no earlier pass, another day, a pass not finished, a table truncated since, a pass that changed what it '
  'reads itself (not settled), a cooldown ended (valid_until), or the tables written since (ads_engine.loop_changes; ads.metrics_daily only for days '
  'the steps read). Empty: nothing the steps read has changed.';

-- The first moment the same inputs would give other recommendations: a
-- dismissed, approved or applied recommendation's 7-day cooldown ending (it
-- blocks a fresh one of its type and entity until then). A day early, so that
-- the calendar arithmetic of a session in another time zone (daylight saving)
-- cannot put it late.
CREATE OR REPLACE FUNCTION ads_engine.loop_valid_until(p_tenant uuid)
RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.min(x.since) + interval '6 days'
    FROM (SELECT coalesce(o.dismissed_at, o.created_at) AS since FROM ads.optimization_recommendations o
           WHERE o.tenant_id = p_tenant AND o.status = 'dismissed'
          UNION ALL
          SELECT coalesce(o.applied_at, o.created_at) FROM ads.optimization_recommendations o
           WHERE o.tenant_id = p_tenant AND o.status IN ('approved', 'applied')) x
   WHERE x.since > pg_catalog.now() - interval '7 days'
$$;
COMMENT ON FUNCTION ads_engine.loop_valid_until(uuid) IS
  'Until when a pass of the daily loop stays valid on unchanged inputs: the start of the earliest running 7-day cooldown (dismissed, approved or applied '
  'recommendation) + 6 days (a day before it ends); NULL when none runs.';

-- The end of a pass that read A/B tests (lib/abtests/evaluate.ts, after
-- ads_engine.run_daily_loop in its transaction): their writes are the pass's
-- own, and a full pass that reaches here may be reused by the next.
CREATE OR REPLACE FUNCTION ads_engine.finish_daily_loop(p_tenant uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_tenant(p_tenant);
  v_found boolean;
BEGIN
  UPDATE ads_engine.loop_state s SET finished = true
   WHERE s.tenant_id = p_tenant AND s.run_xid = pg_catalog.pg_current_xact_id();
  v_found := FOUND;
  -- the tests' writes (a skipped pass reads them again too): the pass's own
  DELETE FROM ads_engine.loop_changes c WHERE c.tenant_id = p_tenant AND c.xid = pg_catalog.pg_current_xact_id();
  PERFORM ads_engine.leave_tenant(v_entered);
  RETURN v_found;
END
$$;
COMMENT ON FUNCTION ads_engine.finish_daily_loop(uuid) IS
  'After the A/B tests of a pass (skipped or not): deletes the change rows this transaction wrote (the pass''s own), and marks the full pass '
  'ads_engine.run_daily_loop made in this transaction finished (ads_engine.loop_state). Returns whether there was such a full pass.';

SET LOCAL aegis.media_part_110_daily_loop = 'done';
