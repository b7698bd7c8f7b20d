-- Retention of finished jobs. Payloads carry personal and tax data: a finished job's payload is removed after
-- `payload_retention_days` (its state, attempts, errors and the gateway's answers are kept); the job itself,
-- with its attempts and exchanges, is deleted after `finished_job_retention_days`. Together with the partial
-- indexes the claim reads, this keeps the hot table small however long Tuku runs. One sweep,
-- tuku.sweep_retention(), does all of it a batch at a time, one caller at a time fleet-wide; workers call it
-- every few minutes and operators may too.

ALTER TABLE tuku.jobs ADD COLUMN payload_removed_at timestamptz;

INSERT INTO tuku.settings (name, value, description) VALUES
    ('payload_retention_days', '90',
     'Days after a job finished when its payload is replaced by {} (state, attempts and exchanges metadata are kept).'),
    ('finished_job_retention_days', '400',
     'Days after a job finished when it is deleted with its attempts and exchanges.');

-- Finished jobs still holding a payload, oldest first; and all finished jobs, oldest first.
CREATE INDEX jobs_payload_held_idx ON tuku.jobs (finished_at) WHERE finished_at IS NOT NULL AND payload_removed_at IS NULL;
CREATE INDEX jobs_finished_idx ON tuku.jobs (finished_at) WHERE finished_at IS NOT NULL;

-- Reads a retention setting in days; a missing or malformed one is an error, never "keep nothing".
CREATE FUNCTION tuku.retention_days(setting text) RETURNS integer
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

-- Replaces the payloads of jobs finished over payload_retention_days ago by {}, at most `batch` per call.
CREATE FUNCTION tuku.remove_expired_payloads(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff  timestamptz := now() - make_interval(days => tuku.retention_days('payload_retention_days'));
    cleared integer;
BEGIN
    UPDATE tuku.jobs
    SET payload = '{}'::jsonb, payload_removed_at = now()
    WHERE id IN (
        SELECT id FROM tuku.jobs
        WHERE finished_at IS NOT NULL AND payload_removed_at IS NULL AND finished_at < cutoff
        ORDER BY finished_at
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    );
    GET DIAGNOSTICS cleared = ROW_COUNT;
    RETURN cleared;
END
$$;

-- Deletes jobs finished over finished_job_retention_days ago, with their attempts and exchanges (cascade), at
-- most `batch` per call.
CREATE FUNCTION tuku.prune_finished_jobs(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff timestamptz := now() - make_interval(days => tuku.retention_days('finished_job_retention_days'));
    pruned integer;
BEGIN
    DELETE FROM tuku.jobs
    WHERE id IN (
        SELECT id FROM tuku.jobs
        WHERE finished_at IS NOT NULL AND finished_at < cutoff
        ORDER BY finished_at
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    );
    GET DIAGNOSTICS pruned = ROW_COUNT;
    RETURN pruned;
END
$$;

-- One batch of every retention step, by one caller at a time (the others get NULLs and go on). Call it until
-- it returns zeros to catch up.
CREATE FUNCTION tuku.sweep_retention(batch integer DEFAULT 10000)
RETURNS TABLE (bodies_removed integer, payloads_removed integer, jobs_pruned integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- "tukurete": the same advisory lock the body sweep took before this function existed.
    IF NOT pg_try_advisory_xact_lock(8391731632849384549) THEN
        RETURN QUERY SELECT NULL::integer, NULL::integer, NULL::integer;
        RETURN;
    END IF;
    bodies_removed := tuku.remove_expired_bodies(batch);
    payloads_removed := tuku.remove_expired_payloads(batch);
    jobs_pruned := tuku.prune_finished_jobs(batch);
    RETURN NEXT;
END
$$;

-- A job whose payload is gone cannot run again: retry says so instead of sending an empty submission.
CREATE OR REPLACE FUNCTION tuku.retry(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
    removed_at    timestamptz;
BEGIN
    SELECT state, payload_removed_at INTO current_state, removed_at FROM tuku.jobs WHERE id = job_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'no_data_found';
    END IF;
    IF current_state IN ('running', 'succeeded') THEN
        RAISE EXCEPTION 'job % is %: only waiting, rejected, dead or cancelled jobs can be retried', job_id, current_state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF removed_at IS NOT NULL THEN
        RAISE EXCEPTION 'job %''s payload was removed on % (payload_retention_days): enqueue the submission again', job_id, removed_at::date
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
      AND j.payload_removed_at IS NULL
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

-- Only the roles below may run what this migration adds (0006 made that the default; this says it).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA tuku FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    tuku.sweep_retention(integer), tuku.remove_expired_payloads(integer), tuku.prune_finished_jobs(integer),
    tuku.retention_days(text)
TO tuku_worker, tuku_operator;
