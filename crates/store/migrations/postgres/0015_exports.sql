-- Exports: the same table and columns as the SQLite migration.

CREATE TABLE exports (
    id              UUID PRIMARY KEY,
    party_id        UUID NOT NULL REFERENCES parties (id),
    requested_by    UUID NOT NULL REFERENCES users (id),
    subject         TEXT NOT NULL,
    format          TEXT NOT NULL,
    columns         TEXT NOT NULL,
    filters         TEXT NOT NULL,
    protected       BOOLEAN NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired')),
    progress_done   BIGINT NOT NULL DEFAULT 0,
    progress_total  BIGINT NOT NULL DEFAULT 0,
    file_sha256     TEXT,
    file_size       BIGINT,
    error_code      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ NOT NULL,
    downloads       INTEGER NOT NULL DEFAULT 0,
    last_downloaded_at TIMESTAMPTZ
);
CREATE INDEX exports_party ON exports (party_id, created_at);
CREATE INDEX exports_expiry ON exports (state, expires_at);
