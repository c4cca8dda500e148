-- AEGIS invitations and password resets: what happens through an emailed
-- link, before the person is a member of the tenant (or signed in at all).
-- Every function is SECURITY DEFINER, owned by aegis_owner, with search_path
-- pg_catalog, pg_temp and every object named in full, executable by aegis_app only.
-- A link is <id>.<secret>; the web tier passes the id and the SHA-256 of the
-- secret, and a function does nothing unless both match one row.
--
-- To write a membership and an audit row in the invitation's tenant, the
-- acceptance functions set saas.tenant_id (and saas.user_id) to it for their
-- own work and put back what the caller had when they return.
--
-- Re-applied on every deploy after the numbered migrations (it needs
-- db/migrations/004_invitations.sql): only functions and grants.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

DO $check$
BEGIN
  IF to_regclass('saas.invitations') IS NULL OR to_regclass('saas.password_resets') IS NULL THEN
    RAISE EXCEPTION 'AEGIS invitation tables are missing: run db/migrations/004_invitations.sql first';
  END IF;
END
$check$;

SET LOCAL ROLE aegis_owner;

-- ---------------------------------------------------------------------------
-- Invitations
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.invitation_lookup(p_id uuid, p_token_hash bytea)
RETURNS TABLE (tenant_id uuid, tenant_name text, email text, role saas.member_role, status text,
               expires_at timestamptz, account text, invited_by_name text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT i.tenant_id, t.name, i.email, i.role,
         CASE WHEN i.accepted_at IS NOT NULL THEN 'accepted'
              WHEN i.declined_at IS NOT NULL THEN 'declined'
              WHEN i.revoked_at IS NOT NULL THEN 'revoked'
              WHEN i.expires_at <= pg_catalog.now() THEN 'expired'
              ELSE 'open' END,
         i.expires_at,
         CASE WHEN u.id IS NULL THEN 'none'
              WHEN u.disabled_at IS NOT NULL THEN 'disabled'
              WHEN u.email_verified_at IS NULL THEN 'unverified'
              ELSE 'verified' END,
         coalesce(inviter.name, inviter.email)
  FROM saas.invitations i
  JOIN saas.tenants t ON t.id = i.tenant_id
  LEFT JOIN saas.users u ON u.email = i.email
  LEFT JOIN saas.users inviter ON inviter.id = i.invited_by
  WHERE i.id = p_id AND i.token_hash = p_token_hash
$$;
COMMENT ON FUNCTION saas.invitation_lookup(uuid, bytea) IS
  'The invitation of a link (id and SHA-256 of its secret): tenant, email, role, status (open, expired, accepted, '
  'declined, revoked), and whether an account of that email exists (none, unverified, verified, disabled). No row for '
  'a wrong link. SECURITY DEFINER: the invitee is not a member yet.';

-- The open invitation of a link, locked; raises AEG10 when there is none.
CREATE OR REPLACE FUNCTION saas.invitation_open(p_id uuid, p_token_hash bytea)
RETURNS saas.invitations
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v saas.invitations;
BEGIN
  SELECT * INTO v FROM saas.invitations i
  WHERE i.id = p_id AND i.token_hash = p_token_hash
  FOR UPDATE;
  IF NOT FOUND OR v.accepted_at IS NOT NULL OR v.declined_at IS NOT NULL OR v.revoked_at IS NOT NULL
     OR v.expires_at <= pg_catalog.now() THEN
    RAISE EXCEPTION 'this invitation link is no longer valid' USING ERRCODE = 'AEG10';
  END IF;
  RETURN v;
END
$$;
COMMENT ON FUNCTION saas.invitation_open(uuid, bytea) IS
  'Helper of the acceptance functions: the open, unexpired invitation of a link, locked FOR UPDATE (AEG10 otherwise).';

-- Joins the user to the invitation's tenant (never lowering a role it already
-- has), closes the invitation and audits it, inside the tenant's setting.
CREATE OR REPLACE FUNCTION saas.invitation_join(p_inv saas.invitations, p_user_id uuid, p_new_account boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_tenant text := pg_catalog.current_setting('saas.tenant_id', true);
  v_user text := pg_catalog.current_setting('saas.user_id', true);
  v_before saas.member_role;
  v_role saas.member_role;
BEGIN
  PERFORM pg_catalog.set_config('saas.tenant_id', p_inv.tenant_id::text, true);
  PERFORM pg_catalog.set_config('saas.user_id', p_user_id::text, true);
  SELECT m.role INTO v_before FROM saas.memberships m WHERE m.tenant_id = p_inv.tenant_id AND m.user_id = p_user_id;
  v_role := GREATEST(v_before, p_inv.role);
  INSERT INTO saas.memberships (tenant_id, user_id, role) VALUES (p_inv.tenant_id, p_user_id, v_role)
  ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role;
  UPDATE saas.invitations i SET accepted_at = pg_catalog.now(), accepted_by = p_user_id
  WHERE i.tenant_id = p_inv.tenant_id AND i.id = p_inv.id;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, action, entity_type, entity_id, before, after)
  VALUES (p_inv.tenant_id, p_user_id, 'invitation.accept', 'membership', p_user_id::text,
          CASE WHEN v_before IS NULL THEN NULL ELSE pg_catalog.jsonb_build_object('email', p_inv.email, 'role', v_before) END,
          pg_catalog.jsonb_build_object('email', p_inv.email, 'role', v_role, 'invitation', p_inv.id, 'newAccount', p_new_account));
  PERFORM pg_catalog.set_config('saas.tenant_id', coalesce(v_tenant, ''), true);
  PERFORM pg_catalog.set_config('saas.user_id', coalesce(v_user, ''), true);
END
$$;
COMMENT ON FUNCTION saas.invitation_join(saas.invitations, uuid, boolean) IS
  'Helper of the acceptance functions: membership (role never lowered), invitation closed, audit row, in the tenant.';

CREATE OR REPLACE FUNCTION saas.invitation_accept_new(p_id uuid, p_token_hash bytea, p_password_hash text, p_name text)
RETURNS TABLE (user_id uuid, tenant_id uuid, email text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_inv saas.invitations;
  v_user saas.users;
  v_id uuid;
  v_tenant text := pg_catalog.current_setting('saas.tenant_id', true);
  m record;
BEGIN
  IF p_password_hash IS NULL OR p_password_hash NOT LIKE '$argon2id$%' THEN
    RAISE EXCEPTION 'invitation_accept_new: an argon2id hash is required' USING ERRCODE = '22023';
  END IF;
  v_inv := saas.invitation_open(p_id, p_token_hash);
  SELECT * INTO v_user FROM saas.users u WHERE u.email = v_inv.email FOR UPDATE;
  IF FOUND AND v_user.disabled_at IS NOT NULL THEN
    RAISE EXCEPTION 'the account of this invitation is disabled' USING ERRCODE = 'AEG12';
  END IF;
  IF FOUND AND v_user.email_verified_at IS NOT NULL THEN
    -- Its owner proved the address: only they, signed in, may accept.
    RAISE EXCEPTION 'an account exists for this email: sign in to accept' USING ERRCODE = 'AEG11';
  END IF;
  IF FOUND THEN
    -- Nobody ever proved this account: whoever set its password or linked its
    -- identity is not known to be the owner. The person who holds the link
    -- is; the account becomes theirs, and every earlier session ends.
    v_id := v_user.id;
    UPDATE saas.users u
    SET password_hash = p_password_hash,
        name = coalesce(nullif(pg_catalog.btrim(p_name), ''), u.name),
        email_verified_at = pg_catalog.now(),
        session_version = u.session_version + 1,
        password_must_change = false,
        password_expires_at = NULL,
        sso_issuer = NULL,
        sso_subject = NULL
    WHERE u.id = v_id;
    -- Nor did the owner accept the memberships it had: they end (but a
    -- tenant's last admin, which nobody else could replace, stays).
    FOR m IN SELECT ms.tenant_id FROM saas.memberships ms WHERE ms.user_id = v_id AND ms.tenant_id <> v_inv.tenant_id LOOP
      BEGIN
        PERFORM pg_catalog.set_config('saas.tenant_id', m.tenant_id::text, true);
        DELETE FROM saas.memberships ms WHERE ms.tenant_id = m.tenant_id AND ms.user_id = v_id;
      EXCEPTION WHEN SQLSTATE 'AEG01' THEN
        NULL;
      END;
    END LOOP;
    PERFORM pg_catalog.set_config('saas.tenant_id', coalesce(v_tenant, ''), true);
  ELSE
    INSERT INTO saas.users (email, name, password_hash, email_verified_at)
    VALUES (v_inv.email, nullif(pg_catalog.btrim(p_name), ''), p_password_hash, pg_catalog.now())
    RETURNING id INTO v_id;
  END IF;
  -- Failed guesses on this account are forgiven: the owner just proved the address.
  DELETE FROM saas.login_attempts a WHERE a.scope = 'account' AND a.key = v_inv.email;
  PERFORM saas.invitation_join(v_inv, v_id, v_user.id IS NULL);
  user_id := v_id;
  tenant_id := v_inv.tenant_id;
  email := v_inv.email;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION saas.invitation_accept_new(uuid, bytea, text, text) IS
  'Accepts an invitation for an email with no proved account: creates the account, or replaces the credentials of an '
  'unverified one (password, SSO link, sessions, memberships it never accepted), marks the email verified and joins '
  'the tenant. AEG10 for a link no longer valid, AEG11 when a verified account exists (it must sign in and accept), '
  'AEG12 for a disabled account. SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.invitation_accept_existing(p_id uuid, p_token_hash bytea)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_inv saas.invitations;
  v_me uuid := saas.current_user_id();
BEGIN
  v_inv := saas.invitation_open(p_id, p_token_hash);
  IF v_me IS NULL OR NOT EXISTS (SELECT 1 FROM saas.users u
                                 WHERE u.id = v_me AND u.email = v_inv.email
                                   AND u.email_verified_at IS NOT NULL AND u.disabled_at IS NULL) THEN
    RAISE EXCEPTION 'this invitation is for another email address' USING ERRCODE = 'AEG13';
  END IF;
  PERFORM saas.invitation_join(v_inv, v_me, false);
  RETURN v_inv.tenant_id;
END
$$;
COMMENT ON FUNCTION saas.invitation_accept_existing(uuid, bytea) IS
  'Accepts an invitation as the signed-in account (saas.user_id), which must be the verified, enabled account of the '
  'invited email (AEG13 otherwise); joins the tenant. Returns the tenant. SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.invitation_decline(p_id uuid, p_token_hash bytea)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_inv saas.invitations;
  v_tenant text := pg_catalog.current_setting('saas.tenant_id', true);
BEGIN
  v_inv := saas.invitation_open(p_id, p_token_hash);
  -- Only the invitee answers: another account holding the link may not close it.
  IF saas.current_user_id() IS NULL OR NOT EXISTS (SELECT 1 FROM saas.users u
                                 WHERE u.id = saas.current_user_id() AND u.email = v_inv.email
                                   AND u.email_verified_at IS NOT NULL AND u.disabled_at IS NULL) THEN
    RAISE EXCEPTION 'this invitation is for another email address' USING ERRCODE = 'AEG13';
  END IF;
  PERFORM pg_catalog.set_config('saas.tenant_id', v_inv.tenant_id::text, true);
  UPDATE saas.invitations i SET declined_at = pg_catalog.now() WHERE i.tenant_id = v_inv.tenant_id AND i.id = v_inv.id;
  INSERT INTO saas.audit_log (tenant_id, actor_user_id, actor_label, action, entity_type, entity_id, after)
  VALUES (v_inv.tenant_id, saas.current_user_id(), v_inv.email, 'invitation.decline', 'invitation', v_inv.id::text,
          pg_catalog.jsonb_build_object('email', v_inv.email, 'role', v_inv.role));
  PERFORM pg_catalog.set_config('saas.tenant_id', coalesce(v_tenant, ''), true);
END
$$;
COMMENT ON FUNCTION saas.invitation_decline(uuid, bytea) IS
  'Declines an open invitation by its link as the signed-in, verified account of the invited email (AEG13 otherwise), '
  'audited in its tenant (AEG10 for a link no longer valid). SECURITY DEFINER.';

-- ---------------------------------------------------------------------------
-- Password resets
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION saas.password_reset_begin(p_email text, p_token_hash bytea)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_user uuid;
  v_id uuid;
BEGIN
  IF p_token_hash IS NULL OR pg_catalog.length(p_token_hash) <> 32 THEN
    RAISE EXCEPTION 'password_reset_begin: a SHA-256 token hash is required' USING ERRCODE = '22023';
  END IF;
  SELECT u.id INTO v_user FROM saas.users u
  WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_email)) AND u.disabled_at IS NULL;
  IF v_user IS NULL THEN
    RETURN NULL;
  END IF;
  -- Take turns per account, so parallel requests cannot pass the limit together.
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aegis.password_reset'), pg_catalog.hashtext(v_user::text));
  -- At most three links an hour per account: a stranger cannot flood a mailbox.
  IF (SELECT pg_catalog.count(*) FROM saas.password_resets r
      WHERE r.user_id = v_user AND r.created_at > pg_catalog.now() - interval '1 hour') >= 3 THEN
    RETURN NULL;
  END IF;
  INSERT INTO saas.password_resets (user_id, token_hash, expires_at)
  VALUES (v_user, p_token_hash, pg_catalog.now() + interval '1 hour')
  RETURNING id INTO v_id;
  DELETE FROM saas.password_resets r WHERE r.created_at < pg_catalog.now() - interval '1 day';
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION saas.password_reset_begin(text, bytea) IS
  'Starts a password reset for the enabled account of this email: stores the SHA-256 of the link''s secret, valid one '
  'hour, and returns the link id; NULL for an unknown email or past three requests an hour (the caller says the same '
  'thing either way). SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.password_reset_lookup(p_id uuid, p_token_hash bytea)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT u.email FROM saas.password_resets r JOIN saas.users u ON u.id = r.user_id
  WHERE r.id = p_id AND r.token_hash = p_token_hash AND r.used_at IS NULL
    AND r.expires_at > pg_catalog.now() AND u.disabled_at IS NULL
$$;
COMMENT ON FUNCTION saas.password_reset_lookup(uuid, bytea) IS
  'The email of a valid (unused, unexpired) reset link, or NULL. SECURITY DEFINER.';

CREATE OR REPLACE FUNCTION saas.password_reset_complete(p_id uuid, p_token_hash bytea, p_password_hash text)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_reset saas.password_resets;
  v_email text;
BEGIN
  IF p_password_hash IS NULL OR p_password_hash NOT LIKE '$argon2id$%' THEN
    RAISE EXCEPTION 'password_reset_complete: an argon2id hash is required' USING ERRCODE = '22023';
  END IF;
  SELECT * INTO v_reset FROM saas.password_resets r WHERE r.id = p_id AND r.token_hash = p_token_hash FOR UPDATE;
  IF NOT FOUND OR v_reset.used_at IS NOT NULL OR v_reset.expires_at <= pg_catalog.now() THEN
    RAISE EXCEPTION 'this reset link is no longer valid' USING ERRCODE = 'AEG14';
  END IF;
  -- The link proves the address: the password is the owner's, the email verified,
  -- every other session ended, every other open link spent.
  UPDATE saas.users u
  SET password_hash = p_password_hash,
      email_verified_at = coalesce(u.email_verified_at, pg_catalog.now()),
      session_version = u.session_version + 1,
      password_must_change = false,
      password_expires_at = NULL
  WHERE u.id = v_reset.user_id AND u.disabled_at IS NULL
  RETURNING u.email INTO v_email;
  IF v_email IS NULL THEN
    RAISE EXCEPTION 'this reset link is no longer valid' USING ERRCODE = 'AEG14';
  END IF;
  UPDATE saas.password_resets r SET used_at = pg_catalog.now() WHERE r.user_id = v_reset.user_id AND r.used_at IS NULL;
  DELETE FROM saas.login_attempts a WHERE a.scope = 'account' AND a.key = v_email;
  RETURN v_email;
END
$$;
COMMENT ON FUNCTION saas.password_reset_complete(uuid, bytea, text) IS
  'Sets the password of a valid reset link''s account (argon2id hash from the caller), marks its email verified, ends '
  'its other sessions (session_version), spends its open links and forgives its failed sign-ins; returns the email. '
  'AEG14 for a link no longer valid. SECURITY DEFINER.';

-- ---------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION saas.invitation_lookup(uuid, bytea), saas.invitation_open(uuid, bytea),
  saas.invitation_join(saas.invitations, uuid, boolean), saas.invitation_accept_new(uuid, bytea, text, text),
  saas.invitation_accept_existing(uuid, bytea), saas.invitation_decline(uuid, bytea),
  saas.password_reset_begin(text, bytea), saas.password_reset_lookup(uuid, bytea),
  saas.password_reset_complete(uuid, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION saas.invitation_lookup(uuid, bytea), saas.invitation_accept_new(uuid, bytea, text, text),
  saas.invitation_accept_existing(uuid, bytea), saas.invitation_decline(uuid, bytea),
  saas.password_reset_begin(text, bytea), saas.password_reset_lookup(uuid, bytea),
  saas.password_reset_complete(uuid, bytea, text) TO aegis_app;

INSERT INTO public.deployment_log (phase, status, message)
VALUES ('CORE_INVITATION_FUNCTIONS', 'success', 'invitation and password-reset functions present');

COMMIT;
