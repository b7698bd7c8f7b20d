-- Reverts 0001_queue.up.sql. Destroys every job, attempt and worker row.
DROP FUNCTION IF EXISTS tuku.cancel_jobs(text, text, text);
DROP FUNCTION IF EXISTS tuku.retry_jobs(text, text, text);
DROP FUNCTION IF EXISTS tuku.cancel(bigint);
DROP FUNCTION IF EXISTS tuku.retry(bigint);
DROP FUNCTION IF EXISTS tuku.enqueue(text, text, jsonb, text, smallint, timestamptz, integer);
DROP TABLE IF EXISTS tuku.workers;
DROP TABLE IF EXISTS tuku.attempts;
DROP TABLE IF EXISTS tuku.jobs;
DROP FUNCTION IF EXISTS tuku.notify_jobs_inserted();
DROP FUNCTION IF EXISTS tuku.jobs_before_insert();
DROP SEQUENCE IF EXISTS tuku.lease_token_seq;
