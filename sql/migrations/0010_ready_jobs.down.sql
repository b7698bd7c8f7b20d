-- Reverts 0010_ready_jobs.
DROP VIEW tuku.ready_job_count;
