-- Tuku queue core: jobs, attempts, workers, and the operator functions.
-- Applied by `tuku migrate` (which embeds this very file) or by hand with psql, in one transaction.

-- ---------------------------------------------------------------------------------------------------
-- Jobs: the hot, claimable queue. Upstream payroll systems insert here.
-- ---------------------------------------------------------------------------------------------------

-- Fencing tokens: every claim takes a fresh token, and every ack must present it. A worker whose lease
-- expired and was rescued holds a stale token, so its late ack changes nothing.
CREATE SEQUENCE tuku.lease_token_seq;

CREATE TABLE tuku.jobs (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text        NOT NULL,
    -- The employer or customer the job belongs to; scopes idempotency keys and (later) access.
    tenant              text        NOT NULL,
    payload             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- Unique per tenant while the job exists: the same submission inserted twice is one job.
    idempotency_key     text,
    -- Lower runs first.
    priority            smallint    NOT NULL DEFAULT 100,
    run_at              timestamptz NOT NULL DEFAULT now(),
    state               text        NOT NULL DEFAULT 'available',
    -- Attempts that counted against max_attempts (throttled runs and released leases do not count).
    attempt             integer     NOT NULL DEFAULT 0,
    max_attempts        integer     NOT NULL DEFAULT 10,
    -- The lease: who holds the job, until when, and the fencing token every ack must present.
    lease_owner         bigint,
    lease_expires_at    timestamptz,
    lease_token         bigint,
    -- Set by tuku.cancel() on a running job: the worker's ack then ends it `cancelled` unless it succeeded.
    cancel_requested_at timestamptz,
    last_error          jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,

    CONSTRAINT jobs_kind_not_empty CHECK (kind <> ''),
    CONSTRAINT jobs_tenant_not_empty CHECK (tenant <> ''),
    CONSTRAINT jobs_idempotency_key_not_empty CHECK (idempotency_key <> ''),
    CONSTRAINT jobs_payload_is_object CHECK (jsonb_typeof(payload) = 'object'),
    CONSTRAINT jobs_state_valid CHECK (state IN (
        'available', 'scheduled', 'running', 'retryable', 'succeeded', 'rejected', 'dead', 'cancelled')),
    CONSTRAINT jobs_priority_range CHECK (priority BETWEEN 0 AND 1000),
    CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
    CONSTRAINT jobs_attempt_in_range CHECK (attempt >= 0),
    CONSTRAINT jobs_lease_only_while_running CHECK (
        (state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL AND lease_token IS NOT NULL)),
    CONSTRAINT jobs_finished_at_only_when_final CHECK (
        (state IN ('succeeded', 'rejected', 'dead', 'cancelled')) = (finished_at IS NOT NULL))
);

COMMENT ON TABLE tuku.jobs IS 'Submission jobs. Insert with defaults or call tuku.enqueue(); workers claim with FOR UPDATE SKIP LOCKED.';

-- The claim reads only this partial index: finished history never enters it, so claim cost does not
-- grow with the number of finished jobs. Its column order is the claim order.
CREATE INDEX jobs_ready_idx ON tuku.jobs (priority, run_at, id)
    WHERE state IN ('available', 'scheduled', 'retryable');

-- Heartbeats extend leases by owner; the rescuer looks for expired leases among the same small set.
CREATE INDEX jobs_running_idx ON tuku.jobs (lease_owner) WHERE state = 'running';

CREATE UNIQUE INDEX jobs_idempotency_key_idx ON tuku.jobs (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The hot table churns: vacuum it early and often so dead tuples do not slow the claim.
ALTER TABLE tuku.jobs SET (
    fillfactor = 90,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);

-- Insert-time rules, so that a plain INSERT behaves like tuku.enqueue():
--  * a repeated (tenant, idempotency_key) is a no-op (the row is skipped, never an error or a second job);
--  * a job inserted with a future run_at starts `scheduled`;
--  * jobs can only enter the queue as `available` or `scheduled`.
-- Two concurrent inserts of the same new key can both pass the check; the unique index then rejects one.
CREATE FUNCTION tuku.jobs_before_insert() RETURNS trigger
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

CREATE TRIGGER jobs_before_insert BEFORE INSERT ON tuku.jobs
    FOR EACH ROW EXECUTE FUNCTION tuku.jobs_before_insert();

-- One notification per statement (not per row): idle workers wake and claim. Polling is the safety net.
CREATE FUNCTION tuku.notify_jobs_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tuku_jobs', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_after_insert_notify AFTER INSERT ON tuku.jobs
    FOR EACH STATEMENT EXECUTE FUNCTION tuku.notify_jobs_inserted();

-- ---------------------------------------------------------------------------------------------------
-- Attempts: append-only history, one row per run of a job.
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE tuku.attempts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id          bigint      NOT NULL REFERENCES tuku.jobs (id) ON DELETE CASCADE,
    -- The job's attempt number during this run (throttled and released runs repeat the number they ran as).
    attempt         integer     NOT NULL,
    worker_id       bigint,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT now(),
    -- What the run ended with, as the worker (or the rescuer) reported it.
    outcome         text        NOT NULL,
    -- The job's state after this run.
    resulting_state text        NOT NULL,
    -- Structured: {"code": ..., "message": ..., "problems": [{"path": ..., "reason": ...}]}.
    error           jsonb,
    -- When the job becomes claimable again, for retried and throttled runs.
    retry_at        timestamptz,

    CONSTRAINT attempts_outcome_valid CHECK (outcome IN (
        'succeeded', 'retry', 'throttled', 'rejected', 'dead', 'released', 'lease_expired')),
    CONSTRAINT attempts_resulting_state_valid CHECK (resulting_state IN (
        'available', 'scheduled', 'retryable', 'succeeded', 'rejected', 'dead', 'cancelled'))
);

CREATE INDEX attempts_job_idx ON tuku.attempts (job_id, id);

COMMENT ON TABLE tuku.attempts IS 'Append-only: one row per run of a job, with its outcome and structured error.';

-- ---------------------------------------------------------------------------------------------------
-- Workers: one row per worker process.
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE tuku.workers (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host         text        NOT NULL,
    pid          integer     NOT NULL,
    version      text        NOT NULL,
    concurrency  integer     NOT NULL,
    state        text        NOT NULL DEFAULT 'running',
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz,

    CONSTRAINT workers_state_valid CHECK (state IN ('running', 'stopping', 'stopped', 'lost')),
    CONSTRAINT workers_stopped_at_when_done CHECK ((state IN ('stopped', 'lost')) = (stopped_at IS NOT NULL))
);

-- ---------------------------------------------------------------------------------------------------
-- Enqueue.
-- ---------------------------------------------------------------------------------------------------

-- Enqueues one job and returns its id. Arguments left NULL take the table's defaults. When the tenant
-- already has a job with this idempotency key, nothing is inserted and that job's id is returned.
CREATE FUNCTION tuku.enqueue(
    kind            text,
    tenant          text,
    payload         jsonb,
    idempotency_key text        DEFAULT NULL,
    priority        smallint    DEFAULT NULL,
    run_at          timestamptz DEFAULT NULL,
    max_attempts    integer     DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    job_id bigint;
BEGIN
    -- DEFAULT for the arguments not given, so the table stays the one place defaults are defined.
    EXECUTE format(
        'INSERT INTO tuku.jobs (kind, tenant, payload, idempotency_key, priority, run_at, max_attempts) '
        'VALUES ($1, $2, $3, $4, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id',
        CASE WHEN priority IS NULL THEN 'DEFAULT' ELSE '$5' END,
        CASE WHEN run_at IS NULL THEN 'DEFAULT' ELSE '$6' END,
        CASE WHEN max_attempts IS NULL THEN 'DEFAULT' ELSE '$7' END)
    INTO job_id
    USING kind, tenant, payload, idempotency_key, priority, run_at, max_attempts;
    IF job_id IS NULL AND idempotency_key IS NOT NULL THEN
        SELECT j.id INTO job_id FROM tuku.jobs j
        WHERE j.tenant = enqueue.tenant AND j.idempotency_key = enqueue.idempotency_key;
    END IF;
    RETURN job_id;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Operator functions.
-- ---------------------------------------------------------------------------------------------------

-- Makes a job claimable now, with at least one attempt left. Works on jobs that are waiting or ended
-- without success; refuses running jobs and succeeded ones (re-filing a succeeded submission is never a
-- retry). Returns the job's new state.
CREATE FUNCTION tuku.retry(job_id bigint) RETURNS text
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

-- Cancels a job. A waiting job ends `cancelled` at once; a running job is marked, and ends `cancelled`
-- when its worker reports anything but success. Refuses jobs that already ended. Returns the job's state
-- after the call (`cancelled`, or `running` when the cancellation waits for the worker).
CREATE FUNCTION tuku.cancel(job_id bigint) RETURNS text
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

-- Bulk retry by filter. Every filter left NULL matches everything; `state` defaults to dead jobs.
-- Only states tuku.retry() accepts are touched. Returns how many jobs were made available.
CREATE FUNCTION tuku.retry_jobs(
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

-- Bulk cancel by filter (NULL matches everything; at least one filter is required). Waiting jobs end
-- `cancelled`; running ones are marked as tuku.cancel() does. Returns how many jobs were affected.
CREATE FUNCTION tuku.cancel_jobs(
    state  text DEFAULT NULL,
    kind   text DEFAULT NULL,
    tenant text DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    waiting integer;
    running integer;
BEGIN
    IF cancel_jobs.state IS NULL AND cancel_jobs.kind IS NULL AND cancel_jobs.tenant IS NULL THEN
        RAISE EXCEPTION 'cancel_jobs needs at least one filter (state, kind or tenant)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tuku.jobs j
    SET state = 'cancelled', finished_at = now(), cancel_requested_at = now()
    WHERE j.state IN ('available', 'scheduled', 'retryable')
      AND (cancel_jobs.state IS NULL OR j.state = cancel_jobs.state)
      AND (cancel_jobs.kind IS NULL OR j.kind = cancel_jobs.kind)
      AND (cancel_jobs.tenant IS NULL OR j.tenant = cancel_jobs.tenant);
    GET DIAGNOSTICS waiting = ROW_COUNT;
    UPDATE tuku.jobs j
    SET cancel_requested_at = now()
    WHERE j.state = 'running' AND j.cancel_requested_at IS NULL
      AND (cancel_jobs.state IS NULL OR j.state = cancel_jobs.state)
      AND (cancel_jobs.kind IS NULL OR j.kind = cancel_jobs.kind)
      AND (cancel_jobs.tenant IS NULL OR j.tenant = cancel_jobs.tenant);
    GET DIAGNOSTICS running = ROW_COUNT;
    RETURN waiting + running;
END
$$;
