-- Roles and access. Four group roles (NOLOGIN); people and services log in as their own roles and are
-- granted one of these (docs/operations.md, "Roles and logins"):
--
--   tuku_producer   upstream payroll systems: enqueue jobs, and read their own tenants' jobs, attempts and
--                   exchanges (row-level security; a login's tenants are listed in tuku.producer_tenants).
--   tuku_worker     `tuku worker`: claim, heartbeat, acknowledge, pace, refresh tokens, sweep retention.
--   tuku_operator   people running the service: every view, jobs and what the gateway said, the operator
--                   functions (retry, cancel, pause, set a rate, tenants of a producer), loading tokens; never
--                   the sealed tokens themselves.
--   tuku_dashboard  Grafana, Metabase: the views only. No table, so no payloads, bodies or tokens.
--
-- Roles belong to the whole cluster, so several Tuku databases on one server share them. The migration that
-- applies this creates them if they are missing (the migrating role needs CREATEROLE for that, or a DBA creates
-- them first); reverting it revokes what it granted in this database and leaves the roles for the others.
-- The role that runs the migrations owns the tables and is not restricted by any of this.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['tuku_producer', 'tuku_worker', 'tuku_operator', 'tuku_dashboard'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                -- Another database's migration created it a moment ago.
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- Which tenants each producer login may enqueue for and read. Operators maintain it.
CREATE TABLE tuku.producer_tenants (
    login      name        NOT NULL,
    tenant     text        NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (login, tenant),
    CONSTRAINT producer_tenants_tenant_not_empty CHECK (tenant <> '')
);

COMMENT ON TABLE tuku.producer_tenants IS 'The tenants each producer login (a role granted tuku_producer) may enqueue for and read.';

-- Nothing in the schema is anyone's by default.
REVOKE ALL ON SCHEMA tuku FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA tuku FROM PUBLIC;
-- Functions the migrating role creates later are not executable by everyone either. (A per-schema default
-- cannot take away the global one, hence no IN SCHEMA; later migrations also revoke explicitly.)
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
GRANT USAGE ON SCHEMA tuku TO tuku_producer, tuku_worker, tuku_operator, tuku_dashboard;

-- ---------------------------------------------------------------------------------------------------
-- Producers
-- ---------------------------------------------------------------------------------------------------

-- Only the columns a submission is made of: state, attempts and leases are the queue's business.
GRANT INSERT (kind, tenant, payload, idempotency_key, priority, run_at, max_attempts) ON tuku.jobs TO tuku_producer;
GRANT SELECT ON tuku.jobs, tuku.attempts, tuku.exchanges TO tuku_producer;
GRANT SELECT ON tuku.producer_tenants TO tuku_producer;
GRANT EXECUTE ON FUNCTION tuku.enqueue(text, text, jsonb, text, smallint, timestamptz, integer) TO tuku_producer;

-- ---------------------------------------------------------------------------------------------------
-- Workers
-- ---------------------------------------------------------------------------------------------------

GRANT SELECT, UPDATE ON tuku.jobs TO tuku_worker;
GRANT SELECT, INSERT ON tuku.attempts, tuku.exchanges TO tuku_worker;
GRANT SELECT, INSERT, UPDATE ON tuku.workers TO tuku_worker;
GRANT SELECT, UPDATE ON tuku.oauth_tokens TO tuku_worker;
GRANT SELECT ON tuku.oauth_token_tenants TO tuku_worker;
GRANT SELECT, UPDATE ON tuku.rate_limits TO tuku_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON tuku.rate_limit_calls TO tuku_worker;
GRANT SELECT, INSERT ON tuku.rate_limit_throttles TO tuku_worker;
GRANT SELECT ON tuku.settings, tuku.schema_migrations TO tuku_worker;
GRANT USAGE ON SEQUENCE tuku.lease_token_seq TO tuku_worker;
GRANT EXECUTE ON FUNCTION
    tuku.reserve_slot(text, bigint, bigint, integer),
    tuku.release_slot(text, bigint, integer, double precision),
    tuku.cooldown_remaining(text),
    tuku.current_rate(tuku.rate_limits),
    tuku.remove_expired_bodies(integer)
TO tuku_worker;

-- The retention sweep clears bodies workers may not otherwise change: it runs with its owner's rights, for
-- whoever may call it (workers, operators), on a fixed search path.
ALTER FUNCTION tuku.remove_expired_bodies(integer) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------------------------------
-- Operators
-- ---------------------------------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE ON tuku.jobs TO tuku_operator;
GRANT SELECT ON tuku.attempts, tuku.exchanges, tuku.workers, tuku.rate_limit_calls, tuku.rate_limit_throttles,
    tuku.schema_migrations TO tuku_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON tuku.rate_limits, tuku.producer_tenants TO tuku_operator;
GRANT SELECT, UPDATE (value, updated_at) ON tuku.settings TO tuku_operator;
-- Loading a token set (`tuku tokens load`) goes through tuku.store_token_set (below): operators write sealed
-- tokens but never read them back. They may see which sets exist and delete one.
GRANT SELECT (id, name), DELETE ON tuku.oauth_tokens TO tuku_operator;
GRANT SELECT ON tuku.oauth_token_tenants TO tuku_operator;

-- Stores (or replaces) a sealed token set and the tenants it may act for, in one call. An upsert needs read
-- access to the columns it replaces, so this runs with its owner's rights: callers write tokens they cannot read.
CREATE FUNCTION tuku.store_token_set(
    p_name text, p_access_token bytea, p_access_expires_at timestamptz, p_refresh_token bytea, p_key_id text,
    p_tenants text[]
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    stored_id bigint;
BEGIN
    INSERT INTO tuku.oauth_tokens (name, access_token, access_expires_at, refresh_token, key_id)
    VALUES (p_name, p_access_token, p_access_expires_at, p_refresh_token, p_key_id)
    ON CONFLICT (name) DO UPDATE SET
        access_token = EXCLUDED.access_token, access_expires_at = EXCLUDED.access_expires_at,
        refresh_token = EXCLUDED.refresh_token, key_id = EXCLUDED.key_id,
        generation = tuku.oauth_tokens.generation + 1, needs_authorisation_since = NULL,
        last_error = NULL, updated_at = now()
    RETURNING id INTO stored_id;
    DELETE FROM tuku.oauth_token_tenants WHERE token_id = stored_id;
    INSERT INTO tuku.oauth_token_tenants (token_id, tenant) SELECT DISTINCT stored_id, unnest(p_tenants);
    RETURN stored_id;
END
$$;
REVOKE EXECUTE ON FUNCTION tuku.store_token_set(text, bytea, timestamptz, bytea, text, text[]) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    tuku.enqueue(text, text, jsonb, text, smallint, timestamptz, integer),
    tuku.retry(bigint),
    tuku.cancel(bigint),
    tuku.retry_jobs(text, text, text),
    tuku.cancel_jobs(text, text, text),
    tuku.set_rate(text, double precision, integer, integer),
    tuku.current_rate(tuku.rate_limits),
    tuku.cooldown_remaining(text),
    tuku.remove_expired_bodies(integer),
    tuku.store_token_set(text, bytea, timestamptz, bytea, text, text[])
TO tuku_operator;

-- ---------------------------------------------------------------------------------------------------
-- Dashboards: views only. A view reads its tables with its owner's rights, so the dashboard role needs no
-- table at all; functions a view calls are checked against the reader, hence current_rate.
-- ---------------------------------------------------------------------------------------------------

-- Token sets as operators and dashboards see them: expiry and health, never the tokens.
CREATE VIEW tuku.oauth_token_status AS
SELECT t.name,
       coalesce((SELECT string_agg(tt.tenant, ',' ORDER BY tt.tenant) FROM tuku.oauth_token_tenants tt WHERE tt.token_id = t.id), '') AS tenants,
       t.access_expires_at,
       t.refresh_token IS NOT NULL AS refreshable,
       t.generation,
       t.refreshed_at,
       t.needs_authorisation_since,
       t.last_error,
       t.key_id
FROM tuku.oauth_tokens t;

GRANT SELECT ON
    tuku.queue_depth, tuku.throughput_per_minute, tuku.latency_last_hour, tuku.gateway_status_last_hour,
    tuku.worker_status, tuku.jobs_needing_attention, tuku.rate_limit_status, tuku.oauth_token_status
TO tuku_dashboard, tuku_operator;
GRANT EXECUTE ON FUNCTION tuku.current_rate(tuku.rate_limits) TO tuku_dashboard;

-- ---------------------------------------------------------------------------------------------------
-- Row-level security: producers see their own tenants; workers and operators see everything. The owner (the
-- migrating role) and the views it owns are not subject to it.
-- ---------------------------------------------------------------------------------------------------

ALTER TABLE tuku.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE tuku.attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE tuku.exchanges ENABLE ROW LEVEL SECURITY;
ALTER TABLE tuku.producer_tenants ENABLE ROW LEVEL SECURITY;

CREATE POLICY jobs_producer_own_tenants ON tuku.jobs TO tuku_producer
    USING (tenant IN (SELECT p.tenant FROM tuku.producer_tenants p WHERE p.login = current_user))
    WITH CHECK (tenant IN (SELECT p.tenant FROM tuku.producer_tenants p WHERE p.login = current_user));
CREATE POLICY jobs_all ON tuku.jobs TO tuku_worker, tuku_operator USING (true) WITH CHECK (true);

-- An attempt or exchange is visible when its job is (the subquery is itself under the jobs policies).
CREATE POLICY attempts_producer_own_tenants ON tuku.attempts FOR SELECT TO tuku_producer
    USING (EXISTS (SELECT 1 FROM tuku.jobs j WHERE j.id = attempts.job_id));
CREATE POLICY attempts_all ON tuku.attempts TO tuku_worker, tuku_operator USING (true) WITH CHECK (true);

CREATE POLICY exchanges_producer_own_tenants ON tuku.exchanges FOR SELECT TO tuku_producer
    USING (EXISTS (SELECT 1 FROM tuku.jobs j WHERE j.id = exchanges.job_id));
CREATE POLICY exchanges_all ON tuku.exchanges TO tuku_worker, tuku_operator USING (true) WITH CHECK (true);

CREATE POLICY producer_tenants_own ON tuku.producer_tenants FOR SELECT TO tuku_producer
    USING (login = current_user);
CREATE POLICY producer_tenants_all ON tuku.producer_tenants TO tuku_operator USING (true) WITH CHECK (true);
