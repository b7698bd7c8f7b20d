-- Token sets name their gateway (issue #12): a tenant has one set per tax authority it files to, IRD's and
-- HMRC's refresh tokens never meet, and a worker asks for the tenant's set for the gateway of the job's kind.
--
-- Every set stored before this migration was IRD's. The column has no default from now on: a set is stored for a
-- gateway named on purpose (tuku tokens load/authorize --gateway, 'ird' unless told otherwise).
--
-- The gateway is bound into the seal for every gateway but IRD: a set's sealed tokens do not open once its gateway
-- is changed behind Tuku's back, so an IRD bearer token never goes to HMRC, nor the other way round. IRD's seals
-- are the ones made before this migration (seal versions 1 and 2 unchanged), so they all still open, and rolling
-- back leaves them usable.

ALTER TABLE tuku.oauth_tokens
    ADD COLUMN gateway text NOT NULL DEFAULT 'ird',
    ADD CONSTRAINT oauth_tokens_gateway_known CHECK (gateway IN ('ird', 'hmrc'));
ALTER TABLE tuku.oauth_tokens ALTER COLUMN gateway DROP DEFAULT;

COMMENT ON COLUMN tuku.oauth_tokens.gateway IS
    'The tax authority the set authorises for (ird, hmrc). Workers look a tenant''s set up by it and may not change it.';

-- Workers keep the refresh columns only (0014): gateway is not among them. Operators read it through
-- tuku.oauth_token_status, and write it only through tuku.store_token_set.

-- Stores (or replaces) a sealed token set for a gateway. As 0014's form, and refuses to move an existing set to
-- another gateway (its tokens were issued by the first one): load it under another name instead.
CREATE FUNCTION tuku.store_token_set(
    p_id bigint, p_name text, p_gateway text, p_access_token bytea, p_access_expires_at timestamptz, p_refresh_token bytea,
    p_key_id text, p_seal_version smallint, p_tenants text[]
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    existing_id      bigint;
    existing_gateway text;
BEGIN
    SELECT id, gateway INTO existing_id, existing_gateway FROM tuku.oauth_tokens WHERE name = p_name FOR UPDATE;
    IF existing_id IS NULL THEN
        IF EXISTS (SELECT 1 FROM tuku.oauth_tokens WHERE id = p_id) THEN
            RAISE EXCEPTION 'token set id % belongs to another set', p_id USING ERRCODE = 'serialization_failure';
        END IF;
        INSERT INTO tuku.oauth_tokens (id, name, gateway, access_token, access_expires_at, refresh_token, key_id, seal_version)
        OVERRIDING SYSTEM VALUE
        VALUES (p_id, p_name, p_gateway, p_access_token, p_access_expires_at, p_refresh_token, p_key_id, p_seal_version);
    ELSIF existing_id <> p_id THEN
        RAISE EXCEPTION 'token set % has another id by now', p_name USING ERRCODE = 'serialization_failure';
    ELSIF existing_gateway <> p_gateway THEN
        RAISE EXCEPTION 'token set % is for gateway %, not %; load it under another name', p_name, existing_gateway, p_gateway
            USING ERRCODE = 'check_violation';
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
REVOKE EXECUTE ON FUNCTION tuku.store_token_set(bigint, text, text, bytea, timestamptz, bytea, text, smallint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tuku.store_token_set(bigint, text, text, bytea, timestamptz, bytea, text, smallint, text[]) TO tuku_operator;

-- The gateway-less form is gone: a set loaded through it would not say whose it is.
DROP FUNCTION tuku.store_token_set(bigint, text, bytea, timestamptz, bytea, text, smallint, text[]);

-- Token sets as operators and dashboards see them, now with their gateway (a new last column keeps the view's
-- grants; security_barrier as 0015 set it).
CREATE OR REPLACE VIEW tuku.oauth_token_status WITH (security_barrier = true) AS
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
       t.seal_version,
       t.gateway
FROM tuku.oauth_tokens t;
