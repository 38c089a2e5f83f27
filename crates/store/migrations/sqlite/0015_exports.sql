-- Exports: files of records a party asked for, made by an `export.run` job, kept encrypted in the
-- data directory until `expires_at`, every download counted here and audited in the log.

CREATE TABLE exports (
    id              BLOB NOT NULL PRIMARY KEY,
    party_id        BLOB NOT NULL REFERENCES parties (id),
    requested_by    BLOB NOT NULL REFERENCES users (id),
    -- What is exported (`records`), in which format (`csv`, `xlsx`, `json`).
    subject         TEXT NOT NULL,
    format          TEXT NOT NULL,
    -- The chosen columns and filters, as JSON (filters by kind, sex and birth year only: no
    -- names, so that this table holds no personal data).
    columns         TEXT NOT NULL,
    filters         TEXT NOT NULL,
    -- Zipped with AES-256 under a password that is never stored.
    protected       INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired')),
    progress_done   INTEGER NOT NULL DEFAULT 0,
    progress_total  INTEGER NOT NULL DEFAULT 0,
    -- The encrypted file (a blob under the data directory's attachments/exports/), once made.
    file_sha256     TEXT,
    file_size       INTEGER,
    error_code      TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT,
    expires_at      TEXT NOT NULL,
    downloads       INTEGER NOT NULL DEFAULT 0,
    last_downloaded_at TEXT
) STRICT;
CREATE INDEX exports_party ON exports (party_id, created_at);
CREATE INDEX exports_expiry ON exports (state, expires_at);
