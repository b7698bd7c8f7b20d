DO $$
BEGIN
    IF pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'MEMBER') THEN
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
    END IF;
END
$$;

ALTER VIEW tuku.queue_depth RESET (security_barrier);
ALTER VIEW tuku.throughput_per_minute RESET (security_barrier);
ALTER VIEW tuku.latency_last_hour RESET (security_barrier);
ALTER VIEW tuku.gateway_status_last_hour RESET (security_barrier);
ALTER VIEW tuku.rate_limit_status RESET (security_barrier);
ALTER VIEW tuku.worker_status RESET (security_barrier);
ALTER VIEW tuku.jobs_needing_attention RESET (security_barrier);
ALTER VIEW tuku.pause_status RESET (security_barrier);
ALTER VIEW tuku.oauth_token_status RESET (security_barrier);
ALTER VIEW tuku.ready_job_count RESET (security_barrier);

DROP TRIGGER jobs_producer_priority ON tuku.jobs;
DROP FUNCTION tuku.jobs_producer_priority();
ALTER TABLE tuku.producer_tenants DROP COLUMN highest_priority;

DROP TRIGGER jobs_payload_within_limit ON tuku.jobs;
DROP FUNCTION tuku.jobs_payload_within_limit();
DELETE FROM tuku.settings WHERE name = 'max_payload_bytes';

DROP TRIGGER jobs_succeeded_is_final ON tuku.jobs;
DROP FUNCTION tuku.jobs_succeeded_is_final();

-- The 0004 body sweep (with its 0006 SECURITY DEFINER) and the 0008 retention_days.
CREATE OR REPLACE FUNCTION tuku.remove_expired_bodies(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    days    integer;
    cleared integer;
BEGIN
    SELECT value::integer INTO days FROM tuku.settings WHERE name = 'exchange_body_retention_days';
    IF days IS NULL THEN
        RAISE EXCEPTION 'setting exchange_body_retention_days is missing' USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE tuku.exchanges
    SET request_body = NULL, response_body = NULL, bodies_removed_at = now()
    WHERE id IN (
        SELECT id FROM tuku.exchanges
        WHERE bodies_removed_at IS NULL AND started_at < now() - make_interval(days => days)
        ORDER BY id
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    );
    GET DIAGNOSTICS cleared = ROW_COUNT;
    RETURN cleared;
END
$$;

CREATE OR REPLACE FUNCTION tuku.retention_days(setting text) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    days integer;
BEGIN
    SELECT value::integer INTO days FROM tuku.settings WHERE name = setting;
    IF days IS NULL OR days < 1 THEN
        RAISE EXCEPTION 'setting % is missing or below 1 day', setting USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN days;
END
$$;

ALTER TABLE tuku.settings DROP CONSTRAINT settings_value_at_least_minimum;
ALTER TABLE tuku.settings DROP COLUMN minimum;
