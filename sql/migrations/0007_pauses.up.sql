-- Pausing and resuming work, and a set_rate that changes only what it is given.
--
-- A pause holds back every waiting job of a kind, of a tenant, or of one kind for one tenant: workers stop
-- claiming them (jobs already running finish), new jobs for them still queue, and resuming wakes the
-- workers. Pauses are rows, so they survive restarts and every worker honours them at its next claim.

CREATE TABLE tuku.pauses (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL matches every kind (or every tenant); at least one of the two is set.
    kind      text,
    tenant    text,
    reason    text,
    paused_at timestamptz NOT NULL DEFAULT now(),
    paused_by name        NOT NULL DEFAULT current_user,

    CONSTRAINT pauses_kind_or_tenant CHECK (kind IS NOT NULL OR tenant IS NOT NULL),
    CONSTRAINT pauses_one_per_scope UNIQUE NULLS NOT DISTINCT (kind, tenant)
);

COMMENT ON TABLE tuku.pauses IS 'Paused kinds and tenants: workers claim none of their jobs. Use tuku.pause() / tuku.resume().';

-- Pauses a kind, a tenant, or a kind for a tenant. Returns false when that pause was already in place.
CREATE FUNCTION tuku.pause(kind text DEFAULT NULL, tenant text DEFAULT NULL, reason text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF pause.kind IS NULL AND pause.tenant IS NULL THEN
        RAISE EXCEPTION 'pause needs a kind, a tenant or both' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO tuku.pauses (kind, tenant, reason) VALUES (pause.kind, pause.tenant, pause.reason)
    ON CONFLICT ON CONSTRAINT pauses_one_per_scope DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;

-- Lifts the pause with exactly this scope and wakes the workers. Returns false when there was none.
CREATE FUNCTION tuku.resume(kind text DEFAULT NULL, tenant text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM tuku.pauses p
    WHERE p.kind IS NOT DISTINCT FROM resume.kind AND p.tenant IS NOT DISTINCT FROM resume.tenant;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM pg_notify('tuku_jobs', '');
    END IF;
    RETURN n > 0;
END
$$;

-- Pauses with the waiting jobs each holds back.
CREATE VIEW tuku.pause_status AS
SELECT p.kind, p.tenant, p.reason, p.paused_at, p.paused_by,
       (SELECT count(*) FROM tuku.jobs j
        WHERE j.state IN ('available', 'scheduled', 'retryable')
          AND (p.kind IS NULL OR j.kind = p.kind) AND (p.tenant IS NULL OR j.tenant = p.tenant)) AS jobs_held
FROM tuku.pauses p;

-- Queue depth gains `paused`: whether these waiting jobs are held back.
CREATE OR REPLACE VIEW tuku.queue_depth AS
SELECT state, kind, tenant, count(*) AS jobs,
       now() - min(run_at) FILTER (WHERE run_at <= now()) AS oldest_ready_age,
       min(run_at) AS earliest_run_at,
       state <> 'running' AND EXISTS (
           SELECT 1 FROM tuku.pauses p
           WHERE (p.kind IS NULL OR p.kind = unfinished.kind) AND (p.tenant IS NULL OR p.tenant = unfinished.tenant)
       ) AS paused
FROM (
    SELECT state, kind, tenant, run_at FROM tuku.jobs WHERE state IN ('available', 'scheduled', 'retryable')
    UNION ALL
    SELECT state, kind, tenant, run_at FROM tuku.jobs WHERE state = 'running'
) unfinished
GROUP BY state, kind, tenant;

-- A paused job waiting long is not stuck: say so.
CREATE OR REPLACE VIEW tuku.jobs_needing_attention AS
SELECT id, kind, tenant, state, attempt, max_attempts, 'ended ' || state AS reason,
       last_error->>'code' AS error_code, last_error->>'message' AS error_message, finished_at AS since
FROM tuku.jobs
WHERE state IN ('dead', 'rejected') AND finished_at > now() - interval '7 days'
UNION ALL
SELECT id, kind, tenant, state, attempt, max_attempts,
       CASE WHEN last_error->>'code' = 'outcome_unknown' THEN 'gateway outcome unknown: being reconciled'
            WHEN EXISTS (SELECT 1 FROM tuku.pauses p
                         WHERE (p.kind IS NULL OR p.kind = jobs.kind) AND (p.tenant IS NULL OR p.tenant = jobs.tenant))
                THEN 'paused (see tuku.pause_status)'
            ELSE 'ready for over 15 minutes' END,
       last_error->>'code', last_error->>'message', run_at
FROM tuku.jobs
WHERE state IN ('available', 'scheduled', 'retryable')
  AND (last_error->>'code' = 'outcome_unknown' OR run_at < now() - interval '15 minutes')
UNION ALL
SELECT id, kind, tenant, state, attempt, max_attempts, 'running with an expired lease',
       last_error->>'code', last_error->>'message', lease_expires_at
FROM tuku.jobs
WHERE state = 'running' AND lease_expires_at < now();

-- set_rate used to reset burst and max_in_flight to their defaults when they were left out. Now what is left
-- out (NULL) is kept (a new key takes the table's defaults), and max_in_flight => 0 removes the cap.
DROP FUNCTION tuku.set_rate(text, double precision, integer, integer);
CREATE FUNCTION tuku.set_rate(
    key text, requests_per_second double precision, burst integer DEFAULT NULL, max_in_flight integer DEFAULT NULL
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tuku.rate_limits (key, requests_per_second, burst, max_in_flight)
    VALUES (set_rate.key, set_rate.requests_per_second, coalesce(set_rate.burst, 1), NULLIF(set_rate.max_in_flight, 0))
    ON CONFLICT (key) DO UPDATE SET
        requests_per_second = EXCLUDED.requests_per_second,
        burst = coalesce(set_rate.burst, tuku.rate_limits.burst),
        max_in_flight = CASE WHEN set_rate.max_in_flight IS NULL THEN tuku.rate_limits.max_in_flight
                             ELSE NULLIF(set_rate.max_in_flight, 0) END,
        updated_at = now()
$$;

-- Only the roles below may run what this migration adds (0006 made that the default; this says it).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA tuku FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON tuku.pauses TO tuku_operator;
GRANT SELECT ON tuku.pauses TO tuku_worker;
GRANT SELECT ON tuku.pause_status TO tuku_operator, tuku_dashboard;
GRANT EXECUTE ON FUNCTION
    tuku.pause(text, text, text), tuku.resume(text, text), tuku.set_rate(text, double precision, integer, integer)
TO tuku_operator;
