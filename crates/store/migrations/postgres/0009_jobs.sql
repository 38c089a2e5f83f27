-- The job queue: the same tables and columns as the SQLite migration.

CREATE TABLE jobs (
    id              UUID PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    run_after       TIMESTAMPTZ NOT NULL,
    locked_by       TEXT,
    locked_until    TIMESTAMPTZ,
    last_error_code TEXT,
    last_error      TEXT,
    progress_done   BIGINT NOT NULL DEFAULT 0,
    progress_total  BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_claim ON jobs (state, run_after);
CREATE INDEX jobs_created ON jobs (created_at, id);

ALTER TABLE records ADD COLUMN matched_version BIGINT;
CREATE INDEX records_match_owed ON records (id)
    WHERE deleted_at IS NULL AND (matched_version IS NULL OR matched_version < version);
