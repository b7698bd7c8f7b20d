-- Are we at the rate limit? Effective rate, next slot, cool-down, calls in flight, 429s in the last hour.
SELECT * FROM tuku.rate_limit_status ORDER BY key;
-- Calls per minute and what the gateway answered, last hour.
SELECT * FROM tuku.gateway_status_last_hour ORDER BY calls DESC;
