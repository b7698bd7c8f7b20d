-- What a job produced for upstream, and a filing's receipt (issue #12, the HMRC job family).
--
-- tuku.jobs.result: a JSON value the job's handler produced, written by the worker's ack only when the job ends
-- `succeeded` (an hmrc.vat.obligations job's open and fulfilled periods; an hmrc.vat.return job's receipt, or
-- that HMRC already held the return). Producers read it through their existing SELECT grant on tuku.jobs, and
-- row-level security (jobs_producer_own_tenants) shows each producer only its own tenants' jobs, results
-- included. It holds no tax amounts (those are the payload's, cleared by remove_expired_payloads after
-- payload_retention_days): it is kept, like the job's state and errors, until the job itself is deleted after
-- finished_job_retention_days.
--
-- tuku.exchanges.receipt: the gateway's proof that it accepted a filing (HMRC: Receipt-ID, Receipt-Timestamp,
-- X-CorrelationId, processingDate, formBundleNumber, chargeRefNumber), on the exchange row of the call that
-- filed. It is metadata, like gateway_id and submission_key: the body sweep (remove_expired_bodies) leaves it,
-- and it goes with the row when the job is deleted. Grants and policies are per table, so tuku_worker inserts
-- it, tuku_operator reads it and a producer reads its own tenants' receipts as for the other columns.

ALTER TABLE tuku.jobs ADD COLUMN result jsonb;
COMMENT ON COLUMN tuku.jobs.result IS
    'What the job produced for upstream (e.g. HMRC obligations, a VAT return receipt); set by the ack only when the job succeeded. Kept until the job is deleted.';
-- Only a succeeded job has a result (succeeded is final: tuku.jobs_succeeded_is_final).
ALTER TABLE tuku.jobs ADD CONSTRAINT jobs_result_only_when_succeeded CHECK (result IS NULL OR state = 'succeeded');

ALTER TABLE tuku.exchanges ADD COLUMN receipt jsonb;
COMMENT ON COLUMN tuku.exchanges.receipt IS
    'The gateway''s proof of an accepted filing (HMRC: Receipt-ID, Receipt-Timestamp, X-CorrelationId, formBundleNumber, chargeRefNumber, processingDate). Metadata: kept when the bodies are swept.';
ALTER TABLE tuku.exchanges ADD CONSTRAINT exchanges_receipt_is_object CHECK (receipt IS NULL OR jsonb_typeof(receipt) = 'object');

-- HMRC's limit is published and the same for every application: 3 requests per second across all of an
-- application's calls (HMRC's API platform rules), so the key every HMRC kind paces against starts there. IRD's
-- limit is agreed per provider, so ird.gateway has no such default. Operators change it live with tuku.set_rate.
INSERT INTO tuku.rate_limits (key, requests_per_second, burst, max_in_flight) VALUES ('hmrc.api', 3, 1, NULL)
ON CONFLICT (key) DO NOTHING;
