-- Back to row-locked refreshes and name-bound seals. Sets sealed for their id and tenants (seal_version 2) do
-- not open with the older binary: they are marked as needing a person to load them again.
UPDATE tuku.oauth_tokens
SET needs_authorisation_since = coalesce(needs_authorisation_since, now()),
    last_error = 'sealed by a newer Tuku (migration 0014 was reverted): load the set again (tuku tokens load)',
    updated_at = now()
WHERE seal_version = 2;

DROP VIEW tuku.oauth_token_status;
CREATE VIEW tuku.oauth_token_status AS
SELECT t.name,
       coalesce((SELECT string_agg(tt.tenant, ',' ORDER BY tt.tenant) FROM tuku.oauth_token_tenants tt WHERE tt.token_id = t.id), '') AS tenants,
       t.access_expires_at,
       t.refresh_token IS NOT NULL AS refreshable,
       t.generation,
       t.refreshed_at,
       t.needs_authorisation_since,
       t.last_error,
       t.key_id
FROM tuku.oauth_tokens t;
GRANT SELECT ON tuku.oauth_token_status TO tuku_dashboard, tuku_operator;

DROP FUNCTION tuku.store_token_set(bigint, text, bytea, timestamptz, bytea, text, smallint, text[]);
DROP FUNCTION tuku.token_set_id(text);

CREATE FUNCTION tuku.store_token_set(
    p_name text, p_access_token bytea, p_access_expires_at timestamptz, p_refresh_token bytea, p_key_id text,
    p_tenants text[]
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    stored_id bigint;
BEGIN
    INSERT INTO tuku.oauth_tokens (name, access_token, access_expires_at, refresh_token, key_id)
    VALUES (p_name, p_access_token, p_access_expires_at, p_refresh_token, p_key_id)
    ON CONFLICT (name) DO UPDATE SET
        access_token = EXCLUDED.access_token, access_expires_at = EXCLUDED.access_expires_at,
        refresh_token = EXCLUDED.refresh_token, key_id = EXCLUDED.key_id,
        generation = tuku.oauth_tokens.generation + 1, needs_authorisation_since = NULL,
        last_error = NULL, updated_at = now()
    RETURNING id INTO stored_id;
    DELETE FROM tuku.oauth_token_tenants WHERE token_id = stored_id;
    INSERT INTO tuku.oauth_token_tenants (token_id, tenant) SELECT DISTINCT stored_id, unnest(p_tenants);
    RETURN stored_id;
END
$$;
REVOKE EXECUTE ON FUNCTION tuku.store_token_set(text, bytea, timestamptz, bytea, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tuku.store_token_set(text, bytea, timestamptz, bytea, text, text[]) TO tuku_operator;

REVOKE UPDATE (access_token, access_expires_at, refresh_token, key_id, seal_version, generation, refreshed_at,
               needs_authorisation_since, last_error, updated_at,
               refresh_claimed_by, refresh_claimed_at, refresh_claim_expires_at)
    ON tuku.oauth_tokens FROM tuku_worker;
GRANT UPDATE ON tuku.oauth_tokens TO tuku_worker;

ALTER TABLE tuku.oauth_tokens
    DROP CONSTRAINT oauth_tokens_seal_version_known,
    DROP CONSTRAINT oauth_tokens_claim_complete,
    DROP COLUMN seal_version,
    DROP COLUMN refresh_claim_expires_at,
    DROP COLUMN refresh_claimed_at,
    DROP COLUMN refresh_claimed_by;
