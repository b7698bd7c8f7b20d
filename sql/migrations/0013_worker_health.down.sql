ALTER TABLE tuku.rate_limit_sends SET UNLOGGED;

DROP VIEW tuku.worker_status;
CREATE VIEW tuku.worker_status AS
SELECT w.id, w.host, w.pid, w.version, w.state, w.concurrency, w.started_at,
       now() - w.heartbeat_at AS heartbeat_age,
       (SELECT count(*) FROM tuku.jobs j WHERE j.state = 'running' AND j.lease_owner = w.id) AS jobs_in_hand
FROM tuku.workers w
WHERE w.state IN ('running', 'stopping') OR w.stopped_at > now() - interval '1 day';
GRANT SELECT ON tuku.worker_status TO tuku_dashboard, tuku_operator;

ALTER TABLE tuku.workers
    DROP COLUMN database_errors,
    DROP COLUMN database_error_at,
    DROP COLUMN database_error,
    DROP COLUMN database_failing_since,
    DROP COLUMN database_durable,
    DROP COLUMN database_settings;
