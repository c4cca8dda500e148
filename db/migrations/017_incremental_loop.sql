-- AEGIS engine: what the daily loop needs to know that nothing it reads has
-- changed since its last pass for the same day, so that a second pass with
-- nothing new skips the work instead of redoing it (docs/engine.md, "What a
-- pass skips").
--
--   ads_engine.loop_changes  one row per tenant and write statement on a table
--                            the loop's SQL steps read (metrics, configs,
--                            budgets, auto-apply settings, recommendations,
--                            anomalies, the ledger, ...; not the A/B tests,
--                            read on every pass): who wrote it is its
--                            transaction id (xid8), so a pass can tell writes
--                            it saw from writes it could not see yet
--   ads_engine.loop_state    per tenant, the last full pass: its day, the
--                            snapshot it started from, whether a second pass on
--                            unchanged inputs would change nothing (settled),
--                            until when (a cooldown ending), and its summary
--   ads_engine.loop_epoch    moved on by any TRUNCATE of those tables (which
--                            writes no rows and names no tenant): every
--                            loop_state then counts as stale
--
-- The trigger function is ads_engine.tg_loop_input_changed
-- (db/media_buying/110_daily_loop.sql, re-applied); the triggers are created
-- here because several of the tables come from earlier migrations, which run
-- after that file on a new database.
--
-- Idempotent: objects are created when missing, triggers replaced.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_INCREMENTAL_LOOP_START', 'started', '017_incremental_loop: change log, loop state, triggers');

CREATE TABLE IF NOT EXISTS ads_engine.loop_changes (
  tenant_id   uuid         NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id          bigint       GENERATED ALWAYS AS IDENTITY,
  -- the writing transaction: visible or not in a pass's starting snapshot
  xid         xid8         NOT NULL DEFAULT pg_current_xact_id(),
  source      text         NOT NULL,
  -- for ads.metrics_daily: the days the statement wrote (NULL for the other tables)
  first_day   date,
  last_day    date,
  changed_at  timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT loop_changes_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT loop_changes_days_check CHECK (first_day <= last_day)
);
COMMENT ON TABLE ads_engine.loop_changes IS
  'Writes to what the daily loop reads, one row per tenant and statement (ads_engine.tg_loop_input_changed), made outside the loop. '
  'A full pass deletes the rows its starting snapshot saw (and its own transaction''s); any row left means the next pass redoes the work. '
  'source is the table written; first_day / last_day the days of ads.metrics_daily rows written.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.loop_changes');
-- Every role that writes the loop's inputs writes here through the trigger (SECURITY INVOKER); the loop reads and prunes.
GRANT SELECT, INSERT, DELETE ON ads_engine.loop_changes TO aegis_app;

CREATE SEQUENCE IF NOT EXISTS ads_engine.loop_epoch AS bigint;
COMMENT ON SEQUENCE ads_engine.loop_epoch IS
  'Moved on by a TRUNCATE of any table the daily loop reads: every ads_engine.loop_state row records the value it was written at, and one written before counts as stale.';
-- last_value is read as is: called once, so that the first TRUNCATE moves it.
SELECT nextval('ads_engine.loop_epoch') WHERE NOT (SELECT is_called FROM ads_engine.loop_epoch);
GRANT SELECT ON SEQUENCE ads_engine.loop_epoch TO aegis_app;

CREATE TABLE IF NOT EXISTS ads_engine.loop_state (
  tenant_id    uuid          NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  as_of        date          NOT NULL,
  -- the snapshot the last full pass started from (after the tenant's loop lock) and its transaction
  snapshot     pg_snapshot   NOT NULL,
  run_xid      xid8          NOT NULL,
  -- the pass ran to its end, A/B tests included (ads_engine.finish_daily_loop)
  finished     boolean       NOT NULL DEFAULT false,
  -- a pass on the same inputs would change nothing (false when this one applied budgets or measured outcomes, which it reads itself)
  settled      boolean       NOT NULL,
  -- the first moment the same inputs would give another result (a recommendation's cooldown ending); NULL: none
  valid_until  timestamptz,
  epoch        bigint        NOT NULL,
  summary      jsonb         NOT NULL,
  computed_at  timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT loop_state_pkey PRIMARY KEY (tenant_id)
);
COMMENT ON TABLE ads_engine.loop_state IS
  'The last full pass of the daily loop per tenant (ads_engine.run_daily_loop): the day, the snapshot it started from, whether it finished and settled, '
  'until when its decisions hold, the loop epoch it saw and its summary. A pass for the same day skips the work when this row is finished, settled, '
  'still valid and of the current epoch, and ads_engine.loop_changes holds nothing for the tenant.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.loop_state');
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.loop_state TO aegis_app;

-- What the loop's SQL steps read: a statement-level trigger per write and table, with its transition table, and one for TRUNCATE.
-- (ads_engine.auto_applications is their record, read by none of them.)
DO $triggers$
DECLARE
  t regclass;
  n text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'ads.metrics_daily', 'ads.platform_configs', 'ads.budget_allocation', 'ads.optimization_recommendations', 'ads.anomalies',
    'ads.baselines', 'ads.campaign_performance',
    'ads_engine.examined_days', 'ads_engine.recommendation_outcomes', 'ads_engine.auto_apply_policies',
    'ads_engine.conversion_lag']::regclass[]
  LOOP
    n := (SELECT c.relname FROM pg_class c WHERE c.oid = t);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', n || '_loop_insert', t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_loop_input_changed()', n || '_loop_insert', t);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', n || '_loop_update', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_loop_input_changed()', n || '_loop_update', t);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', n || '_loop_delete', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_loop_input_changed()', n || '_loop_delete', t);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', n || '_loop_truncate', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION ads_engine.tg_loop_input_changed()', n || '_loop_truncate', t);
  END LOOP;
END
$triggers$;

-- The tenant's time zone and currency (the calendar of its days and the scale of min_spend_for_decision).
DROP TRIGGER IF EXISTS tenants_loop_update ON saas.tenants;
CREATE TRIGGER tenants_loop_update AFTER UPDATE OF timezone, currency ON saas.tenants
  FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone OR OLD.currency IS DISTINCT FROM NEW.currency)
  EXECUTE FUNCTION ads_engine.tg_loop_tenant_changed();

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_INCREMENTAL_LOOP_COMPLETE', 'success', '017_incremental_loop applied');

COMMIT;
