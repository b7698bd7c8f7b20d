-- Reverts 0005_dashboards.up.sql.
DROP VIEW IF EXISTS tuku.jobs_needing_attention;
DROP VIEW IF EXISTS tuku.worker_status;
DROP VIEW IF EXISTS tuku.gateway_status_last_hour;
DROP VIEW IF EXISTS tuku.latency_last_hour;
DROP VIEW IF EXISTS tuku.throughput_per_minute;
DROP VIEW IF EXISTS tuku.queue_depth;
DROP INDEX IF EXISTS tuku.jobs_attention_idx;
DROP INDEX IF EXISTS tuku.exchanges_started_idx;
DROP INDEX IF EXISTS tuku.attempts_finished_idx;
