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

SET LOCAL aegis.media_part_120_grants = 'done';
