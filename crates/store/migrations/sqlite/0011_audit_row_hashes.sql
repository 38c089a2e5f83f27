-- The audit chain now carries the hash of every record, record version, case and case version an
-- entry writes. Rows written before this migration have no such entry: the store lists them, once,
-- in `audit.rows_adopted` entries right after migrating (while `pending` is 1), so that `audit
-- verify` can check them from then on. One row.
CREATE TABLE audit_row_adoption (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    pending INTEGER NOT NULL
) STRICT;
INSERT INTO audit_row_adoption (id, pending) VALUES (1, 1);
