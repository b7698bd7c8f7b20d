-- A gateway reply that is not valid UTF-8 was stored as text with every bad byte replaced by U+FFFD, so an
-- operator could not see exactly what came back (issue #11, defect 9). Such a reply now also keeps its exact
-- bytes; response_body still holds the readable (replaced) text, so queries and tools that read text work as
-- before. A reply that is valid UTF-8 is stored once, as text, and response_body_bytes stays NULL.

ALTER TABLE tuku.exchanges ADD COLUMN response_body_bytes bytea;
COMMENT ON COLUMN tuku.exchanges.response_body_bytes IS
    'The reply exactly as received, only when it is not valid UTF-8 (response_body then shows it with U+FFFD for each bad byte). Removed with the other bodies.';
ALTER TABLE tuku.exchanges ADD CONSTRAINT exchanges_reply_bytes_with_body
    CHECK (response_body_bytes IS NULL OR response_body IS NOT NULL);

-- The body sweep of 0015, now also clearing the exact bytes.
CREATE OR REPLACE FUNCTION tuku.remove_expired_bodies(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff  timestamptz := now() - make_interval(days => tuku.retention_days('exchange_body_retention_days'));
    cleared integer;
BEGIN
    UPDATE tuku.exchanges
    SET request_body = NULL, response_body = NULL, response_body_bytes = NULL, bodies_removed_at = now()
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
