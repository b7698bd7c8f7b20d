-- Reverts 0012_job_lifecycle: the operator functions and the insert trigger back to their 0011 forms (retry as
-- of 0008, cancel and the trigger as of 0001), the 0001 lease CHECK, no kind CHECK, no cancel-request CHECK, no
-- unsettled_since, no transition table.

CREATE OR REPLACE FUNCTION tuku.jobs_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idempotency_key IS NOT NULL AND EXISTS (
        SELECT 1 FROM tuku.jobs
        WHERE tenant = NEW.tenant AND idempotency_key = NEW.idempotency_key
    ) THEN
        RETURN NULL;
    END IF;
    IF NEW.state NOT IN ('available', 'scheduled') THEN
        RAISE EXCEPTION 'jobs enter the queue as available or scheduled, not %', NEW.state
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.state := CASE WHEN NEW.run_at > now() THEN 'scheduled' ELSE 'available' END;
    RETURN NEW;
END
$$;

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

CREATE OR REPLACE FUNCTION tuku.cancel(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
BEGIN
    SELECT state INTO current_state FROM tuku.jobs WHERE id = job_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'no_data_found';
    END IF;
    IF current_state IN ('succeeded', 'rejected', 'dead', 'cancelled') THEN
        RAISE EXCEPTION 'job % already ended %', job_id, current_state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF current_state = 'running' THEN
        UPDATE tuku.jobs SET cancel_requested_at = now() WHERE id = job_id;
        RETURN 'running';
    END IF;
    UPDATE tuku.jobs
    SET state = 'cancelled', finished_at = now(), cancel_requested_at = now()
    WHERE id = job_id;
    RETURN 'cancelled';
END
$$;

CREATE OR REPLACE FUNCTION tuku.retry_jobs(
    state      text DEFAULT 'dead',
    kind       text DEFAULT NULL,
    tenant     text DEFAULT NULL,
    error_code text DEFAULT NULL
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
      AND (retry_jobs.tenant IS NULL OR j.tenant = retry_jobs.tenant)
      AND (retry_jobs.error_code IS NULL OR j.last_error->>'code' LIKE retry_jobs.error_code);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM pg_notify('tuku_jobs', '');
    END IF;
    RETURN n;
END
$$;

CREATE OR REPLACE FUNCTION tuku.cancel_jobs(
    state      text DEFAULT NULL,
    kind       text DEFAULT NULL,
    tenant     text DEFAULT NULL,
    error_code text DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    waiting integer;
    running integer;
BEGIN
    IF cancel_jobs.state IS NULL AND cancel_jobs.kind IS NULL AND cancel_jobs.tenant IS NULL AND cancel_jobs.error_code IS NULL THEN
        RAISE EXCEPTION 'cancel_jobs needs at least one filter (state, kind, tenant or error_code)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tuku.jobs j
    SET state = 'cancelled', finished_at = now(), cancel_requested_at = now()
    WHERE j.state IN ('available', 'scheduled', 'retryable')
      AND (cancel_jobs.state IS NULL OR j.state = cancel_jobs.state)
      AND (cancel_jobs.kind IS NULL OR j.kind = cancel_jobs.kind)
      AND (cancel_jobs.tenant IS NULL OR j.tenant = cancel_jobs.tenant)
      AND (cancel_jobs.error_code IS NULL OR j.last_error->>'code' LIKE cancel_jobs.error_code);
    GET DIAGNOSTICS waiting = ROW_COUNT;
    UPDATE tuku.jobs j
    SET cancel_requested_at = now()
    WHERE j.state = 'running' AND j.cancel_requested_at IS NULL
      AND (cancel_jobs.state IS NULL OR j.state = cancel_jobs.state)
      AND (cancel_jobs.kind IS NULL OR j.kind = cancel_jobs.kind)
      AND (cancel_jobs.tenant IS NULL OR j.tenant = cancel_jobs.tenant)
      AND (cancel_jobs.error_code IS NULL OR j.last_error->>'code' LIKE cancel_jobs.error_code);
    GET DIAGNOSTICS running = ROW_COUNT;
    RETURN waiting + running;
END
$$;

ALTER TABLE tuku.jobs DROP CONSTRAINT jobs_kind_is_a_name;
ALTER TABLE tuku.jobs DROP CONSTRAINT jobs_cancel_request_not_waiting;
ALTER TABLE tuku.jobs DROP CONSTRAINT jobs_lease_only_while_running;
ALTER TABLE tuku.jobs ADD CONSTRAINT jobs_lease_only_while_running CHECK (
    (state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL AND lease_token IS NOT NULL));
ALTER TABLE tuku.jobs DROP COLUMN unsettled_since;

DROP FUNCTION tuku.job_transition(text, text, boolean, boolean, boolean);
DROP TABLE tuku.job_transitions;
