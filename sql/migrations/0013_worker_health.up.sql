-- What a worker knows about its database, where an operator looks first (tuku.workers, tuku.worker_status):
-- whether its database calls have been failing, and whether the database it was given keeps committed work
-- through a crash (docs/queue.md, "Durability"). Workers write these with their heartbeat, so a row shows the
-- worker's view as of its last heartbeat that got through.
ALTER TABLE tuku.workers
    ADD COLUMN database_errors      bigint      NOT NULL DEFAULT 0,
    ADD COLUMN database_error_at    timestamptz,
    ADD COLUMN database_error       text,
    ADD COLUMN database_failing_since timestamptz,
    ADD COLUMN database_durable     boolean,
    ADD COLUMN database_settings    text;
COMMENT ON COLUMN tuku.workers.database_errors IS 'Database calls of this worker that failed or timed out, since it started.';
COMMENT ON COLUMN tuku.workers.database_error_at IS 'When the latest of them failed.';
COMMENT ON COLUMN tuku.workers.database_error IS 'What the latest failure said (no bound values, no credentials).';
COMMENT ON COLUMN tuku.workers.database_failing_since IS
    'Set while the worker''s database calls keep failing (three or more in a row); NULL once one succeeds.';
COMMENT ON COLUMN tuku.workers.database_durable IS
    'Whether the worker found fsync, synchronous_commit and full_page_writes on at start (see docs/queue.md).';
COMMENT ON COLUMN tuku.workers.database_settings IS 'The durability settings the worker found at start.';

CREATE OR REPLACE VIEW tuku.worker_status AS
SELECT w.id, w.host, w.pid, w.version, w.state, w.concurrency, w.started_at,
       now() - w.heartbeat_at AS heartbeat_age,
       (SELECT count(*) FROM tuku.jobs j WHERE j.state = 'running' AND j.lease_owner = w.id) AS jobs_in_hand,
       w.database_errors, w.database_error_at, w.database_failing_since, w.database_durable
FROM tuku.workers w
WHERE w.state IN ('running', 'stopping') OR w.stopped_at > now() - interval '1 day';

-- Reported sends survive a crash: after `pg_ctl restart -m immediate` an unlogged table comes back empty, and
-- the confirmations right after the restart would not see the sends of the second before it (0009 chose
-- unlogged when pacing history was thought to be cheap to lose; it is not, at the limit).
ALTER TABLE tuku.rate_limit_sends SET LOGGED;
