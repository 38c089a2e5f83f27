-- Uploads the import page holds between its steps (mapping, checking, confirming), so that any
-- app server can take the next step: nothing about an upload lives in one server's memory.
-- `session_hash` is the SHA-256 of the session that uploaded it (never the session itself);
-- `content` is dropped once the file is imported, and every row goes at `expires_at`.
CREATE TABLE import_staging (
    token        TEXT NOT NULL PRIMARY KEY,
    session_hash TEXT NOT NULL,
    filename     TEXT NOT NULL,
    preset       TEXT NOT NULL,
    content      BLOB,
    size         INTEGER NOT NULL,
    stage        TEXT NOT NULL,
    outcome      TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;
CREATE INDEX import_staging_session ON import_staging (session_hash, created_at);
CREATE INDEX import_staging_expiry ON import_staging (expires_at);
