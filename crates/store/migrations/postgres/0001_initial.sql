-- Homeward's schema on PostgreSQL: the same tables and columns as the SQLite migration.

CREATE TABLE parties (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    party_id      UUID NOT NULL REFERENCES parties (id),
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    -- Role codes separated by commas, e.g. `admin,viewer`.
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret   TEXT,
    totp_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_party ON users (party_id);

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

CREATE TABLE sessions (
    token_hash          TEXT PRIMARY KEY,
    user_id             UUID NOT NULL REFERENCES users (id),
    csrf_token          TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    absolute_expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The current version of each child record. `content` is the whole RecordDraft; the columns beside
-- it are copies of the fields list filters need, so filters can use indexes.
CREATE TABLE records (
    id              UUID PRIMARY KEY,
    party_id        UUID NOT NULL REFERENCES parties (id),
    kind            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    content         JSONB NOT NULL,
    search_key      TEXT NOT NULL,
    sex             TEXT NOT NULL,
    birth_year      INTEGER,
    external_ref    TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      UUID NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    updated_by      UUID NOT NULL,
    deleted_at      TIMESTAMPTZ,
    deleted_by      UUID,
    deletion_reason TEXT
);
CREATE INDEX records_party ON records (party_id, id);
CREATE INDEX records_kind ON records (kind, id);
CREATE INDEX records_external_ref ON records (external_ref);

CREATE TABLE record_versions (
    record_id  UUID NOT NULL REFERENCES records (id),
    version    BIGINT NOT NULL,
    content    JSONB NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    changed_by UUID NOT NULL,
    change     TEXT NOT NULL,
    -- Why the record was deleted, on the `delete` version.
    reason     TEXT,
    PRIMARY KEY (record_id, version)
);

-- The audit hash chain. `details` is TEXT, never JSONB: the hash covers its exact bytes, and JSONB
-- would reorder keys and reformat numbers.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_user  UUID,
    actor_party UUID,
    action      TEXT NOT NULL,
    target_kind TEXT,
    target_id   TEXT,
    source      TEXT,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_target ON audit_log (target_id, seq);

-- The end of the chain, kept apart from the log so that removing entries from the end is caught.
-- Every append locks this row (SELECT … FOR UPDATE), which serialises appends across app servers.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
