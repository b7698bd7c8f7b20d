-- Security hardening (issue #11): history no one can erase or re-file, payloads with a size limit, producers who
-- cannot jump other tenants' queues, and dashboard views that cannot be read around.

-- ---------------------------------------------------------------------------------------------------
-- Retention settings have minimums the settings table enforces, and every sweep reads them through one check.
-- ---------------------------------------------------------------------------------------------------

ALTER TABLE tuku.settings ADD COLUMN minimum integer;

UPDATE tuku.settings SET minimum = 30 WHERE name IN ('exchange_body_retention_days', 'payload_retention_days');
-- The record of what was filed (state, attempts, IRD's gateway ids and submission keys) outlives the tax year it
-- belongs to: a tax year (1 April to 31 March) and the month after it.
UPDATE tuku.settings SET minimum = 400 WHERE name = 'finished_job_retention_days';
-- Values already below a minimum are raised to it, so that the constraint can hold.
UPDATE tuku.settings SET value = minimum::text, updated_at = now()
WHERE minimum IS NOT NULL AND (value !~ '^[0-9]{1,9}$' OR value::integer < minimum);

ALTER TABLE tuku.settings ADD CONSTRAINT settings_value_at_least_minimum CHECK (
    minimum IS NULL OR CASE WHEN value ~ '^[0-9]{1,9}$' THEN value::integer >= minimum ELSE false END
);

COMMENT ON COLUMN tuku.settings.minimum IS
    'The smallest value the setting may take (retention periods in days); operators can change the value, not this.';

-- Reads a retention setting in days; a missing, malformed or too small one is an error, never "keep nothing".
CREATE OR REPLACE FUNCTION tuku.retention_days(setting text) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    days  integer;
    least integer;
BEGIN
    SELECT CASE WHEN value ~ '^[0-9]{1,9}$' THEN value::integer END, coalesce(minimum, 1)
    INTO days, least
    FROM tuku.settings WHERE name = setting;
    IF days IS NULL OR days < least OR days < 1 THEN
        RAISE EXCEPTION 'setting % is missing, malformed or below its minimum of % days', setting, coalesce(least, 1)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN days;
END
$$;

-- The body sweep read its setting itself and took any number, so -36500 removed today's bodies. It now reads it
-- through tuku.retention_days, as the other two steps do.
CREATE OR REPLACE FUNCTION tuku.remove_expired_bodies(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff  timestamptz := now() - make_interval(days => tuku.retention_days('exchange_body_retention_days'));
    cleared integer;
BEGIN
    UPDATE tuku.exchanges
    SET request_body = NULL, response_body = NULL, bodies_removed_at = now()
    WHERE id IN (
        SELECT id FROM tuku.exchanges
        WHERE bodies_removed_at IS NULL AND started_at < cutoff
        ORDER BY id
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    );
    GET DIAGNOSTICS cleared = ROW_COUNT;
    RETURN cleared;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- A succeeded job stays succeeded: no function and no direct UPDATE (not even the owner's) re-files it.
-- ---------------------------------------------------------------------------------------------------

CREATE FUNCTION tuku.jobs_succeeded_is_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'job % succeeded: a filing the gateway accepted is never run again (enqueue a new job to amend it)', OLD.id
        USING ERRCODE = 'object_not_in_prerequisite_state';
END
$$;

CREATE TRIGGER jobs_succeeded_is_final BEFORE UPDATE OF state ON tuku.jobs
    FOR EACH ROW WHEN (OLD.state = 'succeeded' AND NEW.state IS DISTINCT FROM 'succeeded')
    EXECUTE FUNCTION tuku.jobs_succeeded_is_final();

-- ---------------------------------------------------------------------------------------------------
-- Payload size: a documented limit at the door, whatever path inserts.
-- ---------------------------------------------------------------------------------------------------

INSERT INTO tuku.settings (name, value, description, minimum) VALUES
    ('max_payload_bytes', '4194304',
     'Largest payload (its JSON text, in bytes) a job may carry; larger ones are refused at insert.', 1024);

CREATE FUNCTION tuku.jobs_payload_within_limit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    size  bigint := octet_length(NEW.payload::text);
    limit_bytes bigint;
BEGIN
    SELECT value::bigint INTO limit_bytes FROM tuku.settings WHERE name = 'max_payload_bytes';
    IF size > coalesce(limit_bytes, 4194304) THEN
        RAISE EXCEPTION 'payload of % bytes is over the limit of % bytes (tuku.settings max_payload_bytes)', size, coalesce(limit_bytes, 4194304)
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'split the submission, or ask an operator to raise max_payload_bytes';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER jobs_payload_within_limit BEFORE INSERT OR UPDATE OF payload ON tuku.jobs
    FOR EACH ROW EXECUTE FUNCTION tuku.jobs_payload_within_limit();

-- ---------------------------------------------------------------------------------------------------
-- Priority is an operator's lever: a producer may not put its jobs ahead of the default (100) unless its tenant
-- was granted a higher priority (a lower number) in tuku.producer_tenants.
-- ---------------------------------------------------------------------------------------------------

ALTER TABLE tuku.producer_tenants ADD COLUMN highest_priority smallint NOT NULL DEFAULT 100;
ALTER TABLE tuku.producer_tenants ADD CONSTRAINT producer_tenants_priority_range CHECK (highest_priority BETWEEN 0 AND 1000);
COMMENT ON COLUMN tuku.producer_tenants.highest_priority IS
    'The lowest priority number (the soonest) this login may give its jobs for this tenant; operators set it.';

CREATE FUNCTION tuku.jobs_producer_priority() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed smallint;
BEGIN
    -- Only producer logins (those listed in tuku.producer_tenants, which row-level security requires of them)
    -- are limited: the owner, workers and operators insert as they see fit. Membership is not the test: the
    -- owner may be a member of a producer login's role, for administration.
    IF NOT EXISTS (SELECT 1 FROM tuku.producer_tenants WHERE login = session_user)
       OR pg_has_role(session_user, 'tuku_operator', 'MEMBER') THEN
        RETURN NEW;
    END IF;
    SELECT highest_priority INTO allowed FROM tuku.producer_tenants WHERE login = session_user AND tenant = NEW.tenant;
    IF NEW.priority < coalesce(allowed, 100) THEN
        RAISE EXCEPTION 'priority % is ahead of what % may use for tenant % (at least %)', NEW.priority, session_user, NEW.tenant, coalesce(allowed, 100)
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'an operator can grant a higher priority in tuku.producer_tenants.highest_priority';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER jobs_producer_priority BEFORE INSERT ON tuku.jobs
    FOR EACH ROW EXECUTE FUNCTION tuku.jobs_producer_priority();

REVOKE EXECUTE ON FUNCTION tuku.jobs_succeeded_is_final(), tuku.jobs_payload_within_limit(), tuku.jobs_producer_priority() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------------
-- Dashboard views are security barriers: a dashboard login's own (leaky) function in a WHERE clause is applied
-- after the view's filters, so it cannot see the rows a view leaves out.
-- ---------------------------------------------------------------------------------------------------

ALTER VIEW tuku.queue_depth SET (security_barrier = true);
ALTER VIEW tuku.throughput_per_minute SET (security_barrier = true);
ALTER VIEW tuku.latency_last_hour SET (security_barrier = true);
ALTER VIEW tuku.gateway_status_last_hour SET (security_barrier = true);
ALTER VIEW tuku.rate_limit_status SET (security_barrier = true);
ALTER VIEW tuku.worker_status SET (security_barrier = true);
ALTER VIEW tuku.jobs_needing_attention SET (security_barrier = true);
ALTER VIEW tuku.pause_status SET (security_barrier = true);
ALTER VIEW tuku.oauth_token_status SET (security_barrier = true);
ALTER VIEW tuku.ready_job_count SET (security_barrier = true);

-- Temporary objects (where a login would put such a function) are not everyone's by default, where the migrating
-- role owns the database; otherwise a DBA runs this line (docs/operations.md, "Security model").
DO $$
BEGIN
    IF pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'MEMBER') THEN
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    ELSE
        RAISE NOTICE 'not the database owner: REVOKE TEMPORARY ON DATABASE % FROM PUBLIC is left to a DBA', current_database();
    END IF;
END
$$;
