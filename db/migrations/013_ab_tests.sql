-- AEGIS A/B tests: what a test is measured on and how the daily loop has read it (docs/ab-tests.md).
--
--   ads_engine.ab_test_designs   the test's design beyond the guide's columns: the planned share of B,
--                                the minimum detectable effect (which sets the sequential test's mixing
--                                variance), who created it, and when it was frozen (started)
--   ads_engine.ab_test_variants  the platform ids (ad sets, ads or campaigns) that carry each variant: their
--                                daily rows in ads.metrics_daily are the variant's data. A variant with no row
--                                here is measured elsewhere (a landing page) and its totals are entered by hand
--                                in ads.ab_tests.performance_a / performance_b, as the guide has them
--   ads_engine.ab_test_state     the daily loop's last reading of each test: the decision, the running minimum
--                                of the always-valid p-value, the day a winner was first reached (latched)
--   ads_engine.ab_test_looks     one reading per day of a test whose totals are entered by hand (the lift over
--                                time of a test carried by platform ids is recomputed from its daily rows)
--
-- A test inserted from psql as the guide shows (INSERT INTO ads.ab_tests (...)) has no design row: it is read
-- with the defaults (half the traffic to B, a 10 % minimum detectable effect) from its entered totals.
--
-- Freezing: the always-valid guarantee holds for the design fixed before the data is seen. Once frozen_at is
-- set (the test started) the planned split and the MDE cannot change, nor the variants' ids, nor the test's
-- primary metric, platform and start date: triggers refuse it, whoever writes. Idempotent: objects are created when missing, triggers replaced.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_AB_TESTS_START', 'started', '013_ab_tests: designs, variants'' platform ids, the loop''s readings');

CREATE TABLE IF NOT EXISTS ads_engine.ab_test_designs (
  tenant_id        uuid          NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  test_id          uuid          NOT NULL,
  planned_share_b  numeric(4,3)  NOT NULL DEFAULT 0.5 CHECK (planned_share_b BETWEEN 0.05 AND 0.95),
  mde              numeric(5,4)  NOT NULL DEFAULT 0.10 CHECK (mde BETWEEN 0.01 AND 1),
  -- what the split divides: the budget (spend; the platforms' own A/B tools split budgets) or the audience (impressions)
  allocation_unit  text          NOT NULL DEFAULT 'spend' CHECK (allocation_unit IN ('spend', 'impressions')),
  frozen_at        timestamptz,
  created_by       uuid,
  created_at       timestamptz   NOT NULL DEFAULT now(),
  updated_at       timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT ab_test_designs_pkey PRIMARY KEY (tenant_id, test_id),
  CONSTRAINT ab_test_designs_test_fkey FOREIGN KEY (tenant_id, test_id)
    REFERENCES ads.ab_tests (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE ads_engine.ab_test_designs IS
  'An A/B test''s design: planned_share_b (share of the allocation_unit, spend or impressions, planned for B), mde (minimum detectable relative effect: '
  'the sample size and the sequential test''s mixing variance tau = ln(1 + mde)), frozen_at (set when the test starts; after it the split '
  'and the MDE cannot change). A test without a row here is read with 0.5 and 0.10.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.ab_test_designs');
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.ab_test_designs TO aegis_app;

CREATE TABLE IF NOT EXISTS ads_engine.ab_test_variants (
  tenant_id    uuid              NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  test_id      uuid              NOT NULL,
  arm          text              NOT NULL CHECK (arm IN ('A', 'B')),
  level        ads.entity_level  NOT NULL,
  platform_id  text              NOT NULL CHECK (length(platform_id) BETWEEN 1 AND 200 AND platform_id !~ '[[:cntrl:][:space:]]'),
  CONSTRAINT ab_test_variants_pkey PRIMARY KEY (tenant_id, test_id, level, platform_id),
  CONSTRAINT ab_test_variants_test_fkey FOREIGN KEY (tenant_id, test_id)
    REFERENCES ads.ab_tests (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE ads_engine.ab_test_variants IS
  'The platform ids that carry each arm of a test (on the test''s platform): the arm''s daily data is the sum of their ads.metrics_daily rows '
  'from the test''s start_date. An id belongs to one arm (primary key without arm). An arm without ids is measured elsewhere: its totals '
  'are entered in ads.ab_tests.performance_a / performance_b.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.ab_test_variants');
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.ab_test_variants TO aegis_app;

CREATE TABLE IF NOT EXISTS ads_engine.ab_test_state (
  tenant_id       uuid           NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  test_id         uuid           NOT NULL,
  as_of           date           NOT NULL,
  decision        text           NOT NULL CHECK (decision IN ('not_computable', 'check_split', 'not_enough_data', 'winner_a', 'winner_b', 'no_winner_yet')),
  message         text           NOT NULL CHECK (char_length(message) <= 1000),
  min_p_seq       numeric        CHECK (min_p_seq BETWEEN 0 AND 1),
  winner_day      date,
  evaluated_at    timestamptz    NOT NULL DEFAULT now(),
  CONSTRAINT ab_test_state_pkey PRIMARY KEY (tenant_id, test_id),
  CONSTRAINT ab_test_state_test_fkey FOREIGN KEY (tenant_id, test_id)
    REFERENCES ads.ab_tests (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE ads_engine.ab_test_state IS
  'The daily loop''s last reading of a test (as_of: the last day of data read): the decision, its message, min_p_seq (the running minimum '
  'of the always-valid p-value; ads.ab_tests.statistical_significance = 1 - min_p_seq) and winner_day (the first day the decision rule '
  'was met: the winner is latched from then on).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.ab_test_state');
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.ab_test_state TO aegis_app;

CREATE TABLE IF NOT EXISTS ads_engine.ab_test_looks (
  tenant_id      uuid         NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  test_id        uuid         NOT NULL,
  look_day       date         NOT NULL,
  performance_a  jsonb        NOT NULL CHECK (jsonb_typeof(performance_a) = 'object'),
  performance_b  jsonb        NOT NULL CHECK (jsonb_typeof(performance_b) = 'object'),
  lift           numeric,
  lower          numeric,
  upper          numeric,
  seq_lower      numeric,
  seq_upper      numeric,
  p_value        numeric      CHECK (p_value BETWEEN 0 AND 1),
  p_seq          numeric      CHECK (p_seq BETWEEN 0 AND 1),
  decision       text         NOT NULL CHECK (decision IN ('not_computable', 'check_split', 'not_enough_data', 'winner_a', 'winner_b', 'no_winner_yet')),
  CONSTRAINT ab_test_looks_pkey PRIMARY KEY (tenant_id, test_id, look_day),
  CONSTRAINT ab_test_looks_test_fkey FOREIGN KEY (tenant_id, test_id)
    REFERENCES ads.ab_tests (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE ads_engine.ab_test_looks IS
  'One reading per day of a test measured from totals entered by hand: the totals then, the relative lift of B over A, its fixed-horizon '
  '95 % interval (lower, upper) and always-valid interval (seq_lower, seq_upper), both p-values and the decision. The lift-over-time chart '
  'of such a test.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.ab_test_looks');
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.ab_test_looks TO aegis_app;

-- Variants per platform id: does this entity already carry a test?
CREATE INDEX IF NOT EXISTS ab_test_variants_test_idx ON ads_engine.ab_test_variants (tenant_id, test_id, arm);
-- The list by status and the loop's running tests.
CREATE INDEX IF NOT EXISTS ab_tests_status_idx ON ads.ab_tests (tenant_id, status, start_date DESC);

-- Frozen designs. Invoker functions: they read the test and its design under the caller's row-level security
-- (the rows are the caller's tenant's by the policies). A delete that comes from deleting the test itself (the
-- foreign keys' cascade) finds no test any more and goes ahead.
CREATE OR REPLACE FUNCTION ads_engine.ab_test_design_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.frozen_at IS NOT NULL AND EXISTS (SELECT 1 FROM ads.ab_tests t WHERE t.tenant_id = OLD.tenant_id AND t.id = OLD.test_id) THEN
      RAISE EXCEPTION 'the design of A/B test % is frozen since it started: it cannot be deleted', OLD.test_id USING ERRCODE = '55000';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.frozen_at IS NOT NULL AND (
       NEW.planned_share_b IS DISTINCT FROM OLD.planned_share_b OR NEW.mde IS DISTINCT FROM OLD.mde
       OR NEW.allocation_unit IS DISTINCT FROM OLD.allocation_unit
       OR NEW.frozen_at IS DISTINCT FROM OLD.frozen_at OR NEW.test_id IS DISTINCT FROM OLD.test_id
       OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
    RAISE EXCEPTION 'the design of A/B test % is frozen since it started (%): the planned split and the minimum detectable effect cannot change',
      OLD.test_id, OLD.frozen_at USING ERRCODE = '55000';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION ads_engine.ab_test_design_guard() IS
  'Trigger of ads_engine.ab_test_designs: once frozen_at is set, the split, the MDE and frozen_at itself cannot change and the row cannot be deleted '
  '(except with its test).';

DROP TRIGGER IF EXISTS ab_test_designs_guard ON ads_engine.ab_test_designs;
CREATE TRIGGER ab_test_designs_guard BEFORE UPDATE OR DELETE ON ads_engine.ab_test_designs
  FOR EACH ROW EXECUTE FUNCTION ads_engine.ab_test_design_guard();

CREATE OR REPLACE FUNCTION ads_engine.ab_test_variants_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  v_status text;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.tenant_id, NEW.test_id) IS DISTINCT FROM (OLD.tenant_id, OLD.test_id) THEN
    RAISE EXCEPTION 'a variant''s platform id cannot move to another A/B test' USING ERRCODE = '55000';
  END IF;
  SELECT t.status INTO v_status FROM ads.ab_tests t WHERE t.tenant_id = r.tenant_id AND t.id = r.test_id;
  IF NOT FOUND THEN
    RETURN r;  -- the test is being deleted (cascade), or the foreign key refuses the row
  END IF;
  IF v_status <> 'draft' OR EXISTS (
       SELECT 1 FROM ads_engine.ab_test_designs d WHERE d.tenant_id = r.tenant_id AND d.test_id = r.test_id AND d.frozen_at IS NOT NULL) THEN
    RAISE EXCEPTION 'A/B test % has started (status %): the platform ids of its variants cannot change', r.test_id, v_status
      USING ERRCODE = '55000';
  END IF;
  RETURN r;
END
$$;
COMMENT ON FUNCTION ads_engine.ab_test_variants_guard() IS
  'Trigger of ads_engine.ab_test_variants: the platform ids of a test''s variants change only while it is a draft that has not been frozen.';

DROP TRIGGER IF EXISTS ab_test_variants_guard ON ads_engine.ab_test_variants;
CREATE TRIGGER ab_test_variants_guard BEFORE INSERT OR UPDATE OR DELETE ON ads_engine.ab_test_variants
  FOR EACH ROW EXECUTE FUNCTION ads_engine.ab_test_variants_guard();

-- The design's columns on the test itself: once its design is frozen, the primary metric, the platform
-- (where the variants' ids are read) and the start date (the first day counted) cannot change either,
-- whoever writes. The loop's and the guide's updates (totals, significance, winner, status) do not name
-- these columns and never fire it.
CREATE OR REPLACE FUNCTION ads_engine.ab_test_frozen_columns_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_frozen timestamptz;
BEGIN
  IF (NEW.primary_metric, NEW.platform, NEW.start_date) IS NOT DISTINCT FROM (OLD.primary_metric, OLD.platform, OLD.start_date) THEN
    RETURN NEW;
  END IF;
  SELECT d.frozen_at INTO v_frozen FROM ads_engine.ab_test_designs d
   WHERE d.tenant_id = OLD.tenant_id AND d.test_id = OLD.id AND d.frozen_at IS NOT NULL;
  IF FOUND THEN
    RAISE EXCEPTION 'A/B test % is frozen since it started (%): its primary metric, platform and start date cannot change', OLD.id, v_frozen
      USING ERRCODE = '55000';
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION ads_engine.ab_test_frozen_columns_guard() IS
  'Trigger of ads.ab_tests: once the test''s design is frozen (ads_engine.ab_test_designs.frozen_at), primary_metric, platform and start_date cannot change.';

DROP TRIGGER IF EXISTS ab_tests_frozen_guard ON ads.ab_tests;
CREATE TRIGGER ab_tests_frozen_guard BEFORE UPDATE OF primary_metric, platform, start_date ON ads.ab_tests
  FOR EACH ROW EXECUTE FUNCTION ads_engine.ab_test_frozen_columns_guard();

COMMIT;
