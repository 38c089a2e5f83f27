-- Homeward's schema on SQLite. The PostgreSQL migration has the same tables and columns; only the
-- types differ (ids are 16-byte BLOBs here, timestamps RFC 3339 TEXT, JSON TEXT, booleans 0/1).
-- STRICT makes SQLite refuse a value of the wrong type instead of silently storing it.

CREATE TABLE parties (
    id          BLOB NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id            BLOB NOT NULL PRIMARY KEY,
    party_id      BLOB NOT NULL REFERENCES parties (id),
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    -- Role codes separated by commas, e.g. `admin,viewer`.
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret   TEXT,
    totp_enabled  INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX users_party ON users (party_id);

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  TEXT NOT NULL
) STRICT;
CREATE INDEX login_failures_key_at ON login_failures (key, at);

CREATE TABLE sessions (
    token_hash          TEXT NOT NULL PRIMARY KEY,
    user_id             BLOB NOT NULL REFERENCES users (id),
    csrf_token          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    absolute_expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BLOB NOT NULL PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The current version of each child record. `content` is the whole RecordDraft as JSON; the
-- columns beside it are copies of the fields list filters need, so filters can use indexes.
CREATE TABLE records (
    id              BLOB NOT NULL PRIMARY KEY,
    party_id        BLOB NOT NULL REFERENCES parties (id),
    kind            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    content         TEXT NOT NULL,
    search_key      TEXT NOT NULL,
    sex             TEXT NOT NULL,
    birth_year      INTEGER,
    external_ref    TEXT,
    created_at      TEXT NOT NULL,
    created_by      BLOB NOT NULL,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB NOT NULL,
    deleted_at      TEXT,
    deleted_by      BLOB,
    deletion_reason TEXT
) STRICT;
CREATE INDEX records_party ON records (party_id, id);
CREATE INDEX records_kind ON records (kind, id);
CREATE INDEX records_external_ref ON records (external_ref);

CREATE TABLE record_versions (
    record_id  BLOB NOT NULL REFERENCES records (id),
    version    INTEGER NOT NULL,
    content    TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by BLOB NOT NULL,
    change     TEXT NOT NULL,
    -- Why the record was deleted, on the `delete` version.
    reason     TEXT,
    PRIMARY KEY (record_id, version)
) STRICT;

-- The audit hash chain. `details` is TEXT, never JSON: the hash covers its exact bytes.
CREATE TABLE audit_log (
    seq         INTEGER NOT NULL PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_user  BLOB,
    actor_party BLOB,
    action      TEXT NOT NULL,
    target_kind TEXT,
    target_id   TEXT,
    source      TEXT,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_target ON audit_log (target_id, seq);

-- The end of the chain, kept apart from the log so that removing entries from the end is caught.
CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
