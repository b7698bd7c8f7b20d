-- What is stuck, why, and what did IRD say? Run with: psql -f sql/dashboards/what-is-stuck.sql
SELECT id, kind, tenant, state, reason, error_code, left(error_message, 80) AS error, since
FROM tuku.jobs_needing_attention ORDER BY since DESC LIMIT 50;

-- The gateway's answers to those jobs, newest first.
SELECT e.job_id, e.attempt, e.purpose, e.action, e.http_status, e.transport_error, e.gateway_status, e.fault, e.started_at
FROM tuku.exchanges e
WHERE e.job_id IN (SELECT id FROM tuku.jobs_needing_attention)
ORDER BY e.id DESC LIMIT 50;
