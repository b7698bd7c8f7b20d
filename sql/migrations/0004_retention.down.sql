-- Reverts 0004_retention.up.sql.
DROP INDEX IF EXISTS tuku.exchanges_bodies_held_idx;
DROP FUNCTION IF EXISTS tuku.remove_expired_bodies(integer);
DROP TABLE IF EXISTS tuku.settings;
