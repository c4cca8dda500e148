-- Media Buying, 104_alerts: the functions around the alert channels
-- (db/migrations/012_alert_channels.sql; docs/alerts.md).
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- The tables come from a numbered migration, which runs after this file on a
-- new database: these functions are plpgsql (planned when first run).
--
-- The webhook secrets table grants the app role nothing. Two SECURITY DEFINER
-- functions are the only way to it: one writes a secret (an admin of the
-- current tenant, for a webhook channel of that tenant), one reads it for
-- signing: the sender's transactions only, which carry the tenant and no
-- signed-in user (saas.user_id empty; every request of a page or an action
-- sets it). So no SELECT of a page, and no join, can carry a secret, and no
-- query made in a member's request (a viewer's included) can call the reader.
-- This is a guard against mistakes and against SQL injected into a page's
-- query, not a boundary against arbitrary SQL run as the app role: such SQL
-- could clear saas.user_id itself (as it could read everything else of the
-- tenant under its row-level security).

CREATE OR REPLACE FUNCTION ads_engine.alert_set_secret(p_tenant uuid, p_channel uuid, p_secret text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_tenant uuid := saas.current_tenant_id();
BEGIN
  IF v_tenant IS NULL OR p_tenant IS DISTINCT FROM v_tenant THEN
    RAISE EXCEPTION 'alert_set_secret: the tenant must be the current tenant (saas.tenant_id)' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM saas.memberships m
                 WHERE m.tenant_id = v_tenant AND m.user_id = saas.current_user_id() AND m.role = 'admin') THEN
    RAISE EXCEPTION 'alert_set_secret: only an admin of the tenant sets a webhook secret' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM ads_engine.alert_channels c
                 WHERE c.tenant_id = v_tenant AND c.id = p_channel AND c.kind = 'webhook') THEN
    RAISE EXCEPTION 'alert_set_secret: no webhook channel % in this tenant', p_channel USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO ads_engine.alert_webhook_secrets AS s (tenant_id, channel_id, secret, created_at)
  VALUES (v_tenant, p_channel, p_secret, pg_catalog.now())
  ON CONFLICT (tenant_id, channel_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at;
END
$$;
COMMENT ON FUNCTION ads_engine.alert_set_secret(uuid, uuid, text) IS
  'Stores (or replaces: rotation) the signing secret of a webhook channel of the current tenant. Only an admin of the tenant (saas.user_id). '
  'SECURITY DEFINER: the app role holds no privilege on ads_engine.alert_webhook_secrets.';

CREATE OR REPLACE FUNCTION ads_engine.alert_signing_secret(p_tenant uuid, p_channel uuid)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_tenant uuid := saas.current_tenant_id();
BEGIN
  IF v_tenant IS NULL OR p_tenant IS DISTINCT FROM v_tenant THEN
    RAISE EXCEPTION 'alert_signing_secret: the tenant must be the current tenant (saas.tenant_id)' USING ERRCODE = '42501';
  END IF;
  IF saas.current_user_id() IS NOT NULL THEN
    RAISE EXCEPTION 'alert_signing_secret: for the sender only, whose transaction has no signed-in user (saas.user_id)' USING ERRCODE = '42501';
  END IF;
  RETURN (SELECT s.secret FROM ads_engine.alert_webhook_secrets s WHERE s.tenant_id = v_tenant AND s.channel_id = p_channel);
END
$$;
COMMENT ON FUNCTION ads_engine.alert_signing_secret(uuid, uuid) IS
  'The signing secret of a webhook channel of the current tenant (NULL when it has none), for the sender (lib/alerts) only: '
  'refused in a transaction with a signed-in user (saas.user_id), i.e. in any page or action request. '
  'SECURITY DEFINER: the app role holds no privilege on ads_engine.alert_webhook_secrets.';

CREATE OR REPLACE FUNCTION ads_engine.alert_tenants()
RETURNS TABLE (tenant_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  -- The bulk grant of 120_grants gives every ads_engine function to the app
  -- role: this one lists every tenant, so it checks its caller itself.
  IF NOT pg_has_role(session_user, 'aegis_owner', 'MEMBER') THEN
    RAISE EXCEPTION 'ads_engine.alert_tenants lists every tenant: for the scheduler, connected as the owner' USING ERRCODE = '42501';
  END IF;
  IF saas.current_tenant_id() IS NOT NULL THEN
    RAISE EXCEPTION 'ads_engine.alert_tenants lists every tenant: call it outside a tenant transaction' USING ERRCODE = '42501';
  END IF;
  IF to_regclass('ads_engine.alert_channels') IS NULL THEN
    RETURN;
  END IF;
  PERFORM set_config('ads_engine.scope', 'all_tenants', true);
  RETURN QUERY SELECT DISTINCT c.tenant_id FROM ads_engine.alert_channels c WHERE c.enabled ORDER BY 1;
  PERFORM set_config('ads_engine.scope', '', true);
END
$$;
COMMENT ON FUNCTION ads_engine.alert_tenants() IS
  'The tenants with at least one enabled alert channel, for the scheduler''s alert tick (scripts/worker.ts). Returns ids only; '
  'refuses a caller that is not the owner (or a member of it) and a call inside a tenant transaction.';

REVOKE ALL ON FUNCTION ads_engine.alert_set_secret(uuid, uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ads_engine.alert_signing_secret(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION ads_engine.alert_tenants() FROM PUBLIC;

SET LOCAL aegis.media_part_104_alerts = 'done';
