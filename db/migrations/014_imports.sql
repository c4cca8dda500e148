-- AEGIS imports: getting daily metrics in (docs/imports.md). The one import core (lib/ingest) behind the
-- /imports page, POST /api/v1/metrics and npm run import writes here, in the tenant's transaction.
--
--   ads_engine.import_runs        the history: who (user, API key or the command line), when, which file,
--                                 platform, format and level, the rows read / inserted / updated / unchanged /
--                                 rejected / skipped, the days changed, and the outcome (succeeded, refused with
--                                 its reason, failed)
--   ads_engine.import_mappings    the column mapping a buyer adjusted for a file, remembered per tenant and
--                                 platform
--   ads_engine.import_staging     where an import's valid rows land (COPY) before the one set-based upsert into
--                                 ads.metrics_daily; emptied in the same transaction. Partitioned, with one
--                                 partition, ads_engine.import_staging_load, that COPY writes to (below)
--
-- Idempotent: objects are created when missing, policies replaced, grants restated.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_IMPORTS_START', 'started', '014_imports: import history, saved column mappings, the staging table');

-- ---------------------------------------------------------------------------
-- The history. Append-only for the app: a run is written once, when it ends
-- (in the import's own transaction when it succeeds, in a small one of its
-- own when it was refused or failed: the import's rows are rolled back).
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.import_runs (
  tenant_id       uuid         NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id              uuid         NOT NULL,
  started_at      timestamptz  NOT NULL,
  finished_at     timestamptz  NOT NULL DEFAULT clock_timestamp(),
  source          text         NOT NULL CHECK (source IN ('upload', 'api', 'cli')),
  -- who: the signed-in user (upload), the API key (api), or neither (the command line, named by actor_label)
  user_id         uuid,
  api_key_id      uuid,
  actor_label     text         CHECK (char_length(actor_label) <= 200 AND actor_label !~ '[[:cntrl:]]'),
  file_name       text         CHECK (char_length(file_name) BETWEEN 1 AND 255 AND file_name !~ '[[:cntrl:]]'),
  bytes           bigint       CHECK (bytes >= 0),
  -- NULL: not recognised (a refused file), or rows of several platforms (the API)
  platform        text         CHECK (platform IN ('meta', 'google', 'tiktok', 'linkedin')),
  format          text         CHECK (char_length(format) <= 40),
  level           text         CHECK (level IN ('campaign', 'adset')),
  rows_read       bigint       NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
  rows_inserted   bigint       NOT NULL DEFAULT 0 CHECK (rows_inserted >= 0),
  rows_updated    bigint       NOT NULL DEFAULT 0 CHECK (rows_updated >= 0),
  rows_unchanged  bigint       NOT NULL DEFAULT 0 CHECK (rows_unchanged >= 0),
  rows_rejected   bigint       NOT NULL DEFAULT 0 CHECK (rows_rejected >= 0),
  rows_skipped    bigint       NOT NULL DEFAULT 0 CHECK (rows_skipped >= 0),
  changed_from    date,
  changed_to      date,
  status          text         NOT NULL CHECK (status IN ('succeeded', 'refused', 'failed')),
  refusal_code    text         CHECK (refusal_code IN ('unreadable', 'unknown_format', 'currency', 'empty', 'too_large', 'invalid_rows', 'mapping')),
  message         text         CHECK (char_length(message) <= 2000),
  problem_count   bigint       NOT NULL DEFAULT 0 CHECK (problem_count >= 0),
  -- the first problems (row, column, message), for the page to say why
  problems        jsonb        NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(problems) = 'array'),
  CONSTRAINT import_runs_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT import_runs_refusal CHECK ((status = 'refused') = (refusal_code IS NOT NULL)),
  CONSTRAINT import_runs_who CHECK (CASE source WHEN 'upload' THEN user_id IS NOT NULL WHEN 'api' THEN api_key_id IS NOT NULL ELSE true END),
  CONSTRAINT import_runs_changed CHECK ((changed_from IS NULL) = (changed_to IS NULL) AND changed_from <= changed_to),
  CONSTRAINT import_runs_nothing_kept CHECK (status = 'succeeded' OR (rows_inserted = 0 AND rows_updated = 0 AND changed_from IS NULL))
);
CREATE INDEX IF NOT EXISTS import_runs_started_idx ON ads_engine.import_runs (tenant_id, started_at DESC);
COMMENT ON TABLE ads_engine.import_runs IS
  'One import of daily metrics (a file from the /imports page or npm run import, a request to POST /api/v1/metrics): who, when, what, and the rows '
  'read, inserted, updated, unchanged (identical to what was stored), rejected (invalid, left out or the reason for a refusal) and skipped (totals and '
  'blank rows); changed_from .. changed_to is the range of days inserted or changed. status succeeded: stored, in the transaction that wrote the rows; '
  'refused (refusal_code, message): nothing stored; failed: nothing stored (the run broke off). Written by lib/ingest; append-only for the app.';
COMMENT ON COLUMN ads_engine.import_runs.rows_unchanged IS 'Rows identical to the stored ones: a repeat import has only these (and changes no updated_at).';
COMMENT ON COLUMN ads_engine.import_runs.problems IS 'The first 100 problems: [{"row", "column", "message"}]; row counts lines as a spreadsheet numbers them (header = 1), or is the index of an API row.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.import_runs');
REVOKE ALL ON ads_engine.import_runs FROM PUBLIC, aegis_app;
GRANT SELECT, INSERT ON ads_engine.import_runs TO aegis_app;

-- ---------------------------------------------------------------------------
-- Saved mappings: field -> the file's header text, one per tenant and platform.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.import_mappings (
  tenant_id   uuid         NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  platform    text         NOT NULL CHECK (platform IN ('meta', 'google', 'tiktok', 'linkedin')),
  mapping     jsonb        NOT NULL CHECK (jsonb_typeof(mapping) = 'object'
                             AND (mapping - ARRAY['day', 'campaign_id', 'campaign_name', 'adset_id', 'adset_name', 'currency',
                                                  'spend', 'impressions', 'clicks', 'conversions', 'conversion_value']) = '{}'::jsonb
                             AND NOT jsonb_path_exists(mapping, '$.* ? (@.type() != "string")')),
  updated_at  timestamptz  NOT NULL DEFAULT now(),
  updated_by  uuid,
  CONSTRAINT import_mappings_pkey PRIMARY KEY (tenant_id, platform)
);
COMMENT ON TABLE ads_engine.import_mappings IS
  'The column mapping of a tenant''s exports of one platform: {"field": "header text as in the file"} for the fields of lib/ingest/types.ts '
  'TARGET_FIELDS. Used for a file whose headers are not a known export; saved by the mapping editor and by an import that was given one.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.import_mappings');
REVOKE ALL ON ads_engine.import_mappings FROM PUBLIC, aegis_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.import_mappings TO aegis_app;

-- ---------------------------------------------------------------------------
-- Staging. An import COPYs its valid rows here, keyed by tenant and run
-- (run_id: a fresh uuid per import), checks them set-based, upserts them into
-- ads.metrics_daily in one statement and deletes them, all in the tenant's
-- transaction: no row is ever visible to another transaction, and none
-- outlives its import (a rolled-back import's rows are dead already).
--
-- COPY FROM refuses a table under row-level security ("COPY FROM not
-- supported with row-level security"), forced or not. So the table is
-- partitioned, with one partition:
--   * ads_engine.import_staging, the parent: RLS enabled and forced, policy
--     tenant_isolation. Every read, check, upsert and delete goes through it,
--     so only the tenant's rows are ever seen;
--   * ads_engine.import_staging_load, its only partition: the COPY target.
--     The app role may INSERT into it and nothing else (it cannot read,
--     change or delete a row there); after each COPY the import counts its
--     rows through the parent and aborts unless every row copied is visible,
--     i.e. of its own tenant.
-- Unlogged: rows that never outlive their transaction need no WAL (a crash
-- empties the partition, which holds nothing worth keeping). No index and no
-- foreign key: each import reads all of its rows anyway, and a million rows
-- copy faster without. Vacuumed promptly: an import of a million rows leaves
-- a million dead ones.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.import_staging (
  tenant_id         uuid           NOT NULL,
  run_id            uuid           NOT NULL,
  -- the row as a spreadsheet numbers it (header = 1), or the index of an API row
  row_no            integer        NOT NULL,
  platform          text           NOT NULL,
  level             text           NOT NULL,
  platform_id       text           NOT NULL,
  day               date           NOT NULL,
  entity_name       text,
  campaign_id       text           NOT NULL,
  campaign_name     text,
  spend             numeric(14,2)  NOT NULL,
  impressions       bigint         NOT NULL,
  clicks            bigint         NOT NULL,
  conversions       numeric(14,2)  NOT NULL,
  conversion_value  numeric(16,2)  NOT NULL
) PARTITION BY LIST (tenant_id);
COMMENT ON TABLE ads_engine.import_staging IS
  'Rows of imports in progress (tenant_id, run_id, row_no), between the COPY of a file''s valid rows and the upsert into ads.metrics_daily: '
  'written and deleted in the import''s own transaction, so always empty to any other. Read through this parent only (RLS forced); '
  'the COPY goes into its partition ads_engine.import_staging_load.';

CREATE UNLOGGED TABLE IF NOT EXISTS ads_engine.import_staging_load PARTITION OF ads_engine.import_staging DEFAULT;
ALTER TABLE ads_engine.import_staging_load SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                                                autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 100000);
COMMENT ON TABLE ads_engine.import_staging_load IS
  'The one partition of ads_engine.import_staging: the target of the import''s COPY (PostgreSQL refuses COPY FROM into a table under row-level '
  'security). aegis_app may only INSERT here; it reads and deletes through the parent, under its policy.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.import_staging');
REVOKE ALL ON ads_engine.import_staging FROM PUBLIC, aegis_app;
GRANT SELECT, DELETE ON ads_engine.import_staging TO aegis_app;
REVOKE ALL ON ads_engine.import_staging_load FROM PUBLIC, aegis_app;
GRANT INSERT ON ads_engine.import_staging_load TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_IMPORTS', 'success', 'ads_engine.import_runs, import_mappings, import_staging (partition import_staging_load) present');

COMMIT;
