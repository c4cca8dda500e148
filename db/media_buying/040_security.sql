-- Media Buying, 040_security: row-level security on the ads tables.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- Row-level security: enabled and FORCED on every tenant table, with the
-- policy tenant_isolation (aegis_deploy.isolate_by_tenant, in db/deploy.sql).
-- ---------------------------------------------------------------------------
CALL aegis_deploy.isolate_by_tenant('ads.metrics_daily');
CALL aegis_deploy.isolate_by_tenant('ads.baselines');
CALL aegis_deploy.isolate_by_tenant('ads.budget_allocation');
CALL aegis_deploy.isolate_by_tenant('ads.optimization_recommendations');
CALL aegis_deploy.isolate_by_tenant('ads.ab_tests');
CALL aegis_deploy.isolate_by_tenant('ads.anomalies');
CALL aegis_deploy.isolate_by_tenant('ads.campaign_performance');
CALL aegis_deploy.isolate_by_tenant('ads.platform_configs');
GRANT SELECT, INSERT, UPDATE, DELETE
  ON ads.metrics_daily, ads.baselines, ads.budget_allocation, ads.optimization_recommendations,
     ads.ab_tests, ads.anomalies, ads.campaign_performance, ads.platform_configs
  TO aegis_app;

ALTER TABLE ads.performance_benchmarks ENABLE ROW LEVEL SECURITY;
ALTER TABLE ads.performance_benchmarks FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS benchmarks_read ON ads.performance_benchmarks;
CREATE POLICY benchmarks_read ON ads.performance_benchmarks FOR SELECT USING (true);
DROP POLICY IF EXISTS benchmarks_owner_write ON ads.performance_benchmarks;
CREATE POLICY benchmarks_owner_write ON ads.performance_benchmarks FOR ALL TO aegis_owner USING (true) WITH CHECK (true);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ads.performance_benchmarks FROM aegis_app;
GRANT SELECT ON ads.performance_benchmarks TO aegis_app;

SET LOCAL aegis.media_part_040_security = 'done';
