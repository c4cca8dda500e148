-- AEGIS engine: each platform's conversion lag as the daily loop learnt it,
-- kept so that pages read it instead of learning it again from 90 days of
-- rows on every view (about 20 ms for a tenant of 200 campaigns). Filled by
-- ads_engine.store_conversion_lag (db/media_buying/095_readiness.sql), which
-- the daily loop calls; one row per tenant, platform and data age.
--
-- The table is the engine's own record (schema ads_engine): the ads schema
-- holds the guide's tables only.
--
-- Idempotent: objects are created when missing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

CREATE TABLE IF NOT EXISTS ads_engine.conversion_lag (
  tenant_id     uuid          NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  platform      ads.platform  NOT NULL,
  age_days      integer       NOT NULL CHECK (age_days BETWEEN 0 AND 13),
  completeness  numeric(5,4)  NOT NULL CHECK (completeness > 0 AND completeness <= 1),
  days          integer       NOT NULL CHECK (days >= 0),
  as_of         date          NOT NULL,
  computed_at   timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT conversion_lag_pkey PRIMARY KEY (tenant_id, platform, age_days)
);
COMMENT ON TABLE ads_engine.conversion_lag IS
  'ads_engine.conversion_completeness(tenant, as_of) as the last daily loop learnt it: the share of their final conversions that rows of each age carry, per platform. '
  'Every age 0..13 of each platform with data; completeness 1 with days 0 where no lag is known. Written by ads_engine.store_conversion_lag.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.conversion_lag');
GRANT SELECT, INSERT, DELETE ON ads_engine.conversion_lag TO aegis_app;

COMMIT;
