-- Back to 0016: the 0015 body sweep, and no exact reply bytes.
CREATE OR REPLACE FUNCTION tuku.remove_expired_bodies(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff  timestamptz := now() - make_interval(days => tuku.retention_days('exchange_body_retention_days'));
    cleared integer;
BEGIN
    UPDATE tuku.exchanges
    SET request_body = NULL, response_body = NULL, bodies_removed_at = now()
    WHERE id IN (
        SELECT id FROM tuku.exchanges
        WHERE bodies_removed_at IS NULL AND started_at < cutoff
        ORDER BY id
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    );
    GET DIAGNOSTICS cleared = ROW_COUNT;
    RETURN cleared;
END
$$;

ALTER TABLE tuku.exchanges DROP COLUMN response_body_bytes;
