-- AEGIS mail functions: the one way the app changes an outbox row, marking it
-- sent or failed after it has tried the mail server (lib/mail/send.ts).
--
-- saas.mail_outbox is under forced row-level security and the app role holds
-- no UPDATE on it, so the mark is a SECURITY DEFINER function owned by
-- aegis_owner. It sets search_path to pg_catalog, pg_temp, names every object in full,
-- checks the row's tenant itself, and is executable by aegis_app only.
--
-- Re-applied on every deploy, after the numbered migrations (it needs the
-- table of db/migrations/002_mail.sql): only functions and grants, replaced,
-- so running it again changes nothing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

DO $check$
BEGIN
  IF to_regclass('saas.mail_outbox') IS NULL THEN
    RAISE EXCEPTION 'AEGIS mail table is missing: run db/migrations/002_mail.sql first';
  END IF;
END
$check$;

SET LOCAL ROLE aegis_owner;

CREATE OR REPLACE FUNCTION saas.mail_mark(p_id bigint, p_sent boolean, p_error text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_marked integer;
BEGIN
  IF p_id IS NULL OR p_sent IS NULL THEN
    RAISE EXCEPTION 'mail_mark: p_id and p_sent must not be NULL' USING ERRCODE = '22004';
  END IF;
  -- A tenant's row is marked in that tenant's transaction; system mail
  -- (tenant_id NULL) in a transaction with no tenant set. A row already sent
  -- stays as it is, and only rows handed to a mail server have attempts.
  UPDATE saas.mail_outbox o
     SET attempts   = o.attempts + 1,
         sent_at    = CASE WHEN p_sent THEN pg_catalog.now() END,
         last_error = CASE WHEN p_sent THEN NULL
                           ELSE pg_catalog.left(coalesce(nullif(pg_catalog.btrim(p_error), ''), 'unknown error'), 2000) END
   WHERE o.id = p_id
     AND o.tenant_id IS NOT DISTINCT FROM saas.current_tenant_id()
     AND o.transport = 'smtp'
     AND o.sent_at IS NULL;
  GET DIAGNOSTICS v_marked = ROW_COUNT;
  RETURN v_marked > 0;
END
$$;
COMMENT ON FUNCTION saas.mail_mark(bigint, boolean, text) IS
  'Records a delivery attempt of an outbox row: sent (sent_at now, error cleared) or failed (last_error, at most 2000 '
  'characters). Only a row of the current tenant (saas.tenant_id), or with no tenant set a system row (tenant_id NULL), '
  'that went to a mail server and is not sent yet; returns whether it marked one. SECURITY DEFINER: the app role has no UPDATE on the table.';

REVOKE ALL ON FUNCTION saas.mail_mark(bigint, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION saas.mail_mark(bigint, boolean, text) TO aegis_app;

COMMIT;
