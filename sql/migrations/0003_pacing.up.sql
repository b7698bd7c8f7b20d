-- Fleet-wide pacing: every worker reserves its next send slot from PostgreSQL, so the whole fleet's calls are
-- spread evenly over real time and stay inside each gateway's limit, and backs off together when the gateway
-- pushes back. See docs/pacing.md.

-- One row per limit key (for example one per gateway environment and provider). Operators edit the first
-- columns live (`tuku.set_rate`); workers maintain the rest.
CREATE TABLE tuku.rate_limits (
    key                 text             PRIMARY KEY,
    requests_per_second double precision NOT NULL,
    -- Calls that may go out back to back after an idle spell (1 = strictly evenly spaced).
    burst               integer          NOT NULL DEFAULT 1,
    -- Most calls in flight at once across the fleet (IRD's 429 means "maximum concurrency exceeded"); NULL = no cap.
    max_in_flight       integer,
    -- After a 429 the effective rate halves, down to this fraction of requests_per_second ...
    min_rate_fraction   double precision NOT NULL DEFAULT 0.1,
    -- ... and climbs back linearly, from that floor to the full rate, over this many seconds.
    recovery_seconds    double precision NOT NULL DEFAULT 60,
    -- Slots are spaced (1 + safety_margin) / rate apart, so that calls leaving up to safety_margin seconds
    -- later than each other cannot put more than `rate` calls into any one-second window (the cost: calls run
    -- at rate / 1.05). Measured on a 2-core machine, 0.02 still let a few calls through late enough to be refused.
    safety_margin       double precision NOT NULL DEFAULT 0.05,
    -- Limiter state.
    effective_rate      double precision,
    -- GCRA's theoretical arrival time: the next free slot.
    next_slot_at        timestamptz      NOT NULL DEFAULT '-infinity',
    -- No call starts before this (set from Retry-After on 429/503).
    cooldown_until      timestamptz,
    last_throttled_at   timestamptz,
    rate_changed_at     timestamptz      NOT NULL DEFAULT now(),
    updated_at          timestamptz      NOT NULL DEFAULT now(),

    CONSTRAINT rate_limits_rate_positive CHECK (requests_per_second > 0),
    CONSTRAINT rate_limits_burst_positive CHECK (burst >= 1),
    CONSTRAINT rate_limits_max_in_flight_positive CHECK (max_in_flight IS NULL OR max_in_flight >= 1),
    CONSTRAINT rate_limits_min_rate_fraction_range CHECK (min_rate_fraction > 0 AND min_rate_fraction <= 1),
    CONSTRAINT rate_limits_recovery_positive CHECK (recovery_seconds > 0),
    CONSTRAINT rate_limits_safety_margin_range CHECK (safety_margin >= 0 AND safety_margin < 1)
);

COMMENT ON TABLE tuku.rate_limits IS 'Fleet-wide rate limits per key; edit requests_per_second, burst, max_in_flight live.';

-- Calls in flight: a row from reservation until the call's answer (or failure). Rows whose job is no longer
-- running (the worker died) are swept by the rescuer.
CREATE TABLE tuku.rate_limit_calls (
    key        text        NOT NULL REFERENCES tuku.rate_limits (key) ON DELETE CASCADE,
    job_id     bigint      NOT NULL,
    worker_id  bigint,
    slot_at    timestamptz NOT NULL,
    reserved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, job_id)
);

-- Every time the gateway pushed back, for "429s in the last hour".
CREATE TABLE tuku.rate_limit_throttles (
    key          text             NOT NULL REFERENCES tuku.rate_limits (key) ON DELETE CASCADE,
    at           timestamptz      NOT NULL DEFAULT now(),
    http_status  integer          NOT NULL,
    retry_after  double precision NOT NULL
);
CREATE INDEX rate_limit_throttles_key_at_idx ON tuku.rate_limit_throttles (key, at);

-- The effective rate as of now: after a throttle it climbs back linearly to the configured rate.
CREATE FUNCTION tuku.current_rate(l tuku.rate_limits) RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT least(
        l.requests_per_second,
        coalesce(l.effective_rate, l.requests_per_second)
          + l.requests_per_second * (1 - l.min_rate_fraction)
            * greatest(extract(epoch FROM now() - l.rate_changed_at), 0) / l.recovery_seconds)
$$;

-- Reserves the next send slot for a call under `key` and returns it, or NULL when the fleet already has
-- max_in_flight calls out (ask again shortly). Callers wait `slot - now()` by the database's clock, so
-- workers on machines with skewed clocks still agree. A key with no row is not paced: '-infinity' says so
-- (workers then skip reservations for that key for a couple of seconds).
-- Slots are handed out 1/rate apart: the fleet never bursts above the rate, however many workers ask.
--
-- `p_slots` > 1 keeps the following slots free: a worker's first call opens a new TLS connection and leaves
-- late, and an empty slot after it stops that lateness from pushing it towards the next call.
CREATE FUNCTION tuku.reserve_slot(p_key text, p_job_id bigint, p_worker_id bigint DEFAULT NULL, p_slots integer DEFAULT 1)
RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    l        tuku.rate_limits;
    rate     double precision;
    spacing  interval;
    slot     timestamptz;
    earliest timestamptz;
BEGIN
    SELECT * INTO l FROM tuku.rate_limits WHERE key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        RETURN '-infinity'::timestamptz;
    END IF;
    IF l.max_in_flight IS NOT NULL
       AND (SELECT count(*) FROM tuku.rate_limit_calls c WHERE c.key = p_key AND c.job_id <> p_job_id) >= l.max_in_flight THEN
        RETURN NULL;
    END IF;
    rate := tuku.current_rate(l);
    spacing := make_interval(secs => (1 + l.safety_margin) / rate);
    earliest := greatest(now(), coalesce(l.cooldown_until, now()));
    slot := greatest(l.next_slot_at, earliest - (l.burst - 1) * spacing);
    UPDATE tuku.rate_limits
    SET next_slot_at = slot + greatest(p_slots, 1) * spacing,
        -- Fold the recovery so far into the stored rate, so it keeps climbing from here.
        effective_rate = CASE WHEN rate >= requests_per_second THEN NULL ELSE rate END,
        rate_changed_at = now(),
        updated_at = now()
    WHERE key = p_key;
    INSERT INTO tuku.rate_limit_calls (key, job_id, worker_id, slot_at) VALUES (p_key, p_job_id, p_worker_id, slot)
    ON CONFLICT (key, job_id) DO UPDATE SET slot_at = EXCLUDED.slot_at, worker_id = EXCLUDED.worker_id, reserved_at = now();
    RETURN slot;
END
$$;

-- Seconds of cool-down still to wait under `key` (0 when none): checked right before sending, so a
-- cool-down set while a worker slept on its slot stops it too.
CREATE FUNCTION tuku.cooldown_remaining(p_key text) RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT coalesce(greatest(extract(epoch FROM cooldown_until - now()), 0), 0)::double precision
    FROM tuku.rate_limits WHERE key = p_key
    UNION ALL SELECT 0::double precision
    LIMIT 1
$$;

-- Ends a call's reservation. When the gateway pushed back (429, or 503 with Retry-After), every worker
-- pauses the key until Retry-After (default 5 s); when it pushes back again within 30 seconds, the effective
-- rate also halves (down to its floor), and then climbs back. A lone refusal costs only the cool-down.
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

-- Sets (or creates) a limit. Operators call this; workers pick it up on their next reservation.
CREATE FUNCTION tuku.set_rate(
    key text, requests_per_second double precision, burst integer DEFAULT 1, max_in_flight integer DEFAULT NULL
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tuku.rate_limits (key, requests_per_second, burst, max_in_flight)
    VALUES (set_rate.key, set_rate.requests_per_second, set_rate.burst, set_rate.max_in_flight)
    ON CONFLICT (key) DO UPDATE SET
        requests_per_second = EXCLUDED.requests_per_second, burst = EXCLUDED.burst,
        max_in_flight = EXCLUDED.max_in_flight, updated_at = now()
$$;

-- The limiter as operators see it.
CREATE VIEW tuku.rate_limit_status AS
SELECT l.key,
       l.requests_per_second,
       l.burst,
       l.max_in_flight,
       round(tuku.current_rate(l)::numeric, 3) AS effective_rate,
       greatest(l.next_slot_at, now()) AS next_slot_at,
       l.cooldown_until,
       greatest(l.cooldown_until - now(), interval '0') AS cooldown_remaining,
       (SELECT count(*) FROM tuku.rate_limit_calls c WHERE c.key = l.key) AS in_flight,
       (SELECT count(*) FROM tuku.rate_limit_throttles t WHERE t.key = l.key AND t.at > now() - interval '1 hour') AS throttles_last_hour,
       l.last_throttled_at
FROM tuku.rate_limits l;
