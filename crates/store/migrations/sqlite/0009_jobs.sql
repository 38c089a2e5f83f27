-- A job queue in the database: follow-up work a commit promises (matching after an import or a
-- record change, and later exports or re-scoring) is written in the same transaction as the change
-- and its audit entry, and done at least once by any server, even after a crash.

CREATE TABLE jobs (
    id              BLOB NOT NULL PRIMARY KEY,
    kind            TEXT NOT NULL,
    -- What the job works on, as JSON (record ids, who asked, the audit action that asked).
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    -- Not claimed before this time: the backoff after a failed attempt.
    run_after       TEXT NOT NULL,
    -- The lease of the worker running it: after `locked_until` another worker takes it over.
    locked_by       TEXT,
    locked_until    TEXT,
    -- A stable code and a message of the last failure.
    last_error_code TEXT,
    last_error      TEXT,
    progress_done   INTEGER NOT NULL DEFAULT 0,
    progress_total  INTEGER NOT NULL DEFAULT 0,
    -- Asking twice for the same work (a retried request, a startup check) enqueues it once.
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX jobs_claim ON jobs (state, run_after);
CREATE INDEX jobs_created ON jobs (created_at, id);

-- The version of the record its matching last ran on. NULL or below `version`: matching is owed
-- (a crash between the commit and its job, or records filed before the queue existed); the
-- startup check enqueues those.
ALTER TABLE records ADD COLUMN matched_version INTEGER;
CREATE INDEX records_match_owed ON records (id)
    WHERE deleted_at IS NULL AND (matched_version IS NULL OR matched_version < version);
