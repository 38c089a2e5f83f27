-- Each committed import's fingerprint: the same tables and columns as the SQLite migration.
CREATE TABLE imports (
    id          UUID PRIMARY KEY,
    party_id    UUID NOT NULL REFERENCES parties (id),
    kind        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported    BIGINT NOT NULL,
    forced      BOOLEAN NOT NULL,
    created_by  UUID NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX imports_fingerprint ON imports (party_id, sha256, created_at);
