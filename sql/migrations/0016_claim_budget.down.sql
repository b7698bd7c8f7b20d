-- Back to 0015: the payload limit trigger without the size column.
DROP TRIGGER jobs_payload_within_limit ON tuku.jobs;

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
    RETURN NEW;
END
$$;

CREATE TRIGGER jobs_payload_within_limit BEFORE INSERT OR UPDATE OF payload ON tuku.jobs
    FOR EACH ROW EXECUTE FUNCTION tuku.jobs_payload_within_limit();

ALTER TABLE tuku.jobs DROP COLUMN payload_bytes;
