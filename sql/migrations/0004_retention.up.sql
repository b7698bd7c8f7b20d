-- Retention of personal data: request and response bodies (payroll and tax data) are removed from
-- tuku.exchanges after a retention period; the metadata (status codes, ids, outcome, timings) is kept.

CREATE TABLE tuku.settings (
    name        text        PRIMARY KEY,
    value       text        NOT NULL,
    description text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tuku.settings (name, value, description) VALUES
    ('exchange_body_retention_days', '90',
     'Days after which request and response bodies are removed from tuku.exchanges (metadata is kept).');

-- Removes expired bodies, at most `batch` rows per call so that it never holds many locks for long. Returns
-- how many rows it cleared. Workers run it periodically (one at a time, fleet-wide); operators may call it.
CREATE FUNCTION tuku.remove_expired_bodies(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    days    integer;
    cleared integer;
BEGIN
    SELECT value::integer INTO days FROM tuku.settings WHERE name = 'exchange_body_retention_days';
    IF days IS NULL THEN
        RAISE EXCEPTION 'setting exchange_body_retention_days is missing' USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE tuku.exchanges
    SET request_body = NULL, response_body = NULL, bodies_removed_at = now()
    WHERE id IN (
        SELECT id FROM tuku.exchanges
        WHERE bodies_removed_at IS NULL AND started_at < now() - make_interval(days => days)
        ORDER BY id
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    );
    GET DIAGNOSTICS cleared = ROW_COUNT;
    RETURN cleared;
END
$$;

-- Finds the rows still holding bodies, oldest first, without scanning the ones already cleared.
CREATE INDEX exchanges_bodies_held_idx ON tuku.exchanges (started_at) WHERE bodies_removed_at IS NULL;
