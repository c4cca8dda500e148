-- AEGIS anomaly board: the workflow around ads.anomalies (docs/anomalies.md).
--
--   ads_engine.anomaly_events    every move of an anomaly on the board (who, when, from, to, note): its history
--   ads_engine.anomaly_snoozes   an active anomaly hidden from the board's Active column until a time
--   ads_engine.anomaly_verdicts  what people concluded about closed anomalies (dismissed as not an
--                                anomaly, or resolved as real), per platform, metric and type: the
--                                feedback figures ("CPC spikes on Meta: 3 of 9 dismissed")
--
-- The status itself stays in ads.anomalies (status, resolved_at, resolved_by,
-- resolution_note), as the guide has it. Events and snoozes belong to their
-- anomaly and go with it (the daily maintenance deletes resolved anomalies 30
-- days after they were resolved); verdicts outlive it, so that the feedback
-- of the last 90 days still counts what people resolved 40 days ago.
--
-- The tables are the board's own record (schema ads_engine): the ads schema
-- holds the guide's tables only. The app role reads events and verdicts but
-- does not write them: ads_engine.record_anomaly_moves (SECURITY DEFINER,
-- db/media_buying/102_anomaly_workflow.sql) writes them, in the name of the
-- transaction's user, for anomalies of the caller's tenant. Snoozes it writes
-- itself (the board's snooze and the engine's restatement, which may run as
-- the app role, end them). Idempotent: objects are created when missing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

CREATE TABLE IF NOT EXISTS ads_engine.anomaly_events (
  tenant_id      uuid         NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id             bigint       GENERATED ALWAYS AS IDENTITY,
  anomaly_id     uuid         NOT NULL,
  action         text         NOT NULL CHECK (action IN ('acknowledge', 'resolve', 'reopen', 'dismiss', 'snooze')),
  from_status    text         NOT NULL CHECK (from_status IN ('active', 'investigating', 'resolved', 'dismissed')),
  to_status      text         NOT NULL CHECK (to_status IN ('active', 'investigating', 'resolved', 'dismissed')),
  note           text         CHECK (char_length(note) BETWEEN 1 AND 1000),
  snoozed_until  timestamptz,
  -- several anomalies moved as one incident share it: the incident's key (platform, level, day)
  incident       text         CHECK (char_length(incident) <= 200),
  actor_user_id  uuid,
  actor_label    text,
  created_at     timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT anomaly_events_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT anomaly_events_anomaly_fkey FOREIGN KEY (tenant_id, anomaly_id)
    REFERENCES ads.anomalies (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT anomaly_events_snooze CHECK ((action = 'snooze') = (snoozed_until IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS anomaly_events_anomaly_idx ON ads_engine.anomaly_events (tenant_id, anomaly_id, created_at DESC);
COMMENT ON TABLE ads_engine.anomaly_events IS
  'The history of each anomaly on the board: every acknowledge, resolve, reopen, dismiss and snooze, with the status before and after, '
  'the note, who (actor_user_id, actor_label = their email then) and when. Read by the app, written only by ads_engine.record_anomaly_moves; '
  'goes with its anomaly.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.anomaly_events');
GRANT SELECT ON ads_engine.anomaly_events TO aegis_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ads_engine.anomaly_events FROM aegis_app;

CREATE TABLE IF NOT EXISTS ads_engine.anomaly_snoozes (
  tenant_id      uuid         NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  anomaly_id     uuid         NOT NULL,
  snoozed_until  timestamptz  NOT NULL,
  snoozed_by     uuid,
  snoozed_at     timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT anomaly_snoozes_pkey PRIMARY KEY (tenant_id, anomaly_id),
  CONSTRAINT anomaly_snoozes_anomaly_fkey FOREIGN KEY (tenant_id, anomaly_id)
    REFERENCES ads.anomalies (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT anomaly_snoozes_window CHECK (snoozed_until > snoozed_at AND snoozed_until <= snoozed_at + interval '8 days')
);
COMMENT ON TABLE ads_engine.anomaly_snoozes IS
  'An active anomaly a buyer snoozed: hidden from the board''s Active column and from the critical banner while snoozed_until is in the future; '
  'it returns by itself after. A row whose time has passed means nothing; acknowledging, resolving, dismissing or reopening removes it, and so '
  'does the engine closing the anomaly (ads_engine.rescore_restated).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.anomaly_snoozes');
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.anomaly_snoozes TO aegis_app;

CREATE TABLE IF NOT EXISTS ads_engine.anomaly_verdicts (
  tenant_id      uuid          NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  anomaly_id     uuid          NOT NULL,
  platform       ads.platform  NOT NULL,
  metric_name    text          NOT NULL,
  anomaly_type   text          NOT NULL,
  day            date          NOT NULL,
  verdict        text          NOT NULL CHECK (verdict IN ('not_anomaly', 'confirmed')),
  decided_by     uuid,
  decided_at     timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT anomaly_verdicts_pkey PRIMARY KEY (tenant_id, anomaly_id)
);
CREATE INDEX IF NOT EXISTS anomaly_verdicts_kind_idx ON ads_engine.anomaly_verdicts (tenant_id, platform, metric_name, anomaly_type, day);
COMMENT ON TABLE ads_engine.anomaly_verdicts IS
  'The feedback of the board: per anomaly closed by a person, not_anomaly (dismissed as not an anomaly) or confirmed (resolved), with its platform, '
  'metric, type and day copied so that the figure survives the anomaly (maintenance deletes resolved ones after 30 days). Reopening removes the verdict. '
  'Read by the app, written only by ads_engine.record_anomaly_moves.';

CALL aegis_deploy.isolate_by_tenant('ads_engine.anomaly_verdicts');
GRANT SELECT ON ads_engine.anomaly_verdicts TO aegis_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ads_engine.anomaly_verdicts FROM aegis_app;

-- The board reads a tenant's anomalies by status (the resolved column by when
-- they were resolved); the guide's idx_anomalies_active covers only the open ones.
CREATE INDEX IF NOT EXISTS anomalies_board_idx ON ads.anomalies (tenant_id, status, day DESC);

COMMIT;
