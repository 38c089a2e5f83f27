-- Matching on stored records: the same tables and columns as the SQLite migration.

CREATE TABLE match_candidates (
    id                UUID PRIMARY KEY,
    tracing_record_id UUID NOT NULL REFERENCES records (id),
    custody_record_id UUID NOT NULL REFERENCES records (id),
    probability       DOUBLE PRECISION NOT NULL,
    match_weight      DOUBLE PRECISION NOT NULL,
    -- TEXT, not JSONB: handed back exactly as the engine wrote it.
    explanation       TEXT NOT NULL,
    model_version     TEXT NOT NULL,
    status            TEXT NOT NULL,
    decided_by        UUID,
    decided_at        TIMESTAMPTZ,
    reason            TEXT,
    second_reviewer   UUID,
    second_decided_at TIMESTAMPTZ,
    case_id           UUID,
    created_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (tracing_record_id, custody_record_id)
);
CREATE INDEX match_candidates_queue ON match_candidates (status, probability DESC, id);
CREATE INDEX match_candidates_custody ON match_candidates (custody_record_id);

CREATE TABLE record_block_keys (
    record_id UUID NOT NULL REFERENCES records (id),
    -- A copy of the record's kind: a lookup then reads only the other side's keys, however many
    -- records of its own side share them.
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (record_id, key)
);
CREATE INDEX record_block_keys_key ON record_block_keys (kind, key);

CREATE TABLE cases (
    id                UUID PRIMARY KEY,
    tracing_record_id UUID REFERENCES records (id),
    custody_record_id UUID REFERENCES records (id),
    state             TEXT NOT NULL,
    content           JSONB NOT NULL,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX cases_tracing ON cases (tracing_record_id);
CREATE INDEX cases_custody ON cases (custody_record_id);

CREATE TABLE linkage_model (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    model      TEXT NOT NULL,
    trained_at TIMESTAMPTZ NOT NULL
);
