-- AEGIS alerts out: where a tenant's new anomalies are sent (docs/alerts.md).
--
--   ads_engine.alert_channels         an email list or a webhook, with its rules (severities, anomaly types,
--                                     immediate or a daily digest at an hour of the tenant's time zone)
--   ads_engine.alert_webhook_secrets  the signing secret of each webhook: no privilege for the app role at all,
--                                     reached only through the functions of db/media_buying/104_alerts.sql
--   ads_engine.alert_deliveries       one message to one channel (immediate, digest or test): its status,
--                                     attempts, response code, last error and next attempt (the delivery log)
--   ads_engine.alert_items            which anomaly went (or waits to go) to which channel: the ledger that
--                                     makes "at most once per channel" a primary key
--
-- The tables are the alerting's own record (schema ads_engine): the ads schema
-- holds the guide's tables only. Idempotent: objects are created when missing,
-- policies replaced.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_ALERTS_START', 'started', '012_alert_channels: alert channels, secrets, deliveries and the alert ledger');

-- ---------------------------------------------------------------------------
-- Channels
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.alert_channels (
  tenant_id        uuid                  NOT NULL REFERENCES saas.tenants (id) ON DELETE CASCADE,
  id               uuid                  NOT NULL DEFAULT gen_random_uuid(),
  name             text                  NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 80 AND name !~ '[[:cntrl:]]'),
  kind             text                  NOT NULL CHECK (kind IN ('email', 'webhook')),
  enabled          boolean               NOT NULL DEFAULT true,
  webhook_url      text                  CHECK (char_length(webhook_url) BETWEEN 8 AND 2048 AND webhook_url ~ '^https?://' AND webhook_url !~ '[[:cntrl:][:space:]]'),
  email_addresses  text[]                NOT NULL DEFAULT '{}' CHECK (cardinality(email_addresses) <= 20),
  member_ids       uuid[]                NOT NULL DEFAULT '{}' CHECK (cardinality(member_ids) <= 50),
  severities       ads.severity_level[]  NOT NULL CHECK (cardinality(severities) BETWEEN 1 AND 4),
  anomaly_types    text[]                NOT NULL CHECK (cardinality(anomaly_types) BETWEEN 1 AND 5
                                           AND anomaly_types <@ ARRAY['spike', 'drop', 'tracking_loss', 'trend_change', 'outlier']),
  mode             text                  NOT NULL CHECK (mode IN ('immediate', 'digest')),
  digest_hour      smallint              CHECK (digest_hour BETWEEN 0 AND 23),
  -- Only anomalies created from this instant on are alerted: set at creation and whenever the rules change or the
  -- channel is enabled again, so widening a rule or re-enabling does not flood the channel with old anomalies.
  alerts_from      timestamptz           NOT NULL DEFAULT now(),
  created_at       timestamptz           NOT NULL DEFAULT now(),
  created_by       uuid,
  updated_at       timestamptz           NOT NULL DEFAULT now(),
  updated_by       uuid,
  CONSTRAINT alert_channels_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT alert_channels_digest_hour CHECK ((mode = 'digest') = (digest_hour IS NOT NULL)),
  CONSTRAINT alert_channels_webhook_url CHECK ((kind = 'webhook') = (webhook_url IS NOT NULL)),
  CONSTRAINT alert_channels_recipients CHECK (
    CASE kind WHEN 'email' THEN cardinality(email_addresses) + cardinality(member_ids) >= 1
              ELSE cardinality(email_addresses) = 0 AND cardinality(member_ids) = 0 END)
);
COMMENT ON TABLE ads_engine.alert_channels IS
  'Where a tenant''s new anomalies are sent: an email list (addresses and members, whose current email is used at sending) or a webhook (URL; '
  'its signing secret is in ads_engine.alert_webhook_secrets). Rules: the severities and anomaly types alerted, immediate or a daily digest at '
  'digest_hour in saas.tenants.timezone. Written by admins only (a restrictive policy checks the membership of saas.user_id).';
COMMENT ON COLUMN ads_engine.alert_channels.alerts_from IS
  'Anomalies created before this instant are not alerted on this channel: creation, a change of rules and re-enabling move it to now.';
COMMENT ON COLUMN ads_engine.alert_channels.member_ids IS
  'Members of the tenant who receive the mail; a member who left receives nothing (resolved at sending).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.alert_channels');

-- Defence in depth under the app's own role check: a write to a channel needs
-- the signed-in user (saas.user_id) to be an admin of the tenant. The delivery
-- job only reads channels, so it runs with no user.
DROP POLICY IF EXISTS admin_insert ON ads_engine.alert_channels;
CREATE POLICY admin_insert ON ads_engine.alert_channels AS RESTRICTIVE FOR INSERT TO aegis_app
  WITH CHECK (EXISTS (SELECT 1 FROM saas.memberships m
                      WHERE m.tenant_id = alert_channels.tenant_id AND m.user_id = (SELECT saas.current_user_id()) AND m.role = 'admin'));
DROP POLICY IF EXISTS admin_update ON ads_engine.alert_channels;
CREATE POLICY admin_update ON ads_engine.alert_channels AS RESTRICTIVE FOR UPDATE TO aegis_app
  USING (EXISTS (SELECT 1 FROM saas.memberships m
                 WHERE m.tenant_id = alert_channels.tenant_id AND m.user_id = (SELECT saas.current_user_id()) AND m.role = 'admin'))
  WITH CHECK (EXISTS (SELECT 1 FROM saas.memberships m
                      WHERE m.tenant_id = alert_channels.tenant_id AND m.user_id = (SELECT saas.current_user_id()) AND m.role = 'admin'));
DROP POLICY IF EXISTS admin_delete ON ads_engine.alert_channels;
CREATE POLICY admin_delete ON ads_engine.alert_channels AS RESTRICTIVE FOR DELETE TO aegis_app
  USING (EXISTS (SELECT 1 FROM saas.memberships m
                 WHERE m.tenant_id = alert_channels.tenant_id AND m.user_id = (SELECT saas.current_user_id()) AND m.role = 'admin'));

-- The scheduler lists the tenants with an enabled channel (ads_engine.alert_tenants, SECURITY DEFINER, owned by
-- aegis_owner): the owner is under forced RLS too, so it reads them under the scheduler's scope, like tenants_due.
DROP POLICY IF EXISTS alert_scheduler_scan ON ads_engine.alert_channels;
CREATE POLICY alert_scheduler_scan ON ads_engine.alert_channels FOR SELECT TO aegis_owner
  USING (current_setting('ads_engine.scope', true) = 'all_tenants');

REVOKE ALL ON ads_engine.alert_channels FROM PUBLIC, aegis_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.alert_channels TO aegis_app;

-- ---------------------------------------------------------------------------
-- Webhook secrets: kept apart so that no read of a channel can carry one. The
-- app role holds no privilege here; ads_engine.alert_set_secret (admins) and
-- ads_engine.alert_signing_secret (the sender) are SECURITY DEFINER.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.alert_webhook_secrets (
  tenant_id   uuid         NOT NULL,
  channel_id  uuid         NOT NULL,
  secret      text         NOT NULL CHECK (char_length(secret) BETWEEN 32 AND 200 AND secret ~ '^[A-Za-z0-9_-]+$'),
  created_at  timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT alert_webhook_secrets_pkey PRIMARY KEY (tenant_id, channel_id),
  CONSTRAINT alert_webhook_secrets_channel_fkey FOREIGN KEY (tenant_id, channel_id)
    REFERENCES ads_engine.alert_channels (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE ads_engine.alert_webhook_secrets IS
  'The HMAC-SHA256 key of each webhook channel (X-Aegis-Signature), generated by the server, shown to the admin once at creation and on rotation. '
  'No privilege for aegis_app: written by ads_engine.alert_set_secret (admins of the tenant) and read by ads_engine.alert_signing_secret (the sender).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.alert_webhook_secrets');
REVOKE ALL ON ads_engine.alert_webhook_secrets FROM PUBLIC, aegis_app;

-- ---------------------------------------------------------------------------
-- Deliveries: the log and the retry queue at once.
--   queued   made, not tried yet (next_attempt_at is when it may go)
--   failed   the last attempt failed; tried again at next_attempt_at (NULL: no retry, e.g. a test message)
--   sent     delivered (2xx from the webhook, accepted by the mail server)
--   gave_up  failed max_attempts times, refused by the safety rules, or its channel was disabled
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.alert_deliveries (
  tenant_id        uuid         NOT NULL,
  id               uuid         NOT NULL DEFAULT gen_random_uuid(),
  channel_id       uuid         NOT NULL,
  kind             text         NOT NULL CHECK (kind IN ('immediate', 'digest', 'test')),
  digest_day       date,
  status           text         NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'failed', 'sent', 'gave_up')),
  anomaly_count    integer      NOT NULL DEFAULT 0 CHECK (anomaly_count >= 0),
  -- the message as built when the delivery was made, so that every attempt sends the same content
  payload          jsonb        NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  attempts         integer      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     integer      NOT NULL CHECK (max_attempts BETWEEN 1 AND 10),
  next_attempt_at  timestamptz,
  -- a dispatcher holds the delivery while it sends; another one skips it until then
  claimed_until    timestamptz,
  last_attempt_at  timestamptz,
  sent_at          timestamptz,
  response_code    integer      CHECK (response_code BETWEEN 100 AND 999),
  last_error       text         CHECK (char_length(last_error) <= 500),
  -- every attempt: {"attempt", "at", "code", "error", "next_attempt_at"}
  history          jsonb        NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(history) = 'array'),
  -- email: the addresses that accepted it already (a retry goes to the others only)
  delivered_to     text[]       NOT NULL DEFAULT '{}',
  created_at       timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT alert_deliveries_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT alert_deliveries_channel_fkey FOREIGN KEY (tenant_id, channel_id)
    REFERENCES ads_engine.alert_channels (tenant_id, id) ON DELETE CASCADE,
  -- one digest per channel and local day
  CONSTRAINT alert_deliveries_one_digest UNIQUE (tenant_id, channel_id, digest_day),
  CONSTRAINT alert_deliveries_digest_day CHECK ((kind = 'digest') = (digest_day IS NOT NULL)),
  CONSTRAINT alert_deliveries_attempts CHECK (attempts <= max_attempts),
  CONSTRAINT alert_deliveries_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
  CONSTRAINT alert_deliveries_next CHECK (status IN ('queued', 'failed') OR next_attempt_at IS NULL)
);
CREATE INDEX IF NOT EXISTS alert_deliveries_channel_idx ON ads_engine.alert_deliveries (tenant_id, channel_id, created_at DESC);
CREATE INDEX IF NOT EXISTS alert_deliveries_due_idx ON ads_engine.alert_deliveries (tenant_id, next_attempt_at)
  WHERE next_attempt_at IS NOT NULL;
COMMENT ON TABLE ads_engine.alert_deliveries IS
  'One message to one alert channel (an immediate alert, a daily digest, a test) and its delivery: status queued / failed / sent / gave_up, '
  'attempts out of max_attempts, the response code and error of the last attempt, when the next one is due (exponential backoff: 1 min, 5 min, '
  '30 min, 2 h) and every attempt in history. Never holds a secret. Written by lib/alerts (the worker, and Send test).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.alert_deliveries');
REVOKE ALL ON ads_engine.alert_deliveries FROM PUBLIC, aegis_app;
-- No DELETE: the log is the record of what went out (it goes with its channel).
GRANT SELECT, INSERT, UPDATE ON ads_engine.alert_deliveries TO aegis_app;

-- ---------------------------------------------------------------------------
-- The ledger: (channel, anomaly) is the primary key, so an anomaly is taken
-- for a channel once, whichever dispatcher runs and however often.
-- delivery_id NULL: waiting for the channel's next digest.
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ads_engine.alert_items (
  tenant_id    uuid         NOT NULL,
  channel_id   uuid         NOT NULL,
  anomaly_id   uuid         NOT NULL,
  delivery_id  uuid,
  queued_at    timestamptz  NOT NULL,
  CONSTRAINT alert_items_pkey PRIMARY KEY (tenant_id, channel_id, anomaly_id),
  CONSTRAINT alert_items_channel_fkey FOREIGN KEY (tenant_id, channel_id)
    REFERENCES ads_engine.alert_channels (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT alert_items_anomaly_fkey FOREIGN KEY (tenant_id, anomaly_id)
    REFERENCES ads.anomalies (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT alert_items_delivery_fkey FOREIGN KEY (tenant_id, delivery_id)
    REFERENCES ads_engine.alert_deliveries (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS alert_items_pending_idx ON ads_engine.alert_items (tenant_id, channel_id) WHERE delivery_id IS NULL;
CREATE INDEX IF NOT EXISTS alert_items_delivery_idx ON ads_engine.alert_items (tenant_id, delivery_id);
COMMENT ON TABLE ads_engine.alert_items IS
  'Which anomaly was taken for which alert channel, and in which delivery (NULL: waiting for the next digest). The primary key makes an anomaly '
  'alerted at most once per channel. Filled by lib/alerts/store.ts after each loop run (an anti-join of ads.anomalies against this table).';

CALL aegis_deploy.isolate_by_tenant('ads_engine.alert_items');
REVOKE ALL ON ads_engine.alert_items FROM PUBLIC, aegis_app;
-- DELETE only matters for items still waiting (a rule change drops those the rule no longer takes).
GRANT SELECT, INSERT, UPDATE, DELETE ON ads_engine.alert_items TO aegis_app;

-- The dispatcher finds new anomalies of a tenant by creation time (the guide's idx_anomalies_active leads with severity).
CREATE INDEX IF NOT EXISTS anomalies_created_idx ON ads.anomalies (tenant_id, created_at);

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('MEDIA_ALERTS', 'success', 'ads_engine.alert_channels, alert_webhook_secrets, alert_deliveries, alert_items present');

COMMIT;
