-- Operators retry or cancel jobs by what went wrong, not only by state, kind and tenant: after reloading a
-- tenant's tokens, `tuku.retry_jobs(state => 'rejected', error_code => 'gateway_rejected')`; after IRD's outage,
-- every dead job whose last error was `gateway_retry`. `error_code` is a LIKE pattern on `last_error->>'code'`
-- (`'auth_%'` matches every token problem); NULL matches every job.
--
-- The three-argument functions are replaced rather than overloaded: an overload would make every call that
-- names only some arguments ambiguous.

DROP FUNCTION tuku.retry_jobs(text, text, text);
DROP FUNCTION tuku.cancel_jobs(text, text, text);

CREATE FUNCTION tuku.retry_jobs(
    state      text DEFAULT 'dead',
    kind       text DEFAULT NULL,
    tenant     text DEFAULT NULL,
    error_code text DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF retry_jobs.state IN ('running', 'succeeded') THEN
        RAISE EXCEPTION '% jobs cannot be retried', retry_jobs.state USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tuku.jobs j
    SET state = 'available',
        run_at = now(),
        max_attempts = greatest(j.max_attempts, j.attempt + 1),
        finished_at = NULL,
        cancel_requested_at = NULL
    WHERE j.state NOT IN ('running', 'succeeded')
      AND j.payload_removed_at IS NULL
      AND (retry_jobs.state IS NULL OR j.state = retry_jobs.state)
      AND (retry_jobs.kind IS NULL OR j.kind = retry_jobs.kind)
      AND (retry_jobs.tenant IS NULL OR j.tenant = retry_jobs.tenant)
      AND (retry_jobs.error_code IS NULL OR j.last_error->>'code' LIKE retry_jobs.error_code);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM pg_notify('tuku_jobs', '');
    END IF;
    RETURN n;
END
$$;

-- Bulk cancel by filter (NULL matches everything; at least one filter is required). Waiting jobs end
-- `cancelled`; running ones are marked as tuku.cancel() does. Returns how many jobs were affected.
CREATE FUNCTION tuku.cancel_jobs(
    state      text DEFAULT NULL,
    kind       text DEFAULT NULL,
    tenant     text DEFAULT NULL,
    error_code text DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    waiting integer;
    running integer;
BEGIN
    IF cancel_jobs.state IS NULL AND cancel_jobs.kind IS NULL AND cancel_jobs.tenant IS NULL AND cancel_jobs.error_code IS NULL THEN
        RAISE EXCEPTION 'cancel_jobs needs at least one filter (state, kind, tenant or error_code)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tuku.jobs j
    SET state = 'cancelled', finished_at = now(), cancel_requested_at = now()
    WHERE j.state IN ('available', 'scheduled', 'retryable')
      AND (cancel_jobs.state IS NULL OR j.state = cancel_jobs.state)
      AND (cancel_jobs.kind IS NULL OR j.kind = cancel_jobs.kind)
      AND (cancel_jobs.tenant IS NULL OR j.tenant = cancel_jobs.tenant)
      AND (cancel_jobs.error_code IS NULL OR j.last_error->>'code' LIKE cancel_jobs.error_code);
    GET DIAGNOSTICS waiting = ROW_COUNT;
    UPDATE tuku.jobs j
    SET cancel_requested_at = now()
    WHERE j.state = 'running' AND j.cancel_requested_at IS NULL
      AND (cancel_jobs.state IS NULL OR j.state = cancel_jobs.state)
      AND (cancel_jobs.kind IS NULL OR j.kind = cancel_jobs.kind)
      AND (cancel_jobs.tenant IS NULL OR j.tenant = cancel_jobs.tenant)
      AND (cancel_jobs.error_code IS NULL OR j.last_error->>'code' LIKE cancel_jobs.error_code);
    GET DIAGNOSTICS running = ROW_COUNT;
    RETURN waiting + running;
END
$$;

REVOKE EXECUTE ON FUNCTION tuku.retry_jobs(text, text, text, text), tuku.cancel_jobs(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tuku.retry_jobs(text, text, text, text), tuku.cancel_jobs(text, text, text, text) TO tuku_operator;
