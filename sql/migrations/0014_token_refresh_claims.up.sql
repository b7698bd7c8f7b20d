-- Token sets that cannot be lost or swapped (issue #11, defects 1 and 2).
--
-- 1. A refresh is claimed with a short committed marker (who, until when) instead of a row lock held across
--    the call to the token endpoint: the worker calls the endpoint outside any transaction and stores the new
--    set in its own short transaction. A claim whose deadline passes without a stored result means the refresh
--    token may be spent: the set then needs a person to authorise again, and its refresh token is never
--    presented a second time.
-- 2. Sealed tokens are bound to their row's id, name and tenants (seal_version 2). Rows sealed before this
--    migration (seal_version 1, bound to name and column only) still open, and are sealed again under the
--    current key and binding on their next refresh or by `tuku tokens reseal`. Workers may update only the
--    columns a refresh writes: never a set's name, id or tenants.

ALTER TABLE tuku.oauth_tokens
    -- Who is refreshing the set (host, process and claim), since when, and until when the claim holds.
    ADD COLUMN refresh_claimed_by       text,
    ADD COLUMN refresh_claimed_at       timestamptz,
    ADD COLUMN refresh_claim_expires_at timestamptz,
    -- What the sealed tokens are bound to: 1 = name and column (before 0014); 2 = id, name, tenants and column.
    ADD COLUMN seal_version             smallint NOT NULL DEFAULT 1,
    ADD CONSTRAINT oauth_tokens_claim_complete CHECK (
        (refresh_claimed_by IS NULL) = (refresh_claimed_at IS NULL)
        AND (refresh_claimed_by IS NULL) = (refresh_claim_expires_at IS NULL)),
    ADD CONSTRAINT oauth_tokens_seal_version_known CHECK (seal_version IN (1, 2));

COMMENT ON COLUMN tuku.oauth_tokens.refresh_claimed_by IS
    'The worker refreshing this set. Left in place when its deadline passed without a result (the set then needs authorising), as evidence.';

-- Workers write what a refresh (or a reseal) writes, and nothing else: not the name, not the id, not the tenants.
REVOKE UPDATE ON tuku.oauth_tokens FROM tuku_worker;
GRANT UPDATE (access_token, access_expires_at, refresh_token, key_id, seal_version, generation, refreshed_at,
              needs_authorisation_since, last_error, updated_at,
              refresh_claimed_by, refresh_claimed_at, refresh_claim_expires_at)
    ON tuku.oauth_tokens TO tuku_worker;

-- Loading a set now seals it for its row's id, so the id is chosen before sealing: the existing set's id, or a
-- new one from the identity's sequence.
CREATE FUNCTION tuku.token_set_id(p_name text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT id FROM tuku.oauth_tokens WHERE name = p_name),
        nextval(pg_get_serial_sequence('tuku.oauth_tokens', 'id')))
$$;
REVOKE EXECUTE ON FUNCTION tuku.token_set_id(text) FROM PUBLIC;

-- Stores (or replaces) a sealed token set under the id it was sealed for, with its tenants. Refuses (SQLSTATE
-- 40001, try again) when the name belongs to another id by now, so a seal never lands on a row it was not made for.
CREATE FUNCTION tuku.store_token_set(
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

-- The name-bound form is gone: a set loaded through it would be sealed without its id and tenants.
DROP FUNCTION tuku.store_token_set(text, bytea, timestamptz, bytea, text, text[]);

GRANT EXECUTE ON FUNCTION
    tuku.token_set_id(text),
    tuku.store_token_set(bigint, text, bytea, timestamptz, bytea, text, smallint, text[])
TO tuku_operator;

-- Token sets as operators and dashboards see them, now with who is refreshing them and how they are sealed.
CREATE OR REPLACE VIEW tuku.oauth_token_status AS
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
