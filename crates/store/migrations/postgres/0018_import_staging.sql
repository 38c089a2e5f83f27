-- Uploads the import page holds between its steps: the same table as the SQLite migration.
CREATE TABLE import_staging (
    token        TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    filename     TEXT NOT NULL,
    preset       TEXT NOT NULL,
    content      BYTEA,
    size         BIGINT NOT NULL,
    stage        TEXT NOT NULL,
    outcome      TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX import_staging_session ON import_staging (session_hash, created_at);
CREATE INDEX import_staging_expiry ON import_staging (expires_at);
