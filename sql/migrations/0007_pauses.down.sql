-- Reverts 0007_pauses: the views go back to their 0005 form, set_rate to its 0003 form.

DROP VIEW tuku.pause_status;

CREATE OR REPLACE VIEW tuku.jobs_needing_attention AS
SELECT id, kind, tenant, state, attempt, max_attempts, 'ended ' || state AS reason,
       last_error->>'code' AS error_code, last_error->>'message' AS error_message, finished_at AS since
FROM tuku.jobs
WHERE state IN ('dead', 'rejected') AND finished_at > now() - interval '7 days'
UNION ALL
SELECT id, kind, tenant, state, attempt, max_attempts,
       CASE WHEN last_error->>'code' = 'outcome_unknown' THEN 'gateway outcome unknown: being reconciled'
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

-- A view cannot lose a column by CREATE OR REPLACE: queue_depth is made again, with its grants.
DROP VIEW tuku.queue_depth;
CREATE VIEW tuku.queue_depth AS
SELECT state, kind, tenant, count(*) AS jobs,
       now() - min(run_at) FILTER (WHERE run_at <= now()) AS oldest_ready_age,
       min(run_at) AS earliest_run_at
FROM (
    SELECT state, kind, tenant, run_at FROM tuku.jobs WHERE state IN ('available', 'scheduled', 'retryable')
    UNION ALL
    SELECT state, kind, tenant, run_at FROM tuku.jobs WHERE state = 'running'
) unfinished
GROUP BY state, kind, tenant;
GRANT SELECT ON tuku.queue_depth TO tuku_dashboard, tuku_operator;

DROP FUNCTION tuku.resume(text, text);
DROP FUNCTION tuku.pause(text, text, text);
DROP TABLE tuku.pauses;

DROP FUNCTION tuku.set_rate(text, double precision, integer, integer);
CREATE FUNCTION tuku.set_rate(
    key text, requests_per_second double precision, burst integer DEFAULT 1, max_in_flight integer DEFAULT NULL
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tuku.rate_limits (key, requests_per_second, burst, max_in_flight)
    VALUES (set_rate.key, set_rate.requests_per_second, set_rate.burst, set_rate.max_in_flight)
    ON CONFLICT (key) DO UPDATE SET
        requests_per_second = EXCLUDED.requests_per_second, burst = EXCLUDED.burst,
        max_in_flight = EXCLUDED.max_in_flight, updated_at = now()
$$;
GRANT EXECUTE ON FUNCTION tuku.set_rate(text, double precision, integer, integer) TO tuku_operator;
