-- The job lifecycle in one place, cancellation that holds, "may have reached the gateway" as a fact about the
-- job, and rows that cannot enter the queue in a state the queue would misread.
--
--  * tuku.job_transitions: every move a job can make (state × event → state, whether the move counts an
--    attempt, and what it does to "may have reached the gateway"). The ack, the rescuer and the operator
--    functions join against it; docs/job-states.md prints the same rows and a test compares the two.
--  * tuku.jobs.unsettled_since: set when a run reports that a request may have reached the gateway without an
--    answer (or when a running job's lease is lost), kept through throttles, released leases, rescues, retries
--    and other errors, and cleared only when a run reports the question settled.
--  * A cancel request on a running job holds on every path: an ack of anything but success, or the rescuer,
--    ends the job `cancelled`; a waiting job never carries a cancel request, so a cancelled job is never
--    claimed again.
--  * At the door: the lease CHECK is exact; an INSERT may not set the columns the queue owns (attempt, lease,
--    cancel request, unsettled_since, started_at); a kind is a short name without spaces or control characters.

-- ---------------------------------------------------------------------------------------------------
-- The transition table.
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE tuku.job_transitions (
    from_state       text     NOT NULL,
    -- `claim`; an ack's outcome (`succeeded`, `retry`, `throttled`, `rejected`, `dead`, `released`);
    -- `lease_expired` (the rescuer); `operator_cancel` (tuku.cancel, tuku.cancel_jobs); `operator_retry`
    -- (tuku.retry, tuku.retry_jobs).
    event            text     NOT NULL,
    -- Conditions; NULL matches either value.
    -- Whether tuku.cancel() asked the running job to stop (`cancel_requested_at IS NOT NULL`).
    cancel_requested boolean,
    -- Whether the run is the job's last allowed attempt (`attempt >= max_attempts`).
    last_attempt     boolean,
    -- Whether the job's next run_at has come (`run_at <= now()` after the move).
    due              boolean,
    to_state         text     NOT NULL,
    -- Added to `attempt`: a claim counts one; a throttled run or a released lease gives it back.
    attempt_change   smallint NOT NULL,
    -- What the move does to `unsettled_since`: `kept`; `set` (a request may have reached the gateway);
    -- `reported` (as the worker's ack says: set, cleared, or kept).
    gateway          text     NOT NULL,

    CONSTRAINT job_transitions_event_valid CHECK (event IN (
        'claim', 'succeeded', 'retry', 'throttled', 'rejected', 'dead', 'released', 'lease_expired',
        'operator_cancel', 'operator_retry')),
    CONSTRAINT job_transitions_from_state_valid CHECK (from_state IN (
        'available', 'scheduled', 'running', 'retryable', 'succeeded', 'rejected', 'dead', 'cancelled')),
    CONSTRAINT job_transitions_to_state_valid CHECK (to_state IN (
        'available', 'scheduled', 'running', 'retryable', 'succeeded', 'rejected', 'dead', 'cancelled')),
    CONSTRAINT job_transitions_attempt_change_valid CHECK (attempt_change IN (-1, 0, 1)),
    CONSTRAINT job_transitions_gateway_valid CHECK (gateway IN ('kept', 'set', 'reported'))
);

-- At most one row per combination of state, event and conditions (NULL, "either", is a value here).
CREATE UNIQUE INDEX job_transitions_key_idx ON tuku.job_transitions (from_state, event, cancel_requested, last_attempt, due)
    NULLS NOT DISTINCT;

COMMENT ON TABLE tuku.job_transitions IS
    'Every move a job can make; the ack, the rescuer and the operator functions join against it. docs/job-states.md prints it.';

INSERT INTO tuku.job_transitions
    (from_state, event, cancel_requested, last_attempt, due, to_state, attempt_change, gateway)
VALUES
    -- A worker claims a waiting job (never one with a cancel request: waiting jobs cannot carry one).
    ('available', 'claim',           false, NULL,  NULL,  'running',   1,  'kept'),
    ('scheduled', 'claim',           false, NULL,  NULL,  'running',   1,  'kept'),
    ('retryable', 'claim',           false, NULL,  NULL,  'running',   1,  'kept'),
    -- Acks. Only a success wins over a cancel request: the work was done.
    ('running',   'succeeded',       NULL,  NULL,  NULL,  'succeeded', 0,  'reported'),
    ('running',   'rejected',        false, NULL,  NULL,  'rejected',  0,  'reported'),
    ('running',   'rejected',        true,  NULL,  NULL,  'cancelled', 0,  'reported'),
    ('running',   'dead',            false, NULL,  NULL,  'dead',      0,  'reported'),
    ('running',   'dead',            true,  NULL,  NULL,  'cancelled', 0,  'reported'),
    ('running',   'retry',           false, false, NULL,  'retryable', 0,  'reported'),
    ('running',   'retry',           false, true,  NULL,  'dead',      0,  'reported'),
    ('running',   'retry',           true,  NULL,  NULL,  'cancelled', 0,  'reported'),
    ('running',   'throttled',       false, NULL,  false, 'scheduled', -1, 'reported'),
    ('running',   'throttled',       false, NULL,  true,  'available', -1, 'reported'),
    ('running',   'throttled',       true,  NULL,  NULL,  'cancelled', -1, 'reported'),
    ('running',   'released',        false, NULL,  NULL,  'available', -1, 'reported'),
    ('running',   'released',        true,  NULL,  NULL,  'cancelled', -1, 'reported'),
    -- The rescuer: the lease expired (the worker died or stalled), perhaps mid-call.
    ('running',   'lease_expired',   false, false, NULL,  'retryable', 0,  'set'),
    ('running',   'lease_expired',   false, true,  NULL,  'dead',      0,  'set'),
    ('running',   'lease_expired',   true,  NULL,  NULL,  'cancelled', 0,  'set'),
    -- Operators. A running job keeps running with a cancel request that every later move respects.
    ('available', 'operator_cancel', false, NULL,  NULL,  'cancelled', 0,  'kept'),
    ('scheduled', 'operator_cancel', false, NULL,  NULL,  'cancelled', 0,  'kept'),
    ('retryable', 'operator_cancel', false, NULL,  NULL,  'cancelled', 0,  'kept'),
    ('running',   'operator_cancel', NULL,  NULL,  NULL,  'running',   0,  'kept'),
    ('available', 'operator_retry',  false, NULL,  NULL,  'available', 0,  'kept'),
    ('scheduled', 'operator_retry',  false, NULL,  NULL,  'available', 0,  'kept'),
    ('retryable', 'operator_retry',  false, NULL,  NULL,  'available', 0,  'kept'),
    ('rejected',  'operator_retry',  NULL,  NULL,  NULL,  'available', 0,  'kept'),
    ('dead',      'operator_retry',  NULL,  NULL,  NULL,  'available', 0,  'kept'),
    ('cancelled', 'operator_retry',  NULL,  NULL,  NULL,  'available', 0,  'kept');

-- The one row for a job in `from_state` meeting `event` under the given conditions, if the move is allowed.
CREATE FUNCTION tuku.job_transition(
    from_state text, event text, cancel_requested boolean, last_attempt boolean, due boolean
) RETURNS SETOF tuku.job_transitions
LANGUAGE sql STABLE AS $$
    SELECT t.* FROM tuku.job_transitions t
    WHERE t.from_state = job_transition.from_state AND t.event = job_transition.event
      AND (t.cancel_requested IS NULL OR t.cancel_requested = job_transition.cancel_requested)
      AND (t.last_attempt IS NULL OR t.last_attempt = job_transition.last_attempt)
      AND (t.due IS NULL OR t.due = job_transition.due)
$$;

GRANT SELECT ON tuku.job_transitions TO tuku_worker, tuku_operator;
REVOKE EXECUTE ON FUNCTION tuku.job_transition(text, text, boolean, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tuku.job_transition(text, text, boolean, boolean, boolean) TO tuku_worker, tuku_operator;

-- ---------------------------------------------------------------------------------------------------
-- Columns and constraints of tuku.jobs.
-- ---------------------------------------------------------------------------------------------------

-- Since when a request of this job may have reached the gateway without anyone learning what became of it.
-- While set, a gateway handler settles the question (a status query) before it sends anything again.
ALTER TABLE tuku.jobs ADD COLUMN unsettled_since timestamptz;
COMMENT ON COLUMN tuku.jobs.unsettled_since IS
    'Set while a request may have reached the gateway unanswered; cleared only when a run settles it (docs/job-states.md).';

-- Lease fields left on a job that is not running mean nothing; clear them so that the exact CHECK holds.
UPDATE tuku.jobs SET lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL
WHERE state <> 'running' AND (lease_owner IS NOT NULL OR lease_expires_at IS NOT NULL OR lease_token IS NOT NULL);

-- Was `(state = 'running') = (all three set)`, which a waiting job with only `lease_owner` set satisfied.
ALTER TABLE tuku.jobs DROP CONSTRAINT jobs_lease_only_while_running;
ALTER TABLE tuku.jobs ADD CONSTRAINT jobs_lease_only_while_running CHECK (
    CASE WHEN state = 'running'
         THEN lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL AND lease_token IS NOT NULL
         ELSE lease_owner IS NULL AND lease_expires_at IS NULL AND lease_token IS NULL
    END);

-- A waiting job never carries a cancel request (tuku.retry clears it; tuku.cancel ends a waiting job at
-- once), so no claim can pick up a job someone cancelled.
UPDATE tuku.jobs SET cancel_requested_at = NULL
WHERE state IN ('available', 'scheduled', 'retryable') AND cancel_requested_at IS NOT NULL;
ALTER TABLE tuku.jobs ADD CONSTRAINT jobs_cancel_request_not_waiting CHECK (
    cancel_requested_at IS NULL OR state NOT IN ('available', 'scheduled', 'retryable'));

-- A kind is a name: 1 to 100 letters, digits, '.', '_', ':' or '-', starting with a letter or digit. It is
-- logged with every run, so it may not carry spaces, line breaks or a megabyte of text.
DO $$
DECLARE
    bad bigint;
BEGIN
    SELECT count(*) INTO bad FROM tuku.jobs WHERE NOT (kind ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$');
    IF bad > 0 THEN
        RAISE EXCEPTION '% jobs have a kind that is not a name of 1 to 100 letters, digits, ".", "_", ":" or "-"', bad
            USING ERRCODE = 'check_violation',
                  HINT = 'Find them with SELECT id, left(kind, 40) FROM tuku.jobs WHERE kind !~ ''^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$''; cancel or delete them, then migrate again.';
    END IF;
END
$$;
ALTER TABLE tuku.jobs ADD CONSTRAINT jobs_kind_is_a_name CHECK (kind ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$');

-- Insert-time rules (as in 0001), and the columns the queue owns may not be set by an INSERT: a row inserted
-- with `attempt = 100` would run as attempt 101 of 10, one with a lease would look claimed.
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
    IF NEW.attempt <> 0 THEN
        RAISE EXCEPTION 'jobs enter the queue with attempt 0, not %: the queue counts attempts', NEW.attempt
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.lease_owner IS NOT NULL OR NEW.lease_expires_at IS NOT NULL OR NEW.lease_token IS NOT NULL THEN
        RAISE EXCEPTION 'jobs enter the queue without a lease: lease_owner, lease_expires_at and lease_token are set by a claim'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.cancel_requested_at IS NOT NULL OR NEW.unsettled_since IS NOT NULL
       OR NEW.started_at IS NOT NULL OR NEW.finished_at IS NOT NULL THEN
        RAISE EXCEPTION 'jobs enter the queue without cancel_requested_at, unsettled_since, started_at or finished_at: the queue sets them'
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.state := CASE WHEN NEW.run_at > now() THEN 'scheduled' ELSE 'available' END;
    RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Operator functions, through the transition table.
-- ---------------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION tuku.retry(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    job  tuku.jobs%ROWTYPE;
    move tuku.job_transitions%ROWTYPE;
BEGIN
    SELECT * INTO job FROM tuku.jobs WHERE id = job_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO move FROM tuku.job_transition(
        job.state, 'operator_retry', job.cancel_requested_at IS NOT NULL, job.attempt >= job.max_attempts, job.run_at <= now());
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % is %: only waiting, rejected, dead or cancelled jobs can be retried', job_id, job.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF job.payload_removed_at IS NOT NULL THEN
        RAISE EXCEPTION 'job %''s payload was removed on % (payload_retention_days): enqueue the submission again', job_id, job.payload_removed_at::date
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- unsettled_since is kept: a job whose request may have reached the gateway is settled before it sends again.
    UPDATE tuku.jobs
    SET state = move.to_state,
        attempt = attempt + move.attempt_change,
        run_at = now(),
        max_attempts = greatest(max_attempts, attempt + move.attempt_change + 1),
        finished_at = NULL,
        cancel_requested_at = NULL
    WHERE id = job_id;
    PERFORM pg_notify('tuku_jobs', '');
    RETURN move.to_state;
END
$$;

CREATE OR REPLACE FUNCTION tuku.cancel(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    job  tuku.jobs%ROWTYPE;
    move tuku.job_transitions%ROWTYPE;
BEGIN
    SELECT * INTO job FROM tuku.jobs WHERE id = job_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO move FROM tuku.job_transition(
        job.state, 'operator_cancel', job.cancel_requested_at IS NOT NULL, job.attempt >= job.max_attempts, job.run_at <= now());
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % already ended %', job_id, job.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE tuku.jobs
    SET state = move.to_state,
        attempt = attempt + move.attempt_change,
        finished_at = CASE WHEN move.to_state IN ('succeeded', 'rejected', 'dead', 'cancelled') THEN now() END,
        cancel_requested_at = coalesce(cancel_requested_at, now())
    WHERE id = job_id;
    RETURN move.to_state;
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
    IF retry_jobs.state IS NOT NULL AND NOT EXISTS (
        SELECT FROM tuku.job_transitions t WHERE t.event = 'operator_retry' AND t.from_state = retry_jobs.state
    ) THEN
        RAISE EXCEPTION '% jobs cannot be retried', retry_jobs.state USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tuku.jobs j
    SET state = t.to_state,
        attempt = j.attempt + t.attempt_change,
        run_at = now(),
        max_attempts = greatest(j.max_attempts, j.attempt + t.attempt_change + 1),
        finished_at = NULL,
        cancel_requested_at = NULL
    FROM tuku.job_transitions t
    WHERE t.event = 'operator_retry' AND t.from_state = j.state
      AND (t.cancel_requested IS NULL OR t.cancel_requested = (j.cancel_requested_at IS NOT NULL))
      AND (t.last_attempt IS NULL OR t.last_attempt = (j.attempt >= j.max_attempts))
      AND (t.due IS NULL OR t.due = (j.run_at <= now()))
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
    n integer;
BEGIN
    IF cancel_jobs.state IS NULL AND cancel_jobs.kind IS NULL AND cancel_jobs.tenant IS NULL AND cancel_jobs.error_code IS NULL THEN
        RAISE EXCEPTION 'cancel_jobs needs at least one filter (state, kind, tenant or error_code)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Jobs that already carry a cancel request are not counted again.
    UPDATE tuku.jobs j
    SET state = t.to_state,
        attempt = j.attempt + t.attempt_change,
        finished_at = CASE WHEN t.to_state IN ('succeeded', 'rejected', 'dead', 'cancelled') THEN now() END,
        cancel_requested_at = now()
    FROM tuku.job_transitions t
    WHERE t.event = 'operator_cancel' AND t.from_state = j.state
      AND j.cancel_requested_at IS NULL
      AND (t.cancel_requested IS NULL OR t.cancel_requested = false)
      AND (t.last_attempt IS NULL OR t.last_attempt = (j.attempt >= j.max_attempts))
      AND (t.due IS NULL OR t.due = (j.run_at <= now()))
      AND (cancel_jobs.state IS NULL OR j.state = cancel_jobs.state)
      AND (cancel_jobs.kind IS NULL OR j.kind = cancel_jobs.kind)
      AND (cancel_jobs.tenant IS NULL OR j.tenant = cancel_jobs.tenant)
      AND (cancel_jobs.error_code IS NULL OR j.last_error->>'code' LIKE cancel_jobs.error_code);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
