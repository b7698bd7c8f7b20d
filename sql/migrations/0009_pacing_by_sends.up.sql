-- Pacing by what was actually sent. Slots are still handed out evenly (GCRA, 0003), but a call can leave
-- later than its slot: a new TLS connection, a busy CPU. A late call crowds the calls after it, and with a
-- margin alone the fleet had to run 5 % under the limit to absorb that. Now every worker reports when each
-- call's request was written, and right before sending (the check it already made for cool-downs) asks
-- whether its send would put more than the limit into any window, counting the sends reported and the
-- sends of calls still in flight. The window is the gateway's: at most n = max(1, ⌊rate⌋) calls in any
-- n / rate seconds (for a rate of 3/s: 3 calls in any second).

-- Reported send times; kept for a minute. Unlogged: losing them in a crash costs nothing but a little pacing
-- history.
CREATE UNLOGGED TABLE tuku.rate_limit_sends (
    key     text        NOT NULL,
    sent_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_sends_key_sent_idx ON tuku.rate_limit_sends (key, sent_at);

-- When a call in flight confirmed it would send (NULL until it has): confirmations count only decided sends, so
-- that a call never makes way for reservations that have not confirmed yet (they will make way for it).
ALTER TABLE tuku.rate_limit_calls ADD COLUMN send_at timestamptz;
-- A call that opens a new connection reaches the gateway only once the gateway has finished its side of the TLS
-- handshake, which we cannot see: until it is answered, its arrival is anywhere from its send time to now.
ALTER TABLE tuku.rate_limit_calls ADD COLUMN connecting boolean NOT NULL DEFAULT false;

-- Confirms a reserved slot shortly before it: the cool-down still to wait (the caller then reserves again),
-- and otherwise how long after the slot this call should leave so that no window holds more than the limit.
-- The caller's own in-flight row then records that send, for the calls confirming after it.
--
-- It also returns the send time itself and clock_timestamp() as it returns, so that the worker can map the
-- database's clock onto its own across this one round trip (the slot's `now()` was the reservation's, which
-- under load can be many milliseconds stale by the time the worker reads it).
CREATE FUNCTION tuku.confirm_slot(
    p_key text, p_job_id bigint, p_slot timestamptz, p_connecting boolean DEFAULT false,
    OUT cooldown_seconds double precision, OUT wait_seconds double precision,
    OUT send_at timestamptz, OUT database_now timestamptz
)
LANGUAGE plpgsql AS $$
DECLARE
    l         tuku.rate_limits;
    rate      double precision;
    n         integer;
    span      interval;
    times     timestamptz[];
    first     integer;
    last      integer;
    -- Arrivals trail the send times workers report by a little (and by a varying little): keep this much clear.
    guard     constant interval := interval '10 milliseconds';
BEGIN
    cooldown_seconds := 0;
    wait_seconds := 0;
    send_at := p_slot;
    database_now := clock_timestamp();
    -- Confirmations of one key run one at a time, each seeing the send the one before it settled on (every
    -- statement below takes a fresh snapshot once the lock is held).
    SELECT * INTO l FROM tuku.rate_limits WHERE key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    cooldown_seconds := coalesce(greatest(extract(epoch FROM l.cooldown_until - clock_timestamp()), 0), 0);
    IF cooldown_seconds > 0 THEN
        RETURN;
    END IF;
    -- A caller confirming after its slot (it woke late) leaves now, not at the slot: its window ends now, and
    -- the calls that went out since its slot count.
    send_at := greatest(p_slot, clock_timestamp());
    rate := tuku.current_rate(l);
    n := greatest(1, floor(rate)::integer);
    span := make_interval(secs => n / rate);
    -- Every other send this one could share a window with: those reported, and the calls in flight at the send
    -- they confirmed (a connecting one that is due counts as arriving with this one), oldest first. Calls that
    -- have not confirmed yet do not count: they confirm after this one and make way for it.
    SELECT coalesce(array_agg(t ORDER BY t), '{}') INTO times FROM (
        SELECT s.sent_at AS t FROM tuku.rate_limit_sends s
        WHERE s.key = p_key AND s.sent_at > send_at - span - guard
        UNION ALL
        SELECT t FROM (
            SELECT CASE WHEN c.connecting AND c.send_at <= confirm_slot.send_at THEN confirm_slot.send_at ELSE c.send_at END AS t
            FROM tuku.rate_limit_calls c
            WHERE c.key = p_key AND c.job_id <> p_job_id AND c.send_at IS NOT NULL
        ) in_flight
        WHERE t > send_at - span - guard
    ) known;
    -- Sends are decided in order: never before one already decided, so that only the windows ending at this send
    -- can fill up (a send slipped in before a decided one would crowd windows that one was never checked against).
    IF cardinality(times) > 0 AND times[cardinality(times)] > send_at THEN
        send_at := times[cardinality(times)];
    END IF;
    -- The earliest send_at from there whose window (send_at - span - guard, send_at] holds fewer than n others.
    -- Moving it later drops old sends out of the window, so slide until it settles.
    first := 1;
    LOOP
        WHILE first <= cardinality(times) AND times[first] <= send_at - span - guard LOOP
            first := first + 1;
        END LOOP;
        last := first - 1;
        WHILE last < cardinality(times) AND times[last + 1] <= send_at LOOP
            last := last + 1;
        END LOOP;
        EXIT WHEN last - first + 1 < n;
        -- Leave once the oldest sends that make the window full have dropped out of it.
        send_at := times[last - n + 1] + span + guard;
    END LOOP;
    wait_seconds := extract(epoch FROM send_at - p_slot);
    UPDATE tuku.rate_limit_calls c SET send_at = confirm_slot.send_at, connecting = p_connecting
    WHERE c.key = p_key AND c.job_id = p_job_id;
    database_now := clock_timestamp();
END
$$;

-- release_slot gains the call's send time (when its request was written, by the database's clock).
DROP FUNCTION tuku.release_slot(text, bigint, integer, double precision);
CREATE FUNCTION tuku.release_slot(
    p_key text, p_job_id bigint, p_http_status integer DEFAULT NULL, p_retry_after double precision DEFAULT NULL,
    p_sent_at timestamptz DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    wait double precision;
BEGIN
    DELETE FROM tuku.rate_limit_calls WHERE key = p_key AND job_id = p_job_id;
    IF p_sent_at IS NOT NULL THEN
        INSERT INTO tuku.rate_limit_sends (key, sent_at) VALUES (p_key, p_sent_at);
        DELETE FROM tuku.rate_limit_sends WHERE key = p_key AND sent_at < now() - interval '1 minute';
    END IF;
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

-- With sends checked against the window, the margin only evens out small jitter: 1 % instead of 5 %.
-- Rows still at the old default follow; a margin an operator chose is kept.
ALTER TABLE tuku.rate_limits ALTER COLUMN safety_margin SET DEFAULT 0.01;
UPDATE tuku.rate_limits SET safety_margin = 0.01 WHERE safety_margin = 0.05;
COMMENT ON COLUMN tuku.rate_limits.safety_margin IS
    'Slots are spaced (1 + safety_margin) / rate apart; late sends are caught by tuku.confirm_slot (0009).';

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA tuku FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON tuku.rate_limit_sends TO tuku_worker;
GRANT SELECT ON tuku.rate_limit_sends TO tuku_operator;
GRANT EXECUTE ON FUNCTION
    tuku.confirm_slot(text, bigint, timestamptz, boolean),
    tuku.release_slot(text, bigint, integer, double precision, timestamptz)
TO tuku_worker;
