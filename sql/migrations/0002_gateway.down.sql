-- Reverts 0002_gateway.up.sql. Destroys every stored exchange and token set.
DROP TABLE IF EXISTS tuku.oauth_token_tenants;
DROP TABLE IF EXISTS tuku.oauth_tokens;
DROP TABLE IF EXISTS tuku.exchanges;
