-- Duplicates within one party: the same child filed twice by the same side. Pairs are found like
-- matches (same blocking keys, same linkage model), decided by a person, and a merge keeps both
-- records and both histories: the absorbed record is deleted with `merged_into` pointing at the
-- survivor, and each side of the merge has a `merge` version naming the other.

ALTER TABLE records ADD COLUMN merged_into BLOB REFERENCES records (id);
-- On a `merge` version: the other record of the merge.
ALTER TABLE record_versions ADD COLUMN merged_record BLOB;

CREATE TABLE duplicate_candidates (
    id               BLOB NOT NULL PRIMARY KEY,
    -- Both records' party and kind (a pair never spans parties or kinds): the scope of a listing.
    party_id         BLOB NOT NULL REFERENCES parties (id),
    kind             TEXT NOT NULL,
    -- The pair in canonical order, smaller id first, so that it is stored once whichever of the
    -- two records found the other.
    first_record_id  BLOB NOT NULL REFERENCES records (id),
    second_record_id BLOB NOT NULL REFERENCES records (id),
    probability      REAL NOT NULL,
    match_weight     REAL NOT NULL,
    -- The linkage engine's field-by-field explanation, first record on the left, as JSON.
    explanation      TEXT NOT NULL,
    model_version    TEXT NOT NULL,
    -- pending, dismissed (not the same child), merged, or closed (one record was merged away in
    -- another pair, so this one has nothing left to decide).
    status           TEXT NOT NULL,
    decided_by       BLOB,
    decided_at       TEXT,
    reason           TEXT,
    -- After a merge: the record that survived.
    survivor_id      BLOB,
    created_at       TEXT NOT NULL,
    CHECK (first_record_id < second_record_id),
    -- A pair is scored once: a dismissed pair never comes back.
    UNIQUE (first_record_id, second_record_id)
) STRICT;
CREATE INDEX duplicate_candidates_queue ON duplicate_candidates (status, party_id, probability DESC, id);
CREATE INDEX duplicate_candidates_second ON duplicate_candidates (second_record_id);
