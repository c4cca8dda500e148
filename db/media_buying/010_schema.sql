-- Media Buying, 010_schema: the ads and ads_engine schemas, the enums and the domains.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

CREATE SCHEMA IF NOT EXISTS ads AUTHORIZATION aegis_owner;
COMMENT ON SCHEMA ads IS 'AEGIS Media Buying: daily metrics, baselines, recommendations, anomalies, A/B tests, budgets.';
GRANT USAGE ON SCHEMA ads TO aegis_app;

-- Helpers (trigger functions, the daily loop) live in ads_engine so that the
-- ads schema lists exactly the guide's four functions.
CREATE SCHEMA IF NOT EXISTS ads_engine AUTHORIZATION aegis_owner;
COMMENT ON SCHEMA ads_engine IS 'Helper functions of the ads schema: triggers and the daily optimisation loop.';
GRANT USAGE ON SCHEMA ads_engine TO aegis_app;

-- ---------------------------------------------------------------------------
-- Types. Priority and severity are enums so ORDER BY ... DESC sorts by
-- meaning (critical first), not alphabetically. Platforms and levels are
-- domains: one place to add a platform.
-- ---------------------------------------------------------------------------
DO $types$
BEGIN
  IF to_regtype('ads.priority_level') IS NULL THEN
    CREATE TYPE ads.priority_level AS ENUM ('low', 'medium', 'high', 'critical');
  END IF;
  IF to_regtype('ads.severity_level') IS NULL THEN
    CREATE TYPE ads.severity_level AS ENUM ('low', 'medium', 'high', 'critical');
  END IF;
  IF to_regtype('ads.platform') IS NULL THEN
    CREATE DOMAIN ads.platform AS text
      CHECK (VALUE IN ('meta', 'google', 'tiktok', 'linkedin', 'snapchat', 'pinterest', 'microsoft', 'x', 'amazon'));
  END IF;
  IF to_regtype('ads.entity_level') IS NULL THEN
    CREATE DOMAIN ads.entity_level AS text CHECK (VALUE IN ('campaign', 'adset', 'ad'));
  END IF;
END
$types$;
COMMENT ON TYPE ads.priority_level IS 'Recommendation priority, ordered low < medium < high < critical.';
COMMENT ON TYPE ads.severity_level IS 'Anomaly severity, ordered low < medium < high < critical.';
COMMENT ON DOMAIN ads.platform IS 'Advertising platform code (lower case).';
COMMENT ON DOMAIN ads.entity_level IS 'Reporting level of a metrics row: campaign, adset or ad.';

SET LOCAL aegis.media_part_010_schema = 'done';
