-- Media Buying, 030_indexes: the metrics_daily trigger and the indexes.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- Triggers (recreated so a redeploy applies the latest definition).
-- ---------------------------------------------------------------------------
-- One function, two triggers. On insert it only fires when it has something
-- to fill in (the WHEN lists exactly what ads_engine.tg_metrics_daily_defaults
-- sets on insert): the guide's INSERT, which names none of the first_*
-- columns, still gets all of it, while a load that states them (the import
-- core) saves a PL/pgSQL call per row. Every update fires it: it stamps
-- updated_at and keeps the first report.
DROP TRIGGER IF EXISTS metrics_daily_defaults ON ads.metrics_daily;
CREATE TRIGGER metrics_daily_defaults BEFORE INSERT ON ads.metrics_daily
  FOR EACH ROW
  WHEN (NEW.first_conversions IS NULL OR NEW.first_conversion_value IS NULL OR NEW.first_loaded_at IS NULL
        OR (NEW.level = 'campaign' AND (NEW.campaign_id IS NULL OR NEW.campaign_name IS NULL)))
  EXECUTE FUNCTION ads_engine.tg_metrics_daily_defaults();
DROP TRIGGER IF EXISTS metrics_daily_defaults_on_update ON ads.metrics_daily;
CREATE TRIGGER metrics_daily_defaults_on_update BEFORE UPDATE ON ads.metrics_daily
  FOR EACH ROW EXECUTE FUNCTION ads_engine.tg_metrics_daily_defaults();

-- ---------------------------------------------------------------------------
-- Indexes: every one leads with tenant_id, as the policies filter on it.
-- ---------------------------------------------------------------------------
CREATE INDEX IF NOT EXISTS idx_metrics_daily_tenant_day ON ads.metrics_daily (tenant_id, day);
CREATE INDEX IF NOT EXISTS idx_metrics_daily_platform ON ads.metrics_daily (tenant_id, platform, day);
CREATE INDEX IF NOT EXISTS idx_metrics_daily_lookup ON ads.metrics_daily (tenant_id, platform_id, day);
-- Covering index for the baseline and anomaly scans (index-only by platform, level, day).
CREATE INDEX IF NOT EXISTS idx_metrics_optimization ON ads.metrics_daily (tenant_id, platform, level, day)
  INCLUDE (platform_id, spend, impressions, clicks, conversions, conversion_value);
CREATE INDEX IF NOT EXISTS idx_campaign_perf_tenant ON ads.campaign_performance (tenant_id, period_end DESC);
CREATE INDEX IF NOT EXISTS idx_campaign_perf_lookup ON ads.campaign_performance (tenant_id, platform, campaign_id, period_end DESC);
CREATE INDEX IF NOT EXISTS idx_recommendations_action ON ads.optimization_recommendations (tenant_id, status, priority DESC, expires_at);
CREATE INDEX IF NOT EXISTS idx_anomalies_active ON ads.anomalies (tenant_id, severity DESC, created_at DESC)
  WHERE status IN ('active', 'investigating');

SET LOCAL aegis.media_part_030_indexes = 'done';
