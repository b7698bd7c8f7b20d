-- Reverts 0008_job_retention: the sweep, the payload and job retention settings, and retry back to its 0001 form.

DROP FUNCTION tuku.sweep_retention(integer);
DROP FUNCTION tuku.prune_finished_jobs(integer);
DROP FUNCTION tuku.remove_expired_payloads(integer);
DROP FUNCTION tuku.retention_days(text);
DROP INDEX tuku.jobs_finished_idx;
DROP INDEX tuku.jobs_payload_held_idx;
DELETE FROM tuku.settings WHERE name IN ('payload_retention_days', 'finished_job_retention_days');

CREATE OR REPLACE FUNCTION tuku.retry(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
BEGIN
    SELECT state INTO current_state FROM tuku.jobs WHERE id = job_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'no_data_found';
    END IF;
    IF current_state IN ('running', 'succeeded') THEN
        RAISE EXCEPTION 'job % is %: only waiting, rejected, dead or cancelled jobs can be retried', job_id, current_state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE tuku.jobs
    SET state = 'available',
        run_at = now(),
        max_attempts = greatest(max_attempts, attempt + 1),
        finished_at = NULL,
        cancel_requested_at = NULL
    WHERE id = job_id;
    PERFORM pg_notify('tuku_jobs', '');
    RETURN 'available';
END
$$;

CREATE OR REPLACE FUNCTION tuku.retry_jobs(
    state  text DEFAULT 'dead',
    kind   text DEFAULT NULL,
    tenant text DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF retry_jobs.state IN ('running', 'succeeded') THEN
        RAISE EXCEPTION '% jobs cannot be retried', retry_jobs.state USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tuku.jobs j
    SET state = 'available',
        run_at = now(),
        max_attempts = greatest(j.max_attempts, j.attempt + 1),
        finished_at = NULL,
        cancel_requested_at = NULL
    WHERE j.state NOT IN ('running', 'succeeded')
      AND (retry_jobs.state IS NULL OR j.state = retry_jobs.state)
      AND (retry_jobs.kind IS NULL OR j.kind = retry_jobs.kind)
      AND (retry_jobs.tenant IS NULL OR j.tenant = retry_jobs.tenant);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM pg_notify('tuku_jobs', '');
    END IF;
    RETURN n;
END
$$;

ALTER TABLE tuku.jobs DROP COLUMN payload_removed_at;
