-- How the stored derived keys (records.search_key, record_block_keys) were computed: a label of
-- the code that computed them. When the code computes them differently, `homeward migrate`
-- recomputes them for every record and stores the new label. One row at most.
CREATE TABLE derived_keys (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL
);

-- Deleted records are few: counting the review queue subtracts the pairs that involve one, found
-- from this small index rather than by checking every pending pair.
CREATE INDEX records_deleted ON records (id) WHERE deleted_at IS NOT NULL;
