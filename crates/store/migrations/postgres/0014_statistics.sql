-- Indicators and public statistics (issue 16): the same tables and columns as the SQLite migration.

ALTER TABLE case_versions ADD COLUMN state TEXT GENERATED ALWAYS AS (content ->> 'state') STORED;
CREATE INDEX case_versions_state ON case_versions (case_id, version, state, changed_at);

CREATE TABLE statistics_snapshots (
    id           UUID PRIMARY KEY,
    published_at TIMESTAMPTZ NOT NULL,
    published_by UUID NOT NULL REFERENCES users (id),
    as_of        TIMESTAMPTZ NOT NULL,
    lag_days     INTEGER NOT NULL,
    content      TEXT NOT NULL
);
CREATE INDEX statistics_snapshots_published ON statistics_snapshots (published_at);
