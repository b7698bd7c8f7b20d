-- Reverts 0006_roles in this database: policies, row-level security, grants, the token-status view and the
-- producer tenants. The roles themselves belong to the cluster and may serve other databases, so they stay;
-- drop them by hand (DROP ROLE tuku_producer, ...) once no database uses them.

DROP POLICY IF EXISTS producer_tenants_all ON tuku.producer_tenants;
DROP POLICY IF EXISTS producer_tenants_own ON tuku.producer_tenants;
DROP POLICY IF EXISTS exchanges_all ON tuku.exchanges;
DROP POLICY IF EXISTS exchanges_producer_own_tenants ON tuku.exchanges;
DROP POLICY IF EXISTS attempts_all ON tuku.attempts;
DROP POLICY IF EXISTS attempts_producer_own_tenants ON tuku.attempts;
DROP POLICY IF EXISTS jobs_all ON tuku.jobs;
DROP POLICY IF EXISTS jobs_producer_own_tenants ON tuku.jobs;
ALTER TABLE tuku.exchanges DISABLE ROW LEVEL SECURITY;
ALTER TABLE tuku.attempts DISABLE ROW LEVEL SECURITY;
ALTER TABLE tuku.jobs DISABLE ROW LEVEL SECURITY;

DROP VIEW tuku.oauth_token_status;
DROP FUNCTION tuku.store_token_set(text, bytea, timestamptz, bytea, text, text[]);
DROP TABLE tuku.producer_tenants;

ALTER FUNCTION tuku.remove_expired_bodies(integer) SECURITY INVOKER RESET search_path;

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['tuku_producer', 'tuku_worker', 'tuku_operator', 'tuku_dashboard'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA tuku FROM %I', r);
            EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA tuku FROM %I', r);
            EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA tuku FROM %I', r);
            EXECUTE format('REVOKE ALL ON SCHEMA tuku FROM %I', r);
        END IF;
    END LOOP;
END
$$;

ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tuku TO PUBLIC;
