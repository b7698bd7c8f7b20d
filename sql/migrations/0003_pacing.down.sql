-- Reverts 0003_pacing.up.sql.
DROP VIEW IF EXISTS tuku.rate_limit_status;
DROP FUNCTION IF EXISTS tuku.set_rate(text, double precision, integer, integer);
DROP FUNCTION IF EXISTS tuku.release_slot(text, bigint, integer, double precision);
DROP FUNCTION IF EXISTS tuku.cooldown_remaining(text);
DROP FUNCTION IF EXISTS tuku.reserve_slot(text, bigint, bigint, integer);
DROP FUNCTION IF EXISTS tuku.current_rate(tuku.rate_limits);
DROP TABLE IF EXISTS tuku.rate_limit_throttles;
DROP TABLE IF EXISTS tuku.rate_limit_calls;
DROP TABLE IF EXISTS tuku.rate_limits;
