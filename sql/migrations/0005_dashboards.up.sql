-- Views for operators' dashboards (psql, Grafana's PostgreSQL data source, Metabase). Each reads only small,
-- indexed parts of the tables, so that refreshing a dashboard never slows the workers: waiting and running
-- jobs come through the partial indexes the claim and the heartbeats use; history comes through time indexes
-- limited to the last hour. The queries in sql/dashboards/ use these views.

-- History by time, for the last-hour views.
CREATE INDEX attempts_finished_idx ON tuku.attempts (finished_at);
CREATE INDEX exchanges_started_idx ON tuku.exchanges (started_at);
-- The few jobs that ended badly, for "needs attention".
CREATE INDEX jobs_attention_idx ON tuku.jobs (finished_at) WHERE state IN ('dead', 'rejected');

-- Queue depth by state, kind and tenant, with the age of the oldest waiting job. Only unfinished jobs.
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

-- Runs finished per minute over the last hour, by kind and outcome (filed, retried, throttled, rejected, dead…).
CREATE VIEW tuku.throughput_per_minute AS
SELECT date_trunc('minute', a.finished_at) AS minute, j.kind, a.resulting_state, a.outcome, count(*) AS runs
FROM tuku.attempts a JOIN tuku.jobs j ON j.id = a.job_id
WHERE a.finished_at > now() - interval '1 hour'
GROUP BY 1, 2, 3, 4;

-- Latency percentiles over the last hour: enqueue → finish for jobs that ended, and gateway call duration.
CREATE VIEW tuku.latency_last_hour AS
SELECT 'enqueue_to_finish' AS measure, j.kind,
       count(*) AS samples,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - j.created_at)) * 1000 AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - j.created_at)) * 1000 AS p95_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - j.created_at)) * 1000 AS p99_ms
FROM tuku.attempts a JOIN tuku.jobs j ON j.id = a.job_id
WHERE a.finished_at > now() - interval '1 hour' AND a.resulting_state IN ('succeeded', 'rejected', 'dead', 'cancelled')
GROUP BY j.kind
UNION ALL
SELECT 'gateway_call', e.action,
       count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY e.latency_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY e.latency_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY e.latency_ms)
FROM tuku.exchanges e
WHERE e.started_at > now() - interval '1 hour' AND e.latency_ms IS NOT NULL
GROUP BY e.action;

-- What the gateway answered over the last hour: HTTP status × IRD status code (0 = success), with counts.
CREATE VIEW tuku.gateway_status_last_hour AS
SELECT e.action, e.http_status, e.transport_error,
       (s.status->>'code')::integer AS ird_status_code,
       min(s.status->>'message') AS ird_message,
       count(*) AS calls
FROM tuku.exchanges e
LEFT JOIN LATERAL jsonb_array_elements(e.gateway_status) AS s(status) ON true
WHERE e.started_at > now() - interval '1 hour'
GROUP BY 1, 2, 3, 4;

-- Workers with their heartbeat age and the jobs they hold.
CREATE VIEW tuku.worker_status AS
SELECT w.id, w.host, w.pid, w.version, w.state, w.concurrency, w.started_at,
       now() - w.heartbeat_at AS heartbeat_age,
       (SELECT count(*) FROM tuku.jobs j WHERE j.state = 'running' AND j.lease_owner = w.id) AS jobs_in_hand
FROM tuku.workers w
WHERE w.state IN ('running', 'stopping') OR w.stopped_at > now() - interval '1 day';

-- Jobs a person should look at, with the last error: dead or rejected in the last week, waiting on an
-- ambiguous gateway outcome, or stuck (a running job whose lease has expired; ready for over 15 minutes).
CREATE VIEW tuku.jobs_needing_attention AS
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
