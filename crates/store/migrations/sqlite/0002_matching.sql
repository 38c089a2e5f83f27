-- Matching on stored records: candidate pairs for the mediator's reviewers, the blocking keys that
-- let one new record find its candidates without re-running the whole linkage, cases, and the
-- trained linkage model.

CREATE TABLE match_candidates (
    id                BLOB NOT NULL PRIMARY KEY,
    tracing_record_id BLOB NOT NULL REFERENCES records (id),
    custody_record_id BLOB NOT NULL REFERENCES records (id),
    probability       REAL NOT NULL,
    match_weight      REAL NOT NULL,
    -- The linkage engine's field-by-field explanation, as JSON.
    explanation       TEXT NOT NULL,
    model_version     TEXT NOT NULL,
    -- pending, confirmed or rejected.
    status            TEXT NOT NULL,
    -- The reviewer who confirmed or rejected it (with four eyes: who confirmed first).
    decided_by        BLOB,
    decided_at        TEXT,
    reason            TEXT,
    -- With four eyes: the second, different reviewer whose confirmation completed it.
    second_reviewer   BLOB,
    second_decided_at TEXT,
    case_id           BLOB,
    created_at        TEXT NOT NULL,
    -- A pair is scored once: a rejected pair never comes back, a confirmed one is not re-queued.
    UNIQUE (tracing_record_id, custody_record_id)
) STRICT;
CREATE INDEX match_candidates_queue ON match_candidates (status, probability DESC, id);
CREATE INDEX match_candidates_custody ON match_candidates (custody_record_id);

-- Blocking keys per record: a record's candidates are the records of the other side sharing a key.
CREATE TABLE record_block_keys (
    record_id BLOB NOT NULL REFERENCES records (id),
    -- A copy of the record's kind: a lookup then reads only the other side's keys, however many
    -- records of its own side share them.
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (record_id, key)
) STRICT;
CREATE INDEX record_block_keys_key ON record_block_keys (kind, key);

-- `content` is the domain Case as JSON; `state` and the record ids are copies for queries.
CREATE TABLE cases (
    id                BLOB NOT NULL PRIMARY KEY,
    tracing_record_id BLOB REFERENCES records (id),
    custody_record_id BLOB REFERENCES records (id),
    state             TEXT NOT NULL,
    content           TEXT NOT NULL,
    version           INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX cases_tracing ON cases (tracing_record_id);
CREATE INDEX cases_custody ON cases (custody_record_id);

-- The linkage model the incremental matching scores with; one row, replaced on training.
CREATE TABLE linkage_model (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    model      TEXT NOT NULL,
    trained_at TEXT NOT NULL
) STRICT;
