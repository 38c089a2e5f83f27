-- Issue 13 (an import of 400,000 records against 20,000 stored, matching included): the
-- block-key lookups of an import's matching join each key to its record, to leave out deleted
-- records (and, for duplicates, those of other parties). `deleted_at` comes after `content` in a
-- record's row, so each join read the record's JSON, overflow pages and all: 27 of the 49 s spent
-- in SQL at 20k × 100k. This covering partial index (live records and their party) answers the
-- join without reading the row.
CREATE INDEX records_live ON records (id, party_id, deleted_at) WHERE deleted_at IS NULL;

-- Blocking keys without a rowid: the table is its primary key, one B-tree fewer written per key
-- (an import writes about six keys per record).
CREATE TABLE record_block_keys_new (
    record_id BLOB NOT NULL REFERENCES records (id),
    -- A copy of the record's kind: a lookup then reads only the other side's keys, however many
    -- records of its own side share them.
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (record_id, key)
) STRICT, WITHOUT ROWID;
INSERT INTO record_block_keys_new (record_id, kind, key)
    SELECT record_id, kind, key FROM record_block_keys;
DROP TABLE record_block_keys;
ALTER TABLE record_block_keys_new RENAME TO record_block_keys;
CREATE INDEX record_block_keys_key ON record_block_keys (kind, key);
