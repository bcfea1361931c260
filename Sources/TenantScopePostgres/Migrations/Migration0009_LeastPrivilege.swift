extension Migration {
    /// What the running server needs beyond the tenant and platform roles, as narrow SECURITY DEFINER
    /// functions, so that `serve` holds no owner login after start-up (architecture decision 21); learner
    /// keys as per-tenant keyed hashes that only aggregate functions can count across tenants (decision
    /// 22); audit appends that carry a signed principal (decision 23); and the credential state the
    /// server caches to end revoked tokens, sessions and deleted tenants within seconds (decision 24).
    ///
    /// Every function here fixes `search_path` and checks its arguments.
    static let leastPrivilege = Migration(version: 9, name: "least privilege", statements: [
        // MARK: Runtime keys and the tenant directory, for the server's login role.
        """
        CREATE FUNCTION app.runtime_keys() RETURNS TABLE (tenant_context_key text, shared_link_key text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT (SELECT s.value FROM app_private.settings s WHERE s.key = 'tenant_context_key'),
                 (SELECT s.value FROM app_private.settings s WHERE s.key = 'shared_link_key')
        $$
        """,
        "REVOKE ALL ON FUNCTION app.runtime_keys() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.runtime_keys() TO tenantscope_app",
        """
        CREATE FUNCTION app.tenant_directory()
        RETURNS TABLE (id uuid, slug text, name text, tier text, region text, created_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT t.id, t.slug, t.name, t.tier, t.region, t.created_at FROM app.tenants t ORDER BY t.slug $$
        """,
        "REVOKE ALL ON FUNCTION app.tenant_directory() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.tenant_directory() TO tenantscope_app",
        // Deleting a tenant (the platform API): everything it owns goes with it through ON DELETE CASCADE.
        """
        CREATE FUNCTION app.delete_tenant(p_slug text)
        RETURNS TABLE (id uuid, slug text, name text, tier text, region text, created_at timestamptz)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          IF p_slug IS NULL OR p_slug !~ '^[a-z][a-z0-9-]{0,61}[a-z0-9]$' THEN
            RAISE EXCEPTION 'invalid tenant slug' USING ERRCODE = '22023';
          END IF;
          RETURN QUERY DELETE FROM app.tenants t WHERE t.slug = p_slug
                       RETURNING t.id, t.slug, t.name, t.tier, t.region, t.created_at;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.delete_tenant(text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.delete_tenant(text) TO tenantscope_app",

        // MARK: Signed audit appends.
        // The principal of an append is `<hex actor>.<kind>.<expiry>.<mac>`, the MAC an HMAC-SHA256 under the
        // tenant-context key of 'audit:' || the first three parts (a tenant context cannot be replayed as an
        // audit principal, nor the other way round). The server's role loses the unsigned append.
        """
        CREATE FUNCTION app.append_signed_audit(
          p_principal text, p_scope_tenant_id uuid, p_action text, p_report text,
          p_parameters jsonb, p_row_count bigint, p_outcome text
        ) RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          parts text[] := string_to_array(p_principal, '.');
          mac_key bytea;
        BEGIN
          IF coalesce(array_length(parts, 1), 0) <> 4 OR parts[1] !~ '^([0-9a-f][0-9a-f])+$' OR length(parts[1]) > 800
             OR parts[2] NOT IN ('tenant_user', 'platform_admin', 'operator', 'system') OR parts[3] !~ '^[0-9]{1,12}$' THEN
            RAISE EXCEPTION 'invalid audit principal' USING ERRCODE = '28000';
          END IF;
          SELECT decode(s.value, 'hex') INTO mac_key FROM app_private.settings s WHERE s.key = 'tenant_context_key';
          IF encode(app_private.hmac(convert_to('audit:' || parts[1] || '.' || parts[2] || '.' || parts[3], 'UTF8'), mac_key, 'sha256'), 'hex')
             IS DISTINCT FROM parts[4] THEN
            RAISE EXCEPTION 'invalid audit principal' USING ERRCODE = '28000';
          END IF;
          IF parts[3]::bigint < extract(epoch FROM now()) THEN
            RAISE EXCEPTION 'expired audit principal' USING ERRCODE = '28000';
          END IF;
          IF p_action IS NULL OR p_action !~ '^[a-z][a-z_]{0,63}$' OR p_outcome IS NULL OR length(p_outcome) > 64 THEN
            RAISE EXCEPTION 'invalid audit entry' USING ERRCODE = '22023';
          END IF;
          RETURN app.append_audit(convert_from(decode(parts[1], 'hex'), 'UTF8'), parts[2], p_scope_tenant_id, p_action,
                                  p_report, p_parameters, p_row_count, p_outcome);
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.append_signed_audit(text, uuid, text, text, jsonb, bigint, text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.append_signed_audit(text, uuid, text, text, jsonb, bigint, text) TO tenantscope_app",
        "REVOKE EXECUTE ON FUNCTION app.append_audit(text, text, uuid, text, text, jsonb, bigint, text) FROM tenantscope_app",
        // The chain head, for the external checkpoints the server writes after appends.
        """
        CREATE FUNCTION app.audit_head() RETURNS TABLE (seq bigint, hash text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT a.seq, a.hash FROM app.audit_log a ORDER BY a.seq DESC LIMIT 1 $$
        """,
        "REVOKE ALL ON FUNCTION app.audit_head() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.audit_head() TO tenantscope_app",

        // MARK: Credential state.
        // Sessions of a tenant (or of one subject in it) issued before revoked_at end at their next request.
        """
        CREATE TABLE app_private.revoked_sessions (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          subject text CHECK (length(subject) BETWEEN 1 AND 200),
          revoked_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX revoked_sessions_revoked_at ON app_private.revoked_sessions (revoked_at)",
        "CREATE INDEX revoked_tokens_revoked_at ON app_private.revoked_tokens (revoked_at)",
        // What the server caches: live tenants, and the token and session revocations young enough to
        // matter (nothing it verifies lives longer than `horizon`).
        """
        CREATE FUNCTION app.credential_state(horizon interval)
        RETURNS TABLE (kind text, tenant_id uuid, value text, at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT 'tenant', t.id, NULL::text, t.created_at FROM app.tenants t
          UNION ALL
          SELECT 'revoked_token', NULL::uuid, r.jti, r.revoked_at FROM app_private.revoked_tokens r
          WHERE r.revoked_at > now() - horizon
          UNION ALL
          SELECT 'revoked_session', s.tenant_id, s.subject, s.revoked_at FROM app_private.revoked_sessions s
          WHERE s.revoked_at > now() - horizon
        $$
        """,
        "REVOKE ALL ON FUNCTION app.credential_state(interval) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.credential_state(interval) TO tenantscope_app",

        // MARK: Keyed learner hashes.
        // One random secret per tenant, created with the tenant, never readable by an application role.
        """
        CREATE TABLE app_private.learner_key_secrets (
          tenant_id uuid PRIMARY KEY REFERENCES app.tenants (id) ON DELETE CASCADE,
          secret bytea NOT NULL DEFAULT app_private.gen_random_bytes(32)
        )
        """,
        "INSERT INTO app_private.learner_key_secrets (tenant_id) SELECT t.id FROM app.tenants t",
        """
        CREATE FUNCTION app_private.create_learner_key_secret() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          INSERT INTO app_private.learner_key_secrets (tenant_id) VALUES (NEW.id);
          RETURN NEW;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app_private.create_learner_key_secret() FROM PUBLIC",
        """
        CREATE TRIGGER tenants_learner_key_secret AFTER INSERT ON app.tenants
        FOR EACH ROW EXECUTE FUNCTION app_private.create_learner_key_secret()
        """,
        // A learner's key in the current tenant: HMAC-SHA256 of the actor key under the tenant's secret,
        // truncated to 128 bits. NULL without a tenant context. The tenant role only: the platform role
        // cannot turn a known e-mail address into a key.
        """
        CREATE FUNCTION app.learner_key(actor_key text) RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT left(encode(app_private.hmac(convert_to(actor_key, 'UTF8'), k.secret, 'sha256'), 'hex'), 32)
          FROM app_private.learner_key_secrets k WHERE k.tenant_id = (SELECT app.current_tenant())
        $$
        """,
        "REVOKE ALL ON FUNCTION app.learner_key(text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.learner_key(text) TO tenantscope_tenant",

        // Learners carry their key, so region filters on roll-up rows join on an index.
        "ALTER TABLE app.learners ADD COLUMN learner_key text",
        """
        CREATE FUNCTION app_private.set_learner_key() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          NEW.learner_key := app.learner_key(NEW.actor_key);
          RETURN NEW;
        END
        $$
        """,
        // A trigger function needs no EXECUTE grant to fire, so the tenant role gets no access to app_private.
        "REVOKE ALL ON FUNCTION app_private.set_learner_key() FROM PUBLIC",
        """
        CREATE TRIGGER learners_learner_key BEFORE INSERT OR UPDATE OF actor_key ON app.learners
        FOR EACH ROW EXECUTE FUNCTION app_private.set_learner_key()
        """,
        "DROP INDEX app.learners_tenant_hash",
        "CREATE INDEX learners_tenant_learner_key ON app.learners (tenant_id, learner_key)",
        "DROP FUNCTION app.refresh_daily_rollups(date)",

        // The learner-day refresh of migration 8, with keyed hashes: grouped by actor first, so the key is
        // computed once per learner and day, not once per statement.
        """
        CREATE OR REPLACE FUNCTION app.refresh_learner_activity_days(days date[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          affected text[] := ARRAY(SELECT DISTINCT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
        BEGIN
          DELETE FROM app.daily_learner_activity WHERE day = ANY (days);
          INSERT INTO app.daily_learner_activity (day, learner_hash, statements)
            SELECT g.day, app.learner_key(g.actor_key), g.n
            FROM (SELECT d.day, s.actor_key, count(*) AS n
                  FROM unnest(days) AS d(day)
                  JOIN app.statements s ON s."timestamp" >= d.day::timestamp AT TIME ZONE 'UTC'
                                       AND s."timestamp" < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
                  WHERE NOT s.voided AND s.voids IS NULL
                  GROUP BY 1, 2) g;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (day, learners)
            SELECT a.day, count(*) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

          affected := ARRAY(SELECT unnest(affected) UNION
                            SELECT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
          DELETE FROM app.learner_active_days WHERE learner_hash = ANY (affected);
          INSERT INTO app.learner_active_days (learner_hash, active)
            SELECT a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
            FROM app.daily_learner_activity a WHERE a.learner_hash = ANY (affected)
            GROUP BY a.learner_hash;
        END
        $$
        """,
        // Today's active learners (migration 8), with keyed hashes.
        """
        CREATE OR REPLACE FUNCTION app.active_learners_today(wanted_region text, overlap interval) RETURNS SETOF text
        LANGUAGE plpgsql STABLE SECURITY INVOKER
        SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan
        AS $$
        DECLARE
          since timestamptz := coalesce((SELECT r.stored_through FROM app.rollup_state r) - overlap, '-infinity');
          day_start timestamptz := current_date::timestamp AT TIME ZONE 'UTC';
          day_end timestamptz := (current_date + 1)::timestamp AT TIME ZONE 'UTC';
          revoided text[] := ARRAY(SELECT DISTINCT t.actor_key
                                   FROM app.statements v JOIN app.statements t ON t.id = v.voids
                                   WHERE v.stored > since AND v.voids IS NOT NULL);
          revoided_keys text[] := ARRAY(SELECT app.learner_key(r.actor_key) FROM unnest(revoided) r(actor_key));
        BEGIN
          RETURN QUERY
            SELECT a.learner_hash FROM app.daily_learner_activity a
            WHERE a.day = current_date
              AND a.learner_hash <> ALL (revoided_keys)
              AND (wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                     WHERE l.learner_key = a.learner_hash AND l.region = wanted_region))
            UNION
            SELECT app.learner_key(r.actor_key) FROM (
              SELECT DISTINCT s.actor_key FROM app.statements s
              WHERE (s.stored > since OR s.actor_key = ANY (revoided))
                AND s."timestamp" >= day_start AND s."timestamp" < day_end AND NOT s.voided AND s.voids IS NULL
                AND (wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                       WHERE l.actor_key = s.actor_key AND l.region = wanted_region))) r;
        END
        $$
        """,

        // MARK: Aggregates only for the platform.
        // A role of its own reads the learner-level roll-ups across tenants; it owns the two functions below
        // and nothing else, has no login, and the platform role may only execute the functions, which return
        // per-tenant counts, never a learner key.
        """
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantscope_aggregates') THEN
            CREATE ROLE tenantscope_aggregates NOLOGIN;
          END IF;
        END $$
        """,
        "GRANT USAGE ON SCHEMA app TO tenantscope_aggregates",
        "DROP POLICY platform_read ON app.daily_learner_activity",
        "DROP POLICY platform_read ON app.learner_active_days",
        "REVOKE ALL ON app.daily_learner_activity, app.learner_active_days FROM tenantscope_platform",
        "CREATE POLICY aggregates_read ON app.daily_learner_activity FOR SELECT TO tenantscope_aggregates USING (true)",
        "CREATE POLICY aggregates_read ON app.learner_active_days FOR SELECT TO tenantscope_aggregates USING (true)",
        "GRANT SELECT ON app.daily_learner_activity, app.learner_active_days TO tenantscope_aggregates",
        // Per tenant: distinct active learners and statements over the last `window_days` UTC days, today included.
        """
        CREATE FUNCTION app.platform_learner_activity(window_days integer)
        RETURNS TABLE (tenant_id uuid, active_learners bigint, statements bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT a.tenant_id, count(DISTINCT a.learner_hash), sum(a.statements)::bigint
          FROM app.daily_learner_activity a
          WHERE window_days BETWEEN 1 AND 3660 AND a.day >= current_date - (window_days - 1)
          GROUP BY a.tenant_id
        $$
        """,
        // Per tenant: distinct learners active on any day of the window, from the learner summaries.
        """
        CREATE FUNCTION app.platform_window_learners(window_days integer)
        RETURNS TABLE (tenant_id uuid, window_active_learners bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT l.tenant_id, count(*)
          FROM app.learner_active_days l
          WHERE window_days BETWEEN 1 AND 3660 AND l.last_day >= current_date - (window_days - 1)
            AND l.active && daterange(current_date - (window_days - 1), current_date, '[]')
          GROUP BY l.tenant_id
        $$
        """,
        // Handing a function to a role needs membership in it and its CREATE on the schema: both only for
        // the two statements that do it.
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        "GRANT CREATE ON SCHEMA app TO tenantscope_aggregates",
        "ALTER FUNCTION app.platform_learner_activity(integer) OWNER TO tenantscope_aggregates",
        "ALTER FUNCTION app.platform_window_learners(integer) OWNER TO tenantscope_aggregates",
        "REVOKE CREATE ON SCHEMA app FROM tenantscope_aggregates",
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
        "REVOKE ALL ON FUNCTION app.platform_learner_activity(integer) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION app.platform_window_learners(integer) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.platform_learner_activity(integer) TO tenantscope_platform",
        "GRANT EXECUTE ON FUNCTION app.platform_window_learners(integer) TO tenantscope_platform",

        // MARK: Existing data: keys for every learner, and roll-ups rebuilt with them.
        // The owner is under forced row-level security like everyone: it works through each tenant in turn
        // under a context signed with the tenant-context key.
        """
        DO $$
        DECLARE
          tenant uuid;
          mac_key bytea := (SELECT decode(s.value, 'hex') FROM app_private.settings s WHERE s.key = 'tenant_context_key');
          expiry text := (extract(epoch FROM now())::bigint + 86400)::text;
        BEGIN
          FOR tenant IN SELECT t.id FROM app.tenants t LOOP
            PERFORM set_config('app.tenant_ctx', tenant::text || '.' || expiry || '.'
              || encode(app_private.hmac(convert_to(tenant::text || '.' || expiry, 'UTF8'), mac_key, 'sha256'), 'hex'), true);
            UPDATE app.learners l SET learner_key = app.learner_key(l.actor_key);
            DELETE FROM app.daily_learner_activity;
            DELETE FROM app.learner_active_days;
            PERFORM app.catch_up_rollups(interval '10 minutes', true);
          END LOOP;
          PERFORM set_config('app.tenant_ctx', '', true);
        END $$
        """,
        "ALTER TABLE app.learners ALTER COLUMN learner_key SET NOT NULL",
    ])
}
