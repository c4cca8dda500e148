-- Media Buying, 120_grants: execute grants on the functions.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.

-- ---------------------------------------------------------------------------
-- Grants: the app role runs everything but tenants_due (RLS applies: all the
-- others are SECURITY INVOKER). The definer function lists every tenant: it
-- is for the owner and its members only (the scheduler and the command line
-- connect as the owner to call it), so it is revoked from PUBLIC and, after
-- the bulk grant, from the app role.
-- ---------------------------------------------------------------------------
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ads TO aegis_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ads_engine TO aegis_app;
REVOKE ALL ON FUNCTION ads_engine.tenants_due(timestamptz, boolean, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION ads_engine.tenants_due(timestamptz, boolean, interval) FROM aegis_app;
GRANT EXECUTE ON FUNCTION ads_engine.tenants_due(timestamptz, boolean, interval) TO aegis_owner;
-- A SECURITY DEFINER function acts with the owner's rights: only the roles it
-- was written for call it, not every role that can connect (PUBLIC). The app
-- role keeps EXECUTE from the grant above; trigger functions cannot be called.
REVOKE ALL ON FUNCTION ads_engine.set_auto_apply_policy(uuid, ads.platform, text, boolean, numeric, text),
  ads_engine.record_auto_application(uuid, uuid), ads_engine.undo_auto_apply(uuid, uuid, text),
  ads_engine.record_anomaly_moves(uuid, uuid[], text, text, text, text) FROM PUBLIC;

SET LOCAL aegis.media_part_120_grants = 'done';
