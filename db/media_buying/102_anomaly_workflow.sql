-- Media Buying, 102_anomaly_workflow: the writer of the anomaly board's record.
-- Included by db/media_buying_deployment.sql, inside its transaction and as
-- aegis_owner: not a file to run on its own.
--
-- The board's history (ads_engine.anomaly_events) and feedback
-- (ads_engine.anomaly_verdicts), tables of db/migrations/011, are read by the
-- app role and written only here: otherwise anything running as the app role
-- could write a history row in another person's name ("resolved by the
-- admin") or plant verdicts for anomalies that never were ("50 of 51
-- dismissed"). The function below writes what a move on the board has just
-- done in the same transaction, in the name of the transaction's user
-- (saas.user_id), for anomalies of the caller's tenant that are in the status
-- the move leaves them in. The tables are created by the migration, after
-- this file on a first deployment: the function names them only when it runs.
-- Inside a definer current_user is the owner, so the tenant check
-- (ads_engine.enter_caller_tenant) looks at saas.tenant_id and the login.

CREATE OR REPLACE FUNCTION ads_engine.record_anomaly_moves(
  p_tenant uuid, p_ids uuid[], p_action text, p_from text, p_note text DEFAULT NULL, p_incident text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_entered boolean := ads_engine.enter_caller_tenant(p_tenant);
  v_user uuid := saas.current_user_id();
  v_label text;
  v_to text;
  v_from text[];
  v_n integer;
BEGIN
  IF v_user IS NULL THEN
    RAISE EXCEPTION 'saas.user_id is not set: a move on the anomaly board is made by a signed-in user' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM saas.memberships m
                 WHERE m.tenant_id = p_tenant AND m.user_id = v_user AND m.role IN ('buyer', 'admin')) THEN
    RAISE EXCEPTION 'user % is not a buyer or an admin of this tenant: they cannot move anomalies', v_user USING ERRCODE = '42501';
  END IF;
  -- the moves of lib/anomalies/schema.ts (TRANSITIONS): where each may start, and the status it leaves
  v_to := CASE p_action WHEN 'acknowledge' THEN 'investigating' WHEN 'resolve' THEN 'resolved' WHEN 'dismiss' THEN 'dismissed'
                        WHEN 'reopen' THEN 'active' WHEN 'snooze' THEN 'active' END;
  v_from := CASE p_action WHEN 'acknowledge' THEN ARRAY['active'] WHEN 'resolve' THEN ARRAY['active', 'investigating']
                          WHEN 'dismiss' THEN ARRAY['active', 'investigating'] WHEN 'reopen' THEN ARRAY['resolved', 'dismissed']
                          WHEN 'snooze' THEN ARRAY['active'] END;
  IF v_to IS NULL THEN
    RAISE EXCEPTION 'action must be acknowledge, resolve, reopen, dismiss or snooze, not %', coalesce(p_action, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF p_from IS NULL OR NOT (p_from = ANY (v_from)) THEN
    RAISE EXCEPTION '% starts from % only, not %', p_action, pg_catalog.array_to_string(v_from, ' or '), coalesce(p_from, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF p_ids IS NULL OR pg_catalog.cardinality(p_ids) = 0 OR pg_catalog.array_position(p_ids, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'ids must name at least one anomaly, and no NULL' USING ERRCODE = '22004';
  END IF;
  IF (SELECT count(DISTINCT x) FROM pg_catalog.unnest(p_ids) AS x) <> pg_catalog.cardinality(p_ids) THEN
    RAISE EXCEPTION 'ids must name each anomaly once' USING ERRCODE = '22023';
  END IF;

  -- every one is the tenant's ...
  SELECT count(*) INTO v_n FROM ads.anomalies an WHERE an.tenant_id = p_tenant AND an.id = ANY (p_ids);
  IF v_n <> pg_catalog.cardinality(p_ids) THEN
    RAISE EXCEPTION '% of % anomalies were not found in this tenant', pg_catalog.cardinality(p_ids) - v_n, pg_catalog.cardinality(p_ids)
      USING ERRCODE = 'P0002';
  END IF;
  -- ... and the move was made, in this transaction, by this user: the history records what is, never what is not
  SELECT count(*) INTO v_n FROM ads.anomalies an
   WHERE an.tenant_id = p_tenant AND an.id = ANY (p_ids)
     AND (an.status <> v_to
          OR (p_action = 'resolve' AND (an.resolved_by IS DISTINCT FROM v_user OR an.resolved_at IS DISTINCT FROM pg_catalog.now()))
          OR (p_action = 'snooze' AND NOT EXISTS (SELECT 1 FROM ads_engine.anomaly_snoozes s
                                                  WHERE s.tenant_id = p_tenant AND s.anomaly_id = an.id AND s.snoozed_by = v_user
                                                    AND s.snoozed_at = pg_catalog.now()))
          OR (p_incident IS NOT NULL
              AND p_incident IS DISTINCT FROM an.platform::text || '|' || an.level::text || '|' || pg_catalog.to_char(an.day, 'YYYY-MM-DD')));
  IF v_n > 0 THEN
    RAISE EXCEPTION '% of % anomalies do not show the % (status %, by this user now%): nothing to record', v_n, pg_catalog.cardinality(p_ids),
      p_action, v_to, CASE WHEN p_incident IS NULL THEN '' ELSE ', incident ' || p_incident END USING ERRCODE = '55000';
  END IF;

  SELECT u.email INTO v_label FROM saas.users u WHERE u.id = v_user;
  INSERT INTO ads_engine.anomaly_events (tenant_id, anomaly_id, action, from_status, to_status, note, snoozed_until, incident,
                                         actor_user_id, actor_label)
  SELECT p_tenant, an.id, p_action, p_from, v_to, p_note,
         CASE WHEN p_action = 'snooze' THEN (SELECT s.snoozed_until FROM ads_engine.anomaly_snoozes s
                                             WHERE s.tenant_id = p_tenant AND s.anomaly_id = an.id) END,
         p_incident, v_user, v_label
    FROM ads.anomalies an
   WHERE an.tenant_id = p_tenant AND an.id = ANY (p_ids)
   ORDER BY an.id;
  GET DIAGNOSTICS v_n = ROW_COUNT;

  -- the feedback: closing records what the person concluded; reopening takes it back
  IF p_action IN ('resolve', 'dismiss') THEN
    INSERT INTO ads_engine.anomaly_verdicts AS v (tenant_id, anomaly_id, platform, metric_name, anomaly_type, day, verdict, decided_by, decided_at)
    SELECT an.tenant_id, an.id, an.platform, an.metric_name, an.anomaly_type, an.day,
           CASE WHEN p_action = 'resolve' THEN 'confirmed' ELSE 'not_anomaly' END, v_user, pg_catalog.now()
      FROM ads.anomalies an
     WHERE an.tenant_id = p_tenant AND an.id = ANY (p_ids)
    ON CONFLICT (tenant_id, anomaly_id) DO UPDATE
      SET verdict = EXCLUDED.verdict, decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at;
  ELSIF p_action = 'reopen' THEN
    DELETE FROM ads_engine.anomaly_verdicts v WHERE v.tenant_id = p_tenant AND v.anomaly_id = ANY (p_ids);
  END IF;
  IF v_entered THEN PERFORM pg_catalog.set_config('saas.tenant_id', '', true); END IF;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION ads_engine.record_anomaly_moves(uuid, uuid[], text, text, text, text) IS
  'Records a move of the anomaly board that the caller has just made in this transaction: one ads_engine.anomaly_events row per anomaly '
  '(action, from p_from, to the status the action leaves, note, the snooze''s end for a snooze, the incident key, actor = saas.current_user_id() '
  'and their email), and for resolve / dismiss the verdict confirmed / not_anomaly in ads_engine.anomaly_verdicts (reopen removes it). Refuses '
  'without a user or when they are not a buyer or admin of the tenant (42501), an unknown action or a start it does not allow (22023), '
  'ids not all of this tenant (P0002), and anomalies not in the status the action leaves (for resolve: resolved by this user now; for snooze: '
  'snoozed by this user now; with an incident: not of its platform|level|day) (55000). Returns the rows written. SECURITY DEFINER (search_path '
  'pg_catalog, pg_temp; tenant checked by ads_engine.enter_caller_tenant): the app role reads those tables but writes them only through here.';

SET LOCAL aegis.media_part_102_anomaly_workflow = 'done';
