-- Gateway exchanges and OAuth token sets.

-- ---------------------------------------------------------------------------------------------------
-- Exchanges: every HTTP call made for a job, as the gateway answered it. Append-only.
-- "What did IRD say to job 42, each time":
--   SELECT attempt, purpose, action, http_status, gateway_status, gateway_id, submission_key, outcome
--   FROM tuku.exchanges WHERE job_id = 42 ORDER BY id;
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE tuku.exchanges (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id          bigint      NOT NULL REFERENCES tuku.jobs (id) ON DELETE CASCADE,
    attempt_id      bigint      REFERENCES tuku.attempts (id) ON DELETE CASCADE,
    attempt         integer     NOT NULL,
    -- `submit` (the job's own call) or `reconcile` (RetrieveStatus after an ambiguous outcome).
    purpose         text        NOT NULL,
    -- The URL called (never with credentials) and the SOAP action.
    endpoint        text        NOT NULL,
    action          text        NOT NULL,
    started_at      timestamptz NOT NULL,
    latency_ms      double precision,
    -- NULL when no HTTP response arrived; then transport_error says why.
    http_status     integer,
    transport_error text,
    -- Every IRD status message: [{"code": 0, "message": "...", "description": "..."}].
    gateway_status  jsonb       NOT NULL DEFAULT '[]'::jsonb,
    -- A SOAP fault, when the gateway answered with one: {"code": ..., "reason": ...}.
    fault           jsonb,
    gateway_id      text,
    submission_key  bigint,
    -- What Tuku made of the answer: succeeded, retry, reauthorize, throttled, outcome_unknown, rejected, ...
    outcome         text        NOT NULL,
    -- The envelope as sent (credentials travel in headers and are never stored) and the reply. Personal and
    -- tax data: removed after the retention period, the metadata above is kept.
    request_body    text,
    response_body   text,
    bodies_removed_at timestamptz,

    CONSTRAINT exchanges_purpose_valid CHECK (purpose IN ('submit', 'reconcile')),
    CONSTRAINT exchanges_answered_or_failed CHECK (http_status IS NOT NULL OR transport_error IS NOT NULL)
);

CREATE INDEX exchanges_job_idx ON tuku.exchanges (job_id, id);

COMMENT ON TABLE tuku.exchanges IS 'Append-only: every gateway call made for a job, with HTTP status, IRD status codes and bodies.';

-- ---------------------------------------------------------------------------------------------------
-- OAuth token sets. Tokens are sealed with AES-GCM by the workers (key from a file or the environment,
-- never from the database): these columns hold nonce || ciphertext || tag, never a usable token.
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE tuku.oauth_tokens (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- A label for the token set, e.g. the myIR user it was issued to.
    name                text        NOT NULL UNIQUE,
    access_token        bytea       NOT NULL,
    access_expires_at   timestamptz NOT NULL,
    -- NULL when the set cannot be refreshed (desktop clients get no refresh token; or the family was lost).
    refresh_token       bytea,
    -- Which encryption key sealed the tokens (for key rotation).
    key_id              text        NOT NULL,
    -- Bumped on every refresh: a worker that saw generation N fail refreshes only if N is still current.
    generation          bigint      NOT NULL DEFAULT 1,
    refreshed_at        timestamptz,
    -- Set when the gateway refused the refresh token: a person must authorise again (tuku tokens load).
    needs_authorisation_since timestamptz,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT oauth_tokens_name_not_empty CHECK (name <> '')
);

-- The tenants (employers) each token set may act for.
CREATE TABLE tuku.oauth_token_tenants (
    token_id bigint NOT NULL REFERENCES tuku.oauth_tokens (id) ON DELETE CASCADE,
    tenant   text   NOT NULL,
    PRIMARY KEY (tenant, token_id)
);
