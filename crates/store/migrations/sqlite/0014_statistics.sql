-- Indicators and public statistics (issue 16).

-- The state each case version was in, so that time in each state and the state on a past day are
-- aggregated without parsing every version's JSON on every read. Computed from the content, so
-- no write path has to keep it in step; covered by an index with the columns the reads need.
ALTER TABLE case_versions ADD COLUMN state TEXT GENERATED ALWAYS AS (json_extract(content, '$.state')) VIRTUAL;
CREATE INDEX case_versions_state ON case_versions (case_id, version, state, changed_at);

-- Public statistics as published: `content` is the published tables (suppressed and rounded) as
-- JSON, kept as written so that the public page shows exactly what was published.
CREATE TABLE statistics_snapshots (
    id           BLOB NOT NULL PRIMARY KEY,
    published_at TEXT NOT NULL,
    published_by BLOB NOT NULL REFERENCES users (id),
    -- The moment the figures describe: `published_at` minus the publication lag.
    as_of        TEXT NOT NULL,
    lag_days     INTEGER NOT NULL,
    content      TEXT NOT NULL
) STRICT;
CREATE INDEX statistics_snapshots_published ON statistics_snapshots (published_at);
