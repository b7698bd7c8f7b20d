-- A byte budget per claim (issue #11, defect 5): a claim stops adding jobs once their payloads would pass the
-- worker's budget, so --claim-batch jobs of up to max_payload_bytes each cannot take a worker past its memory.
--
-- The claim must know each ready job's payload size without reading the payload: octet_length(payload::text) would
-- detoast every locked candidate, including those the budget then leaves behind. The size is kept in the row, set
-- by the same trigger that enforces max_payload_bytes (it computes the very same number), on insert and on every
-- change of payload or payload_bytes, so no UPDATE can make it lie.

ALTER TABLE tuku.jobs ADD COLUMN payload_bytes integer;
COMMENT ON COLUMN tuku.jobs.payload_bytes IS
    'octet_length(payload::text), kept by the jobs_payload_within_limit trigger; the claim''s byte budget reads it. NULL only for rows older than migration 0016 (the claim measures those).';

CREATE OR REPLACE FUNCTION tuku.jobs_payload_within_limit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    size  bigint := octet_length(NEW.payload::text);
    limit_bytes bigint;
BEGIN
    SELECT value::bigint INTO limit_bytes FROM tuku.settings WHERE name = 'max_payload_bytes';
    IF size > coalesce(limit_bytes, 4194304) THEN
        RAISE EXCEPTION 'payload of % bytes is over the limit of % bytes (tuku.settings max_payload_bytes)', size, coalesce(limit_bytes, 4194304)
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'split the submission, or ask an operator to raise max_payload_bytes';
    END IF;
    NEW.payload_bytes := size;
    RETURN NEW;
END
$$;

DROP TRIGGER jobs_payload_within_limit ON tuku.jobs;
CREATE TRIGGER jobs_payload_within_limit BEFORE INSERT OR UPDATE OF payload, payload_bytes ON tuku.jobs
    FOR EACH ROW EXECUTE FUNCTION tuku.jobs_payload_within_limit();
