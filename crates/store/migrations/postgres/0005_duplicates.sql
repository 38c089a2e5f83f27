-- Duplicates within one party: the same tables and columns as the SQLite migration.

ALTER TABLE records ADD COLUMN merged_into UUID REFERENCES records (id);
ALTER TABLE record_versions ADD COLUMN merged_record UUID;

CREATE TABLE duplicate_candidates (
    id               UUID PRIMARY KEY,
    party_id         UUID NOT NULL REFERENCES parties (id),
    kind             TEXT NOT NULL,
    first_record_id  UUID NOT NULL REFERENCES records (id),
    second_record_id UUID NOT NULL REFERENCES records (id),
    probability      DOUBLE PRECISION NOT NULL,
    match_weight     DOUBLE PRECISION NOT NULL,
    -- TEXT, not JSONB: handed back exactly as the engine wrote it.
    explanation      TEXT NOT NULL,
    model_version    TEXT NOT NULL,
    status           TEXT NOT NULL,
    decided_by       UUID,
    decided_at       TIMESTAMPTZ,
    reason           TEXT,
    survivor_id      UUID,
    created_at       TIMESTAMPTZ NOT NULL,
    -- UUIDs compare bytewise, as SQLite compares its BLOBs and Rust its Uuids.
    CHECK (first_record_id < second_record_id),
    UNIQUE (first_record_id, second_record_id)
);
CREATE INDEX duplicate_candidates_queue ON duplicate_candidates (status, party_id, probability DESC, id);
CREATE INDEX duplicate_candidates_second ON duplicate_candidates (second_record_id);
