-- Back to 0017: token sets without a gateway. Refused while a set for another gateway than IRD exists: before
-- 0018 every set was IRD's, and such a set would be sent to IRD. Delete those sets first (tuku tokens list).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM tuku.oauth_tokens WHERE gateway <> 'ird') THEN
        RAISE EXCEPTION 'token sets for gateways other than ird exist; delete them before rolling back 0018'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION tuku.store_token_set(
    p_id bigint, p_name text, p_access_token bytea, p_access_expires_at timestamptz, p_refresh_token bytea,
    p_key_id text, p_seal_version smallint, p_tenants text[]
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    existing_id bigint;
BEGIN
    SELECT id INTO existing_id FROM tuku.oauth_tokens WHERE name = p_name FOR UPDATE;
    IF existing_id IS NULL THEN
        IF EXISTS (SELECT 1 FROM tuku.oauth_tokens WHERE id = p_id) THEN
            RAISE EXCEPTION 'token set id % belongs to another set', p_id USING ERRCODE = 'serialization_failure';
        END IF;
        INSERT INTO tuku.oauth_tokens (id, name, access_token, access_expires_at, refresh_token, key_id, seal_version)
        OVERRIDING SYSTEM VALUE
        VALUES (p_id, p_name, p_access_token, p_access_expires_at, p_refresh_token, p_key_id, p_seal_version);
    ELSIF existing_id <> p_id THEN
        RAISE EXCEPTION 'token set % has another id by now', p_name USING ERRCODE = 'serialization_failure';
    ELSE
        UPDATE tuku.oauth_tokens SET
            access_token = p_access_token, access_expires_at = p_access_expires_at, refresh_token = p_refresh_token,
            key_id = p_key_id, seal_version = p_seal_version, generation = generation + 1,
            needs_authorisation_since = NULL, last_error = NULL, updated_at = now(),
            refresh_claimed_by = NULL, refresh_claimed_at = NULL, refresh_claim_expires_at = NULL
        WHERE id = p_id;
    END IF;
    DELETE FROM tuku.oauth_token_tenants WHERE token_id = p_id;
    INSERT INTO tuku.oauth_token_tenants (token_id, tenant) SELECT DISTINCT p_id, unnest(p_tenants);
    RETURN p_id;
END
$$;
REVOKE EXECUTE ON FUNCTION tuku.store_token_set(bigint, text, bytea, timestamptz, bytea, text, smallint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tuku.store_token_set(bigint, text, bytea, timestamptz, bytea, text, smallint, text[]) TO tuku_operator;
DROP FUNCTION tuku.store_token_set(bigint, text, text, bytea, timestamptz, bytea, text, smallint, text[]);

-- A view loses a column only by being made again; its grants go with it, so they are given again.
DROP VIEW tuku.oauth_token_status;
CREATE VIEW tuku.oauth_token_status WITH (security_barrier = true) AS
SELECT t.name,
       coalesce((SELECT string_agg(tt.tenant, ',' ORDER BY tt.tenant) FROM tuku.oauth_token_tenants tt WHERE tt.token_id = t.id), '') AS tenants,
       t.access_expires_at,
       t.refresh_token IS NOT NULL AS refreshable,
       t.generation,
       t.refreshed_at,
       t.needs_authorisation_since,
       t.last_error,
       t.key_id,
       t.refresh_claimed_by,
       t.refresh_claim_expires_at,
       t.seal_version
FROM tuku.oauth_tokens t;
GRANT SELECT ON tuku.oauth_token_status TO tuku_dashboard, tuku_operator;

ALTER TABLE tuku.oauth_tokens DROP COLUMN gateway;
