-- The number autoscalers scale workers on: jobs a worker could claim now (ready, not paused). Read through the
-- claim's partial index, so it stays cheap with any amount of history. KEDA's postgresql scaler reads it with a
-- tuku_dashboard login (deploy/kubernetes/keda-scaledobject.yaml).
CREATE VIEW tuku.ready_job_count AS
SELECT count(*) AS jobs
FROM tuku.jobs j
WHERE j.state IN ('available', 'scheduled', 'retryable') AND j.run_at <= now()
  AND NOT EXISTS (
      SELECT FROM tuku.pauses p
      WHERE (p.kind IS NULL OR p.kind = j.kind) AND (p.tenant IS NULL OR p.tenant = j.tenant));

GRANT SELECT ON tuku.ready_job_count TO tuku_dashboard, tuku_operator;
