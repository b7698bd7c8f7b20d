-- Reverts 0009_pacing_by_sends: release_slot back to its 0003 form, the 5 % default margin.
DROP FUNCTION tuku.confirm_slot(text, bigint, timestamptz, boolean);
ALTER TABLE tuku.rate_limit_calls DROP COLUMN connecting;
ALTER TABLE tuku.rate_limit_calls DROP COLUMN send_at;
DROP FUNCTION tuku.release_slot(text, bigint, integer, double precision, timestamptz);
CREATE FUNCTION tuku.release_slot(
    p_key text, p_job_id bigint, p_http_status integer DEFAULT NULL, p_retry_after double precision DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    wait double precision;
BEGIN
    DELETE FROM tuku.rate_limit_calls WHERE key = p_key AND job_id = p_job_id;
    IF p_http_status = 429 OR (p_http_status = 503 AND p_retry_after IS NOT NULL) THEN
        wait := coalesce(p_retry_after, 5);
        UPDATE tuku.rate_limits l
        SET cooldown_until = greatest(coalesce(l.cooldown_until, now()), now() + make_interval(secs => wait)),
            effective_rate = CASE
                WHEN l.last_throttled_at > now() - interval '30 seconds'
                    THEN greatest(l.requests_per_second * l.min_rate_fraction, tuku.current_rate(l) / 2)
                ELSE tuku.current_rate(l)
            END,
            rate_changed_at = now(),
            last_throttled_at = now(),
            updated_at = now()
        WHERE l.key = p_key;
        INSERT INTO tuku.rate_limit_throttles (key, http_status, retry_after)
        SELECT p_key, p_http_status, wait WHERE EXISTS (SELECT 1 FROM tuku.rate_limits WHERE key = p_key);
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION tuku.release_slot(text, bigint, integer, double precision) TO tuku_worker;
UPDATE tuku.rate_limits SET safety_margin = 0.05 WHERE safety_margin = 0.01;
ALTER TABLE tuku.rate_limits ALTER COLUMN safety_margin SET DEFAULT 0.05;
COMMENT ON COLUMN tuku.rate_limits.safety_margin IS NULL;
DROP TABLE tuku.rate_limit_sends;
